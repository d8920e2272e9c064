//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/images/progargs"
	"github.com/chatsecure/box/updates/admin"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/trust"
)

// buildRelease builds an amd64 image of the box for release version v; the
// marker file /etc/box/release tells the releases' roots apart.
//
// Every release gets boxinit's trial deadline shortened to trialDeadline
// (through boxinit's own arguments file), so a trial that never commits is
// rebooted within the test's time. boxd is the real one unless boxdPkg
// names a stand-in.
func buildRelease(t *testing.T, ctx context.Context, dir, v, config string, layout images.Layout, boxdPkg ...string) *images.Result {
	t.Helper()
	target, _ := images.LookupTarget("amd64")
	start := time.Now()
	boxd := images.Program{Pkg: "./cmd/boxd", Dest: "/user/boxd", Cgo: true, Args: []string{"-config", "/etc/box/e2e.json"}}
	if len(boxdPkg) > 0 {
		boxd = images.Program{Pkg: boxdPkg[0], Dest: "/user/boxd"}
	}
	res, err := images.Build(ctx, images.Options{
		Target: target, Version: v, Out: filepath.Join(dir, "box-amd64-"+v+".img"),
		Programs: []images.Program{boxd, {Pkg: "./images/testdata/probe", Dest: "/user/probe"}},
		Files: map[string][]byte{
			"/etc/box/e2e.json": []byte(config), "/etc/box/release": []byte(v + "\n"),
			progargs.Path("/gokrazy/init"): []byte("-trial-deadline\n" + trialDeadline.String() + "\n"),
		},
		Layout: layout, ModuleDir: moduleRoot(t),
		WorkDir: filepath.Join(dir, "work-"+v), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("release %s built in %s; root squashfs %d bytes", v, time.Since(start).Round(time.Millisecond), res.RootBytes)
	return res
}

// signedRootBundle makes a .boxupdate of res's root squashfs, signed by the
// dev keys 1 and 2 of updates/trust/testdata (2 of the image's 3).
func signedRootBundle(t *testing.T, res *images.Result, version string, build uint64, out string) {
	t.Helper()
	root, err := os.ReadFile(res.RootSquashfs)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(root)
	m := &bundle.Manifest{Product: bundle.Product, Target: "amd64", Version: version, Build: build, Created: time.Now().UTC(),
		Payloads: []bundle.Payload{{Name: "root", Size: int64(len(root)), SHA256: hex.EncodeToString(sum[:])}}}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, m, nil, nil, []io.Reader{bytes.NewReader(root)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dev1", "dev2"} {
		b, err := os.ReadFile(filepath.Join(moduleRoot(t), "updates/trust/testdata", name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		k, err := trust.ParsePrivate(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := bundle.AddSignature(out, k); err != nil {
			t.Fatal(err)
		}
	}
}

// applyBundle uploads and applies a bundle through boxd's admin API.
func applyBundle(t *testing.T, ctx context.Context, c *admin.Client, path string) {
	t.Helper()
	start := time.Now()
	id, err := c.Upload(ctx, path, "", nil)
	if err != nil {
		t.Fatalf("upload %s: %v", filepath.Base(path), err)
	}
	up := time.Since(start)
	res, err := c.Apply(ctx, id)
	if err != nil {
		t.Fatalf("apply %s: %v", filepath.Base(path), err)
	}
	t.Logf("%s: uploaded in %s, verified and written to slot %s in %s", filepath.Base(path), up.Round(time.Millisecond), res.Slot, (time.Since(start) - up).Round(time.Millisecond))
}

// waitUpdates polls the update status until ok accepts it.
func waitUpdates(t *testing.T, ctx context.Context, c *admin.Client, what string, timeout time.Duration, ok func(admin.StatusReply) bool) admin.StatusReply {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var st admin.StatusReply
	var err error
	for time.Now().Before(deadline) {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		st, err = c.Status(qctx)
		cancel()
		if err == nil && ok(st) {
			return st
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: not within %s: last %+v, %v", what, timeout, st.Slots, err)
	return st
}

// trialDeadline is boxinit's trial deadline in the test images: long
// enough for a healthy trial under TCG (v2 commits about 15 s after the
// boot starts), short enough to keep the hang case quick.
const trialDeadline = 90 * time.Second

// badXMPPConfig makes a release whose boxd never becomes healthy: XMPP
// listens on an address the guest does not have.
const badXMPPConfig = `{"xmpp": {"domain": "box.test", "c2s": "10.255.255.1:5222"}}`

// TestUpdateOnImage: image v1 boots; v2, signed 2 of 3 by the dev keys, is
// uploaded and applied through boxd's admin API onto root B; the reboot
// runs it on trial (gokrazy's try_boot_inactive), boxd's health check
// commits it, the account made on v1 still logs in, and the next boot is v2
// without a trial. Then v3, whose boxd cannot listen for XMPP, is applied:
// its trial fails the health check, boxd abandons it and reboots, and the
// box is back on v2 by itself with the account intact. Last, v4, whose
// boxd hangs on start (never healthy, never commits, never reboots): its
// trial is rebooted by boxinit's deadline, and the box is back on v2
// again.
func TestUpdateOnImage(t *testing.T) {
	testStart := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Minute)
	defer cancel()
	dir := t.TempDir()
	layout := images.DefaultLayout()
	layout.PermBytes = 256 << 20 // store + staged upload of a root bundle
	v1 := buildRelease(t, ctx, dir, "1.0.0", e2eConfig, layout)
	v2 := buildRelease(t, ctx, dir, "2.0.0", e2eConfig, layout)
	b2 := filepath.Join(dir, "v2.boxupdate")
	signedRootBundle(t, v2, "2.0.0", 2, b2)
	v3 := buildRelease(t, ctx, dir, "3.0.0", badXMPPConfig, layout)
	b3 := filepath.Join(dir, "v3.boxupdate")
	signedRootBundle(t, v3, "3.0.0", 3, b3)
	v4 := buildRelease(t, ctx, dir, "4.0.0", e2eConfig, layout, "./images/testdata/hang")
	b4 := filepath.Join(dir, "v4.boxupdate")
	signedRootBundle(t, v4, "4.0.0", 4, b4)

	ports := map[string]int{}
	for _, name := range []string{"probe", "xmpp"} {
		var err error
		if ports[name], err = FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	m := &Machine{Image: v1.Image, Layout: layout, Dir: dir, Fwd: map[int]int{probePort: ports["probe"], 5222: ports["xmpp"]}}
	t.Cleanup(m.Kill)
	g := newGuest(hostPort(ports["probe"]))
	c := &admin.Client{HTTP: g.hc, Base: g.base}
	const user, password = "bob", "update keeps my data"

	_, bs := startAndWait(t, ctx, m, g, 1)
	// qemu has an i6300esb watchdog: gokrazy's init code or boxinit feeds it.
	fed := ""
	for _, l := range []string{"found hardware watchdog", "feeding the hardware watchdog"} {
		if fed == "" {
			fed = serialLine(m.Serial, l)
		}
	}
	if fed == "" {
		dumpSerial(t, m.Serial)
		t.Errorf("boot 1: nothing feeds the hardware watchdog")
	}
	t.Logf("boot 1: watchdog: %s; boxinit: %s", fed, serialLine(m.Serial, "hardware watchdog fed by"))
	if err := g.do(ctx, "POST", "/v1/xmpp/users", map[string]string{"jid": user + "@box.test", "password": password}, nil); err != nil {
		t.Fatalf("boot 1: create account: %v", err)
	}
	st := waitUpdates(t, ctx, c, "boot 1: updates status", 30*time.Second, func(admin.StatusReply) bool { return true })
	if st.Slots.Active != "A" || st.Slots.Booted != "A" {
		t.Fatalf("boot 1: slots %+v", st.Slots)
	}
	applyBundle(t, ctx, c, b2)
	st = waitUpdates(t, ctx, c, "after apply", 10*time.Second, func(admin.StatusReply) bool { return true })
	if st.Slots.Trial != "B" || st.Slots.Slots["B"].Version != "2.0.0" {
		t.Fatalf("after apply: slots %+v", st.Slots)
	}

	reboot(t, m, g, 1)
	trialStart := time.Now()
	_, bs = startAndWait(t, ctx, m, g, 2)
	if err := serialHas(m.Serial, "switching to inactive root partition"); err != nil {
		t.Errorf("boot 2: gokrazy's init did not pivot to the trial root: %v", err)
	}
	st = waitUpdates(t, ctx, c, "boot 2: commit", 3*time.Minute, func(s admin.StatusReply) bool { return s.Slots.Active == "B" })
	t.Logf("boot 2: trial of v2 on slot %s committed %s after the boot started", st.Slots.Booted, time.Since(trialStart).Round(time.Second))
	if st.Slots.Booted != "B" || st.Slots.Trial != "" || st.Running.Version != "2.0.0" || st.Floor != 2 {
		t.Fatalf("boot 2: status %+v", st)
	}
	if err := xmppRoundTrip(ctx, hostPort(ports["xmpp"]), user, password, bs.CertFingerprint); err != nil {
		t.Errorf("boot 2: the account made on v1 does not log in on v2: %v", err)
	}

	reboot(t, m, g, 2)
	_, bs = startAndWait(t, ctx, m, g, 3)
	if err := serialHas(m.Serial, "switching to inactive root partition"); err == nil {
		t.Errorf("boot 3: gokrazy pivoted again after the commit")
	}
	st = waitUpdates(t, ctx, c, "boot 3: status", 30*time.Second, func(admin.StatusReply) bool { return true })
	if st.Slots.Active != "B" || st.Slots.Booted != "B" || st.Slots.Trial != "" {
		t.Fatalf("boot 3: slots %+v", st.Slots)
	}
	raw, err := images.ReadBootFile(m.Image, layout.Partitions()[0].Offset(), "/cmdline.txt")
	if err != nil {
		t.Fatal(err)
	}
	line, _ := images.ParseCmdlineFile(raw)
	if !strings.Contains(line, "/PARTNROFF=2 ") || strings.Contains(line, "gokrazy.") {
		t.Errorf("boot 3: cmdline.txt %q: want root B and no gokrazy flags", line)
	}
	if err := xmppRoundTrip(ctx, hostPort(ports["xmpp"]), user, password, bs.CertFingerprint); err != nil {
		t.Errorf("boot 3: login: %v", err)
	}

	// v3's boxd cannot listen for XMPP. Not running is a failure that
	// waiting cannot fix: boxd abandons at once (within seconds of coming
	// up, too soon to watch its status), reboots, and the box is back on
	// v2 well before boxinit's deadline.
	applyBundle(t, ctx, c, b3)
	reboot(t, m, g, 3)
	for try := 1; ; try++ {
		trialStart = time.Now()
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.WaitExit(trialDeadline); err != nil {
			dumpSerial(t, m.Serial)
			t.Fatalf("boot 4: the unhealthy trial did not reboot within boxinit's deadline: %v", err)
		}
		if try == 1 && crashedBeforeTrial(m.Serial) {
			t.Logf("boot 4: guest kernel crashed under TCG before the trial began; retrying once: %s", serialLine(m.Serial, "RIP:"))
			continue
		}
		break
	}
	t.Logf("boot 4: unhealthy v3 trial rebooted by itself %s after the boot started", time.Since(trialStart).Round(time.Second))
	if err := serialHas(m.Serial, "switching to inactive root partition"); err != nil {
		t.Errorf("boot 4: v3 did not run on trial: %v", err)
	}
	if serialHas(m.Serial, "not committed in time") == nil {
		t.Errorf("boot 4: boxinit's deadline rebooted v3; boxd's health check should have")
	}
	// Its reason (XMPP not running) is in the update history; the unit
	// tests of appliance/healthcheck.go check that record.
	_, bs = startAndWait(t, ctx, m, g, 5)
	st = waitUpdates(t, ctx, c, "boot 5: status", 30*time.Second, func(admin.StatusReply) bool { return true })
	if st.Slots.Active != "B" || st.Slots.Booted != "B" || st.Slots.Trial != "" || st.Running.Version != "2.0.0" || st.Floor != 2 {
		t.Fatalf("boot 5: not back on v2: %+v", st)
	}
	if err := xmppRoundTrip(ctx, hostPort(ports["xmpp"]), user, password, bs.CertFingerprint); err != nil {
		t.Errorf("boot 5: login on v2 after the rollback: %v", err)
	}

	// v4's boxd hangs on start: nothing in boxd decides, boxinit's
	// deadline reboots the trial, and the box is back on v2.
	applyBundle(t, ctx, c, b4)
	reboot(t, m, g, 5)
	var hangStart time.Time
	hung := false
	for try := 1; ; try++ {
		hangStart = time.Now()
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		// The stand-in's line in gokrazy's log buffer (not on the serial
		// console) shows v4 is what runs.
		for !hung && !m.Exited() && time.Since(hangStart) < trialDeadline+3*time.Minute {
			qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			l, err := g.boxdLog(qctx)
			cancel()
			hung = err == nil && strings.Contains(l, "hang: standing in for a boxd")
			time.Sleep(time.Second)
		}
		if err := m.WaitExit(max(trialDeadline+3*time.Minute-time.Since(hangStart), time.Second)); err != nil {
			dumpSerial(t, m.Serial)
			t.Fatalf("boot 6: the hung v4 trial was not rebooted: %v", err)
		}
		if try == 1 && !hung && crashedBeforeTrial(m.Serial) {
			t.Logf("boot 6: guest kernel crashed under TCG before the trial began; retrying once: %s", serialLine(m.Serial, "RIP:"))
			continue
		}
		break
	}
	t.Logf("boot 6: hung v4 trial rebooted by boxinit %s after the boot started (deadline %s)", time.Since(hangStart).Round(time.Second), trialDeadline)
	if !hung {
		t.Errorf("boot 6: v4's hanging stand-in for boxd was never seen running")
	}
	for _, want := range []string{"switching to inactive root partition", "trial watch: running an uncommitted root", "not committed in time"} {
		if err := serialHas(m.Serial, want); err != nil {
			dumpSerial(t, m.Serial)
			t.Fatalf("boot 6: %v", err)
		}
	}
	_, bs = startAndWait(t, ctx, m, g, 7)
	st = waitUpdates(t, ctx, c, "boot 7: status", 30*time.Second, func(admin.StatusReply) bool { return true })
	if st.Slots.Active != "B" || st.Slots.Booted != "B" || st.Slots.Trial != "" || st.Running.Version != "2.0.0" || st.Floor != 2 {
		t.Fatalf("boot 7: not back on v2 after the hung trial: %+v", st)
	}
	if err := xmppRoundTrip(ctx, hostPort(ports["xmpp"]), user, password, bs.CertFingerprint); err != nil {
		t.Errorf("boot 7: login on v2 after the hung trial: %v", err)
	}
	t.Logf("update end to end took %s", time.Since(testStart).Round(time.Second))
}

// crashedBeforeTrial reports a boot that TCG crashed (tcgCrashed) before
// gokrazy's init read the trial flag: the flag is still set, so the next
// boot starts the same trial.
func crashedBeforeTrial(serial string) bool {
	return tcgCrashed(serial) && serialHas(serial, "switching to inactive root partition") != nil
}
