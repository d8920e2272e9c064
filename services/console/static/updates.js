// The update page: resumable chunked upload of a .boxupdate (the same
// rules as boxctl: begin with the size, send chunks at the offset the box
// stands at, after a failed chunk ask the box where to resume), then apply
// and follow the progress through /updates/status.json.
"use strict";
(function () {
  var form = document.getElementById("upload-form");
  if (!form) return;
  var csrf = form.querySelector("input[name=csrf]").value;
  var $ = function (id) { return document.getElementById(id); };
  var phases = { verify: "Checking signatures and payloads", write: "Writing the inactive system", readback: "Reading back what was written", done: "Marking it for a trial boot" };

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  async function call(method, url, body, type) {
    var headers = { "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = type || "application/json";
    var r = await fetch(url, { method: method, headers: headers, body: body, credentials: "same-origin" });
    var j = null;
    try { j = await r.json(); } catch (e) { /* not JSON */ }
    return { status: r.status, body: j };
  }

  function showUpload(done, total, note) {
    $("upload-live").hidden = false;
    $("upload-progress").value = total ? Math.floor(done * 100 / total) : 0;
    $("upload-text").textContent = "Uploading: " + Math.floor(done * 100 / Math.max(total, 1)) + "% (" + done + " of " + total + " bytes)" + (note || "");
  }

  async function upload(file) {
    var chunk = parseInt(form.getAttribute("data-chunk"), 10) || 4 << 20;
    var r = await call("POST", "/updates/uploads", JSON.stringify({ size: file.size, name: file.name }));
    if (r.status !== 201) throw new Error((r.body && r.body.error) || "the box refused the upload (HTTP " + r.status + ")");
    var up = r.body, failures = 0;
    showUpload(0, up.size);
    while (up.received < up.size) {
      var end = Math.min(up.received + chunk, up.size), res;
      try {
        res = await call("POST", "/updates/uploads/" + up.id + "?offset=" + up.received, file.slice(up.received, end), "application/octet-stream");
      } catch (e) {
        res = { status: 0, body: null };
      }
      if (res.status === 200 || (res.status === 409 && res.body)) {
        up = res.body; // 409: the box says where it stands
        failures = 0;
        showUpload(up.received, up.size);
        continue;
      }
      if (++failures > 8) throw new Error("the upload keeps failing (HTTP " + res.status + "); try again");
      showUpload(up.received, up.size, " — connection problem, resuming…");
      await sleep(300 * failures);
      var st = await call("GET", "/updates/uploads/" + up.id);
      if (st.status === 200) up = st.body;
    }
    return up.id;
  }

  function showOutcome(last) {
    $("apply-live").hidden = true;
    if (!last) return;
    if (last.ok) {
      $("update-error").hidden = true;
      $("update-ok").textContent = last.version + " is written to slot " + last.slot + ". Restart the box to run it on trial.";
      $("update-ok").hidden = false;
      $("reboot-form").hidden = false;
    } else {
      $("update-ok").hidden = true;
      $("update-error").textContent = "The update was refused: " + last.reason;
      $("update-error").hidden = false;
    }
  }

  // follow polls the status until the apply that started after since ends.
  async function follow(since) {
    $("apply-live").hidden = false;
    for (;;) {
      var r = await call("GET", "/updates/status.json");
      var st = r.body || {};
      if (st.applying) {
        var p = st.applying;
        $("apply-text").textContent = (phases[p.phase] || p.phase) + "…";
        $("apply-progress").value = p.total ? Math.floor(p.done * 100 / p.total) : 0;
      } else if (st.last && st.last.at !== since) {
        showOutcome(st.last);
        return;
      }
      await sleep(400);
    }
  }

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    var file = $("update-file").files[0];
    if (!file) return;
    var button = $("upload-apply");
    button.disabled = true;
    $("update-error").hidden = true;
    $("update-ok").hidden = true;
    try {
      var before = (await call("GET", "/updates/status.json")).body || {};
      var since = before.last ? before.last.at : null;
      var id = await upload(file);
      $("upload-text").textContent = "Uploaded " + file.size + " bytes.";
      var r = await call("POST", "/updates/uploads/" + id + "/apply");
      if (r.status !== 202) throw new Error((r.body && r.body.error) || "the box did not start the update (HTTP " + r.status + ")");
      await follow(since);
    } catch (err) {
      $("update-error").textContent = "The update failed: " + err.message;
      $("update-error").hidden = false;
      $("apply-live").hidden = true;
    } finally {
      button.disabled = false;
    }
  });

  // An apply already running (an offer applied from the list): follow it.
  if (!$("apply-live").hidden) {
    call("GET", "/updates/status.json").then(function (r) {
      var st = r.body || {};
      follow(st.last ? st.last.at : null);
    });
  }
})();
