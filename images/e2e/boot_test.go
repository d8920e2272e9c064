//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/appliance/adminapi"
	"github.com/chatsecure/box/images"
)

// state is what the probe program (images/testdata/probe, a test-only
// helper beside boxd) reports from inside the guest.
type state struct {
	Boots        int    `json:"boots"`
	PermMounted  bool   `json:"perm_mounted"`
	PermExt4     bool   `json:"perm_ext4"`
	PermBytes    int64  `json:"perm_bytes"`
	GokrazyUI    bool   `json:"gokrazy_ui"`
	GokrPwAbsent bool   `json:"gokr_pw_absent"`
	Cmdline      string `json:"cmdline"`
	Lasttime     string `json:"lasttime"`
	Now          string `json:"now"`
	TPM          bool   `json:"tpm"`
}

const probePort = 8089

func moduleRoot(t *testing.T) string {
	d, err := moduleRootB()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func moduleRootB() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// e2eConfig is the test image's boxd config, baked in as /etc/box/e2e.json
// and named by boxd's -config argument: the XMPP service needs a domain
// (release images leave it empty until the operator sets one). No secrets.
const e2eConfig = `{"xmpp": {"domain": "box.test", "c2s": ":5222"}}`

// TestBoxdBootSealReboot boots the amd64 image with the real boxd in qemu
// with swtpm on tpm-tis and follows the key through three boots:
//
//  1. first boot: boxd seals its key in swtpm through its TIS driver over
//     MMIO, comes up unclaimed; an account is made and logs in over XMPP
//     from the host;
//  2. reboot with the same swtpm state: boxd unseals, the account (in
//     /perm, in the encrypted store) logs in again;
//  3. the same disk with a fresh swtpm state: boxd is locked until the
//     recovery code from the first boot opens it; the account logs in;
//  4. reboot with that new swtpm state: boxd unseals the key it re-sealed
//     there on unlock, no code needed.
//
// The probe (images/testdata/probe, test images only) serves boxd's admin
// socket to the host and checks what boxinit and gokrazy set up.
func TestBoxdBootSealReboot(t *testing.T) {
	testStart := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))

	target, _ := images.LookupTarget("amd64")
	layout := images.DefaultLayout()
	layout.PermBytes = 128 << 20
	buildStart := time.Now()
	res, err := images.Build(ctx, images.Options{
		Target: target, Version: "e2e", Out: filepath.Join(dir, "box-amd64-e2e.img"),
		Programs: []images.Program{
			{Pkg: "./cmd/boxd", Dest: "/user/boxd", Cgo: true, Args: []string{"-config", "/etc/box/e2e.json"}},
			{Pkg: "./images/testdata/probe", Dest: "/user/probe"},
		},
		Files:  map[string][]byte{"/etc/box/e2e.json": []byte(e2eConfig)},
		Layout: layout, ModuleDir: moduleRoot(t),
		WorkDir: filepath.Join(dir, "work"), Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image built in %s", time.Since(buildStart).Round(time.Millisecond))
	checkImage(t, res, target, layout)
	// Flashed onto a disk bigger than the image: boxinit must grow /perm
	// to the end of the disk on first boot.
	if err := os.Truncate(res.Image, layout.DiskSectors()*images.SectorSize+permExtra); err != nil {
		t.Fatal(err)
	}

	ports := map[string]int{}
	for _, name := range []string{"probe", "web", "console", "xmpp"} {
		if ports[name], err = FreePort(); err != nil {
			t.Fatal(err)
		}
	}
	m := &Machine{Image: res.Image, Layout: layout, Dir: dir, Fwd: map[int]int{
		probePort: ports["probe"], 80: ports["web"], 443: ports["console"], 5222: ports["xmpp"],
	}}
	t.Cleanup(m.Kill)
	g := newGuest(hostPort(ports["probe"]))
	xmppAddr := hostPort(ports["xmpp"])
	const user, password = "alice", "correct horse battery staple"

	var prev state
	var recoveryCode string
	const boots = 4
	for boot := 1; boot <= boots; boot++ {
		switch boot {
		case 2:
			// Start the second boot's clock in the past, like a Pi without
			// RTC (and no NTP: user networking is restricted): boxinit
			// must move it forward to the time saved in /perm.
			m.RTCBase = "2020-06-01T00:00:00"
		case 3:
			// A new TPM: the sealed blob in /perm cannot be unsealed.
			m.RTCBase = ""
			m.TPMState = filepath.Join(dir, "tpm-fresh")
		}
		// Boot 4 keeps the new TPM, to which boot 3 re-sealed the key.
		st, bs := startAndWait(t, ctx, m, g, boot)
		checkProbe(t, boot, st, prev)
		checkPermGrown(t, boot, m, st, layout)
		checkWeb(t, boot, ports["web"], bs.State != "locked")
		prev = st
		blog, err := g.boxdLog(ctx)
		if err != nil {
			t.Errorf("boot %d: boxd log: %v", boot, err)
		}
		t.Logf("boot %d: boxd log:\n%s", boot, blog)

		switch boot {
		case 1:
			if bs.State != "unclaimed" {
				t.Fatalf("boot 1: boxd is %s (%s); want unclaimed\nboxd log:\n%s", bs.State, bs.Reason, blog)
			}
			checkTIS(t, boot, bs, blog)
			if !strings.Contains(blog, "tpm: sealed key") {
				t.Errorf("boot 1: boxd's TPM sealer logged no sealed key")
			}
			// boxd logs no duration for sealing; between these lines are
			// key generation, the recovery envelope (argon2id) and the seal.
			if a, b := logTime(blog, "msg=TPM "), logTime(blog, "tpm: sealed key"); !a.IsZero() && !b.IsZero() {
				t.Logf("boot 1: TPM opened → key sealed (argon2id wrap + seal over TIS) in %s", b.Sub(a).Round(time.Millisecond))
			}
			var rc adminapi.RecoveryCode
			if err := g.do(ctx, http.MethodGet, "/v1/recovery", nil, &rc); err != nil || rc.Code == "" {
				t.Fatalf("boot 1: recovery code: %q %v", rc.Code, err)
			}
			recoveryCode = rc.Code
			var made map[string]any
			if err := g.do(ctx, http.MethodPost, "/v1/xmpp/users", map[string]string{"jid": user + "@box.test", "password": password}, &made); err != nil {
				t.Fatalf("boot 1: create account: %v", err)
			}
			checkConsole(t, boot, ports["console"], bs.CertFingerprint)
		case 2, 4:
			if bs.State != "unclaimed" {
				t.Fatalf("boot %d: boxd is %s (%s); want unclaimed: the key sealed on the boot before must unseal", boot, bs.State, bs.Reason)
			}
			checkTIS(t, boot, bs, blog)
			took := logValue(blog, "key unsealed", "took")
			if took == "" || !strings.Contains(blog, "tpm: unsealed key") {
				t.Errorf("boot %d: boxd's TPM sealer logged no unsealed key", boot)
			}
			t.Logf("boot %d: boxd unsealed the key over TIS MMIO in %s (TPM commands: %s)", boot, took, logValue(blog, "tpm: unsealed key", "duration"))
			if err := xmppRoundTrip(ctx, xmppAddr, user, "wrong password", bs.CertFingerprint); err == nil {
				t.Errorf("boot %d: login with a wrong password succeeded", boot)
			}
		case 3:
			if bs.State != "locked" {
				t.Fatalf("boot 3: boxd is %s (%s) with a fresh TPM; want locked\nboxd log:\n%s", bs.State, bs.Reason, blog)
			}
			t.Logf("boot 3: locked as expected: %s", bs.Reason)
			if err := g.do(ctx, http.MethodPost, "/v1/unlock", adminapi.UnlockRequest{RecoveryCode: "AAAA-BBBB-CCCC-DDDD"}, nil); err == nil {
				t.Fatalf("boot 3: a wrong recovery code unlocked the box")
			}
			t0 := time.Now()
			var after adminapi.Status
			if err := g.do(ctx, http.MethodPost, "/v1/unlock", adminapi.UnlockRequest{RecoveryCode: recoveryCode}, &after); err != nil {
				t.Fatalf("boot 3: unlock with the recovery code: %v", err)
			}
			t.Logf("boot 3: unlocked with the recovery code in %s; now %s", time.Since(t0).Round(time.Millisecond), after.State)
			if after.State != "unclaimed" {
				t.Fatalf("boot 3: after unlock boxd is %s (%s); want unclaimed", after.State, after.Reason)
			}
			checkWeb(t, boot, ports["web"], true)
			bs = after
			if blog, err = g.boxdLog(ctx); err == nil && !strings.Contains(blog, "key re-sealed") {
				t.Errorf("boot 3: boxd did not log re-sealing the key to the new TPM:\n%s", blog)
			}
			checkTIS(t, boot, bs, blog)
		}
		if bs.CertFingerprint == "" {
			t.Fatalf("boot %d: boxd reports no certificate fingerprint", boot)
		}
		t0 := time.Now()
		if err := xmppRoundTrip(ctx, xmppAddr, user, password, bs.CertFingerprint); err != nil {
			t.Fatalf("boot %d: %v", boot, err)
		}
		t.Logf("boot %d: %s@box.test logged in over XMPP (STARTTLS, SCRAM), pinged, messaged itself in %s", boot, user, time.Since(t0).Round(time.Millisecond))

		if boot < boots {
			reboot(t, m, g, boot)
		}
	}
	t.Logf("e2e took %s", time.Since(testStart).Round(time.Second))
}

// startAndWait boots m and waits for the probe and a settled boxd. A boot
// that TCG crashes is tried once more.
func startAndWait(t *testing.T, ctx context.Context, m *Machine, g *guest, boot int) (state, adminapi.Status) {
	t.Helper()
	for try := 1; ; try++ {
		start := time.Now()
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		st, bs, err := waitReady(ctx, m, g, 150*time.Second)
		if err == nil {
			t.Logf("boot %d: boot-to-ready %s, boxd %s (kernel: %s)", boot, time.Since(start).Round(100*time.Millisecond), bs.State, serialLine(m.Serial, "Run /gokrazy/init"))
			if err := serialHas(m.Serial, "cmdline: "); err != nil {
				t.Errorf("boot %d: gokrazy's init could not read cmdline.txt with its FAT reader: %v", boot, err)
			}
			return st, bs
		}
		// Multi-threaded TCG now and then crashes the guest kernel in an
		// interrupt (seen: a fatal exception in sched_clock_cpu at a
		// patched NOP); that is the emulator, not the image, so such a
		// boot is tried once more. A dying init or a missing root fails
		// at once.
		if try == 1 && m.Exited() && tcgCrashed(m.Serial) {
			t.Logf("boot %d: guest kernel crashed under TCG; retrying once: %s", boot, serialLine(m.Serial, "RIP:"))
			m.WaitExit(10 * time.Second)
			continue
		}
		dumpSerial(t, m.Serial)
		if l, lerr := g.boxdLog(ctx); lerr == nil {
			t.Logf("boxd log:\n%s", l)
		}
		t.Fatalf("boot %d: %v", boot, err)
	}
}

// tcgCrashed reports a boot whose guest kernel died of a fatal exception
// that is not a dying init or a missing root: the emulator's crash that
// startAndWait describes.
func tcgCrashed(serial string) bool {
	return serialHas(serial, "Fatal exception") == nil &&
		serialHas(serial, "Attempted to kill init") != nil && serialHas(serial, "Unable to mount root") != nil
}

// checkProbe checks what boxinit and gokrazy set up: /perm, the saved time,
// gokrazy's HTTP server only on its unix socket.
func checkProbe(t *testing.T, boot int, st, prev state) {
	t.Helper()
	if st.Boots != boot {
		t.Errorf("boot %d: probe counted %d boots in /perm; want %d (data in /perm lost?)", boot, st.Boots, boot)
	}
	if !st.PermMounted || !st.PermExt4 {
		t.Errorf("boot %d: /perm mounted=%v ext4=%v; want an ext4 /perm", boot, st.PermMounted, st.PermExt4)
	}
	if !st.GokrazyUI {
		t.Errorf("boot %d: gokrazy's web UI does not answer on its unix socket", boot)
	}
	if !st.GokrPwAbsent {
		t.Errorf("boot %d: /etc/gokr-pw.txt exists; gokrazy would listen on the network", boot)
	}
	if st.TPM {
		t.Errorf("boot %d: /dev/tpmrm0 exists; gokrazy's kernel was not expected to have a TPM driver, so the TIS path is not what is tested", boot)
	}
	if !strings.Contains(st.Cmdline, "root=PARTUUID=") {
		t.Errorf("boot %d: kernel cmdline %q lacks root=PARTUUID=", boot, st.Cmdline)
	}
	last, err := time.Parse(time.RFC3339Nano, st.Lasttime)
	if err != nil {
		t.Errorf("boot %d: /perm/box/lasttime %q: %v", boot, st.Lasttime, err)
	} else if prev.Lasttime != "" {
		before, _ := time.Parse(time.RFC3339Nano, prev.Lasttime)
		if last.Before(before) {
			t.Errorf("boot %d: saved time went back from %s to %s", boot, before, last)
		}
		if now, err := time.Parse(time.RFC3339, st.Now); err != nil || now.Before(before.Truncate(time.Second)) {
			t.Errorf("boot %d: guest clock %q (%v) is before the time saved last boot, %s", boot, st.Now, err, before)
		}
	}
}

// permExtra is how much bigger than the image the test's disk is.
const permExtra = 512 << 20

// checkPermGrown checks that /perm took the disk's extra space: on the
// first boot boxinit grows it (and says so on the console), later boots
// keep the size.
func checkPermGrown(t *testing.T, boot int, m *Machine, st state, layout images.Layout) {
	t.Helper()
	// statfs counts the file system's blocks less its metadata (inode
	// tables, journal): well above the image's /perm, at most the grown
	// partition.
	if min := layout.PermBytes + permExtra/2; st.PermBytes < min || st.PermBytes > layout.PermBytes+permExtra {
		t.Errorf("boot %d: /perm holds %d bytes; want between %d and %d: not grown to the end of the disk", boot, st.PermBytes, min, layout.PermBytes+permExtra)
	}
	line := serialLine(m.Serial, "grew /perm")
	if boot == 1 && line == "" {
		t.Errorf("boot 1: boxinit logged no growing of /perm on the console")
	}
	if boot > 1 && line != "" {
		t.Errorf("boot %d: boxinit grew /perm again: %s", boot, line)
	}
	if boot == 1 {
		t.Logf("boot 1: /perm is %d MiB (image: %d MiB); %s; %s", st.PermBytes>>20, layout.PermBytes>>20, line, serialLine(m.Serial, "formatted /perm"))
	}
}

// checkWeb checks guest port 80: boxd's console redirect while its services
// run, nothing while it is locked; never gokrazy's HTTP server, which must
// listen only on its unix socket.
func checkWeb(t *testing.T, boot, webPort int, servicesUp bool) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + hostPort(webPort) + "/")
	if !servicesUp {
		if err == nil {
			resp.Body.Close()
			t.Errorf("boot %d: guest port 80 answered %s while boxd is locked; want no listener (gokrazy?)", boot, resp.Status)
		}
		return
	}
	if err != nil {
		t.Errorf("boot %d: guest port 80: %v; want boxd's redirect to the console", boot, err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(resp.Header.Get("Location"), "https://") || strings.Contains(string(body), "gokrazy") {
		t.Errorf("boot %d: guest port 80 answered %s %q; want boxd's redirect to https, not gokrazy", boot, resp.Status, resp.Header.Get("Location"))
	}
}

// checkTIS checks that boxd's key lives in swtpm, reached through boxd's
// own TIS driver over MMIO (gokrazy's kernel has no TPM driver), never in
// the software sealer.
func checkTIS(t *testing.T, boot int, bs adminapi.Status, blog string) {
	t.Helper()
	key := bs.Health["key"]
	if !key.OK || key.Detail != "TPM 2.0 via TIS mmio" {
		t.Errorf("boot %d: health key = %+v; want OK and \"TPM 2.0 via TIS mmio\"", boot, key)
	}
	if bs.Dev {
		t.Errorf("boot %d: boxd runs in dev mode on the image", boot)
	}
	if via := logValue(blog, "msg=TPM", "via"); via != "TIS mmio" {
		t.Errorf("boot %d: boxd logged TPM via=%q; want \"TIS mmio\"", boot, via)
	}
	// The software sealer announces itself (tpm/software.go); config and
	// boxd refuse it outside dev mode, and images refuse -dev.
	if strings.Contains(blog, "software key sealer") || strings.Contains(blog, "tpm: software sealer") {
		t.Errorf("boot %d: boxd's log shows the software sealer:\n%s", boot, blog)
	}
}

// checkConsole fetches the console's front page over the forwarded :443,
// pinned to the certificate boxd reports.
func checkConsole(t *testing.T, boot, port int, fingerprint string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: pinned(fingerprint)},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("https://" + hostPort(port) + "/")
	if err != nil {
		t.Errorf("boot %d: console over https: %v", boot, err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		t.Errorf("boot %d: console answered %s", boot, resp.Status)
	}
	t.Logf("boot %d: console on :443 answered %s with the pinned certificate", boot, resp.Status)
}

// reboot asks gokrazy (through the probe) for a real reboot and waits for
// qemu to exit; the next Start plays the bootloader again.
func reboot(t *testing.T, m *Machine, g *guest, boot int) {
	t.Helper()
	resp, err := g.hc.Post(g.base+"/reboot", "", nil)
	if err != nil {
		t.Fatalf("boot %d: reboot: %v", boot, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("boot %d: reboot: %s %s", boot, resp.Status, body)
	}
	if err := m.WaitExit(90 * time.Second); err != nil {
		dumpSerial(t, m.Serial)
		t.Fatalf("boot %d: %v", boot, err)
	}
}

func waitReady(ctx context.Context, m *Machine, g *guest, timeout time.Duration) (state, adminapi.Status, error) {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := g.probeState(qctx)
		if err == nil && !st.GokrazyUI {
			err = fmt.Errorf("gokrazy's UI not up yet")
		}
		var bs adminapi.Status
		if err == nil {
			bs, err = g.status(qctx)
			if err == nil && !settled(bs) {
				err = fmt.Errorf("boxd is still %s", bs.State)
			}
		}
		cancel()
		if err == nil {
			return st, bs, nil
		}
		last = err
		if m.Exited() {
			return state{}, bs, fmt.Errorf("qemu exited before the box was ready: %v", last)
		}
		select {
		case <-ctx.Done():
			return state{}, bs, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return state{}, adminapi.Status{}, fmt.Errorf("box not ready within %s: %v", timeout, last)
}

// serialLine returns the first line of the serial log containing s.
func serialLine(path, s string) string {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func serialHas(path, s string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			return nil
		}
	}
	return fmt.Errorf("%q not in %s", s, path)
}

func dumpSerial(t *testing.T, path string) {
	b, _ := os.ReadFile(path)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	t.Logf("serial log tail:\n%s", b)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
