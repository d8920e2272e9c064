// Browser end-to-end test of the ChatSecure Box console.
//
// Driven by services/console/browser_test.go (go test -tags browser), which
// starts the console in process with fakes and passes:
//   BOX_URL            https://127.0.0.1:PORT
//   BOX_SETUP_CODE     the box's one-time setup code
//   BOX_RECOVERY_CODE  what the emergency kit must show
//   E2E_OUT            where screenshots and the saved kit go
// Exit code 0 means every step passed.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");
const { PNG } = require("pngjs");
const jsQR = require("jsqr");

const base = process.env.BOX_URL;
const setupCode = process.env.BOX_SETUP_CODE;
const recoveryCode = process.env.BOX_RECOVERY_CODE;
const out = process.env.E2E_OUT || "build/console-e2e";
const badBundle = process.env.BOX_BUNDLE_BAD;   // optional: the update steps run when both are set
const goodBundle = process.env.BOX_BUNDLE_GOOD;  // version 2.0.0, to slot B
if (!base || !setupCode || !recoveryCode) {
  console.error("BOX_URL, BOX_SETUP_CODE and BOX_RECOVERY_CODE are required");
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

const adminPassword = "a long admin password";
const carolPassword = "carol's long password";

function check(cond, msg) {
  if (!cond) throw new Error("check failed: " + msg);
  console.log("ok   " + msg);
}

function decodeQR(pngBuffer) {
  const png = PNG.sync.read(pngBuffer);
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return code ? code.data : null;
}

let shot = 0;
async function snap(page, name) {
  shot++;
  const file = path.join(out, String(shot).padStart(2, "0") + "-" + name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  console.log("shot " + file);
}

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "box-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
    ignoreHTTPSErrors: true, // the box's self-signed certificate
    acceptDownloads: true,
    viewport: { width: 1280, height: 860 },
  });
  const problems = [];
  const origin = new URL(base).origin;
  context.on("page", watch);
  function watch(p) {
    // Error statuses the test provokes on purpose (wrong code 403, wrong
    // password 401, spent invite 404, a dropped upload chunk 400 and the
    // resend at a stale offset 409) show up as "Failed to load resource";
    // anything else (a CSP refusal, a script error) is a problem.
    p.on("console", (m) => {
      if (m.type() === "error" && !/^Failed to load resource: the server responded with a status of 40[01349]/.test(m.text())) problems.push("console: " + m.text());
    });
    p.on("pageerror", (e) => problems.push("page error: " + e.message));
    p.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith(origin) && !u.startsWith("data:")) problems.push("third-party request: " + u);
    });
    p.on("dialog", (d) => d.accept());
  }
  try {
    const page = context.pages()[0] || (await context.newPage());
    if (context.pages().length === 1) watch(page);

    // 1. An unclaimed box sends the visitor to the claim page.
    await page.goto(base + "/");
    check(new URL(page.url()).pathname === "/setup", "unclaimed box redirects to /setup");
    const hsts = (await page.request.get(base + "/setup")).headers()["strict-transport-security"];
    check(!!hsts, "HSTS header present");
    await snap(page, "setup");

    // A wrong code is refused.
    await page.fill("#code", "WRON-GCOD-EWRO-NGGG");
    await page.fill("#username", "ada");
    await page.fill("#display_name", "Ada Lovelace");
    await page.fill("#password", adminPassword);
    await page.fill("#password2", adminPassword);
    await page.click("#claim");
    check((await page.textContent(".banner.err")).includes("not right"), "wrong setup code refused");

    // 2. Claim with the setup code.
    await page.fill("#code", setupCode);
    await page.fill("#password", adminPassword);
    await page.fill("#password2", adminPassword);
    await Promise.all([page.waitForURL("**/setup/kit"), page.click("#claim")]);
    check((await page.textContent("#recovery-code")).trim() === recoveryCode, "emergency kit shows the recovery code");
    await snap(page, "emergency-kit");
    await page.emulateMedia({ media: "print" });
    await snap(page, "emergency-kit-print");
    await page.pdf({ path: path.join(out, "emergency-kit.pdf"), format: "A4" });
    await page.emulateMedia({ media: "screen" });

    // 3. Save the emergency kit.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-kit")]);
    const kitFile = path.join(out, "emergency-kit.txt");
    await download.saveAs(kitFile);
    check(fs.readFileSync(kitFile, "utf8").includes(recoveryCode), "saved kit file holds the recovery code");
    await page.check("#saved");
    await Promise.all([page.waitForURL((u) => u.pathname === "/"), page.click("#confirm-kit")]);
    check((await page.textContent(".banner.ok")).includes("Recovery code confirmed"), "recovery code confirmed");
    check((await page.textContent("#state")).trim() === "running", "dashboard shows the state");
    await snap(page, "dashboard");

    // 4. Sign out, then sign in.
    await Promise.all([page.waitForURL("**/login**"), page.click("#logout")]);
    await snap(page, "login");
    await page.fill("#username", "ada");
    await page.fill("#password", "not the password");
    await page.click("#signin");
    check((await page.textContent(".banner.err")).includes("Wrong"), "wrong password refused");
    await page.fill("#password", adminPassword);
    await Promise.all([page.waitForURL((u) => u.pathname === "/"), page.click("#signin")]);
    check((await page.textContent(".me .who strong")).includes("Ada Lovelace"), "signed in as Ada");

    // 5. Create a user.
    await page.goto(base + "/people");
    await page.fill("#new-username", "bob");
    await page.fill("#new-display-name", "Bob Builder");
    await page.selectOption("#new-role", "user");
    await page.click("#add-person");
    const resetLink = await page.inputValue("#reset-link");
    check(resetLink.startsWith(base + "/reset/"), "new person gets a set-password link");
    check(await page.isVisible('tr[data-user="bob"]'), "bob is listed");
    await snap(page, "people");

    // 6. Create an invite.
    await page.goto(base + "/invites");
    await page.fill("#invite-note", "For Carol in accounting");
    await page.click("#create-invite");
    check((await page.textContent(".banner.ok")).includes("Invite created"), "invite created");
    const link = await page.inputValue(".invite-link");
    check(link.startsWith(base + "/invite/"), "invite link points at the box: " + link);
    const token = link.split("/invite/")[1];
    await page.waitForFunction(() => [...document.querySelectorAll("img.qr")].every((i) => i.complete && i.naturalWidth > 0));
    await snap(page, "invites");

    // 7. Open the invite page (a fresh visitor, signed out) and decode its QR code.
    const inv = await context.newPage();
    await inv.goto(link);
    await inv.waitForFunction(() => { const i = document.querySelector("#invite-qr"); return i && i.complete && i.naturalWidth > 0; });
    const shown = decodeQR(await inv.locator("#invite-qr").screenshot());
    check(shown === link, "QR code on the invite page (from the screenshot) carries the link: " + shown);
    const served = decodeQR(await (await inv.request.get(base + "/invite/" + token + "/qr.png")).body());
    check(served === link, "QR code PNG served by the box carries the link");
    const href = await inv.getAttribute("#open-app", "href");
    check(href === "xmpp:ada@" + href.split("@")[1].split("?")[0] + "?roster;preauth=" + token + ";ibr=y", "app link is an XEP-0401 pre-auth URI: " + href);
    check((await inv.textContent("h1")).includes("invited"), "invite page greets the invitee");
    await snap(inv, "invite-page");

    // 8. Register through it.
    await inv.fill("#reg-username", "carol");
    await inv.fill("#reg-password", carolPassword);
    await inv.fill("#reg-password2", carolPassword);
    await inv.click("#register");
    const jid = (await inv.textContent("#new-jid")).trim();
    check(jid.startsWith("carol@"), "registered as " + jid);
    await snap(inv, "invite-registered");
    await inv.goto(link);
    check((await inv.textContent("#unavailable")).includes("already been used"), "single-use invite is spent");
    await inv.close();

    // The admin sees the result.
    await page.goto(base + "/people");
    check(await page.isVisible('tr[data-user="carol"]'), "carol is listed");
    await page.goto(base + "/invites");
    check((await page.textContent(".invite")).includes("carol"), "invite shows who joined");
    // Diagnostics bundle: a zip, no recovery code in it.
    await page.goto(base + "/logs");
    const [diag] = await Promise.all([page.waitForEvent("download"), page.click("#diagnostics")]);
    const diagFile = path.join(out, "diagnostics.zip");
    await diag.saveAs(diagFile);
    const zipBytes = fs.readFileSync(diagFile);
    check(zipBytes.subarray(0, 2).toString() === "PK", "diagnostics bundle is a zip");
    check(!zipBytes.includes(Buffer.from(recoveryCode)), "diagnostics bundle has no recovery code");

    for (const [p, name] of [["/audit", "audit"], ["/certificates", "certificates"], ["/logs", "logs"], ["/system", "system"], ["/account", "account"]]) {
      await page.goto(base + p);
      await snap(page, name);
    }
    check((await page.content()).length > 0, "account page");
    await page.goto(base + "/audit");
    const audit = await page.textContent("#audit");
    for (const a of ["box-claimed", "recovery-code-confirmed", "person-added", "invite-created", "invite-redeemed", "login"]) {
      check(audit.includes(a), "audit log has " + a);
    }

    // Bob sets his password from the link and, as a user, sees only his account.
    const bobPage = await context.newPage();
    await context.clearCookies();
    await bobPage.goto(resetLink);
    await snap(bobPage, "set-password");
    await bobPage.fill('input[name="password"]', "bob's long password");
    await bobPage.fill('input[name="password2"]', "bob's long password");
    await bobPage.click('button[type="submit"]');
    check((await bobPage.textContent(".banner.ok")).includes("Your password is set"), "bob set his password");
    await bobPage.goto(base + "/login");
    await bobPage.fill("#username", "bob");
    await bobPage.fill("#password", "bob's long password");
    await Promise.all([bobPage.waitForURL("**/account"), bobPage.click("#signin")]);
    check(!(await bobPage.isVisible('a[href="/people"]')), "a user sees no admin pages");
    check((await bobPage.request.get(base + "/people", { maxRedirects: 0 })).status() === 403, "a user is refused the people page");
    await snap(bobPage, "user-account");
    await Promise.all([bobPage.waitForURL("**/login**"), bobPage.click("#logout")]);
    await bobPage.close();

    // 9. Sign in again as Ada, then sign out; the console is closed again.
    await page.goto(base + "/login");
    await page.fill("#username", "ada");
    await page.fill("#password", adminPassword);
    await Promise.all([page.waitForURL((u) => u.pathname === "/"), page.click("#signin")]);

    // 10. Updates: a refused bundle shows the updater's reason; a good one
    // uploads in 64 KiB chunks (the box drops one; the page resumes from
    // the box's offset), then applies with live progress.
    if (badBundle && goodBundle) {
      await page.goto(base + "/updates");
      check(/\(build \d+\)/.test(await page.textContent("#running-version")), "update page shows the running version and build");
      await page.evaluate(() => document.getElementById("upload-form").setAttribute("data-chunk", "65536"));
      await page.setInputFiles("#update-file", badBundle);
      await page.click("#upload-apply");
      await page.waitForSelector("#update-error:not([hidden])");
      check((await page.textContent("#update-error")).includes("1 valid of threshold 2"), "refused bundle shows the updater's reason: " + (await page.textContent("#update-error")));
      await snap(page, "update-refused");
      await page.setInputFiles("#update-file", goodBundle);
      await page.click("#upload-apply");
      if (process.env.E2E_PACED_APPLY) {
        // Only a paced (fake) apply lasts long enough to watch its phases.
        await page.waitForFunction(() => /Writing the inactive system/.test(document.getElementById("apply-text").textContent));
        check(await page.isVisible("#apply-progress"), "apply progress bar shows while writing");
        await snap(page, "update-applying");
      }
      await page.waitForSelector("#update-ok:not([hidden])", { timeout: 30000 });
      check((await page.textContent("#update-ok")).includes("2.0.0 is written to slot B"), "good bundle applied");
      check((await page.textContent("#upload-text")).includes("Uploaded"), "upload finished: " + (await page.textContent("#upload-text")));
      check(await page.isVisible("#reboot-form"), "a restart is offered");
      await snap(page, "update-applied");
      await page.reload();
      check((await page.textContent("#pending")).includes("2.0.0"), "after reload the page says 2.0.0 waits for a restart");
      const hist = await page.textContent("#update-history");
      check(hist.includes("applied") && hist.includes("refused"), "history lists the refusal and the apply");
    }

    await Promise.all([page.waitForURL("**/login**"), page.click("#logout")]);
    await page.goto(base + "/people");
    check(new URL(page.url()).pathname === "/login", "signed out: /people sends to /login");
    await snap(page, "signed-out");

    check(problems.length === 0, "no console errors, CSP violations or third-party requests" + (problems.length ? ": " + problems.join("; ") : ""));
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then(() => { console.log("PASS"); }, (e) => { console.error("FAIL: " + (e && e.stack || e)); process.exit(1); });
