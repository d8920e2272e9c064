package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the real boxd binary in dev mode and drive it with boxctl's
// own command line, the way an operator does.

var boxdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "boxctl-test")
	if err != nil {
		panic(err)
	}
	boxdBin = filepath.Join(dir, "boxd")
	out, err := exec.Command("go", "build", "-o", boxdBin, "github.com/chatsecure/box/cmd/boxd").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type boxd struct {
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

func startBoxd(t *testing.T, dataDir string, extra ...string) *boxd {
	t.Helper()
	b := &boxd{logs: new(bytes.Buffer)}
	// Dev-mode listeners are on fixed loopback ports; tests take any free
	// loopback port instead.
	cfg := filepath.Join(dataDir, "config.json")
	if _, err := os.Stat(cfg); err != nil {
		os.MkdirAll(dataDir, 0o700)
		os.WriteFile(cfg, []byte(`{"xmpp": {"c2s": "127.0.0.1:0", "c2s_tls": "127.0.0.1:0"}, "console": {"listen": "127.0.0.1:0"}}`), 0o600)
	}
	b.cmd = exec.Command(boxdBin, append([]string{"-dev", "-data", dataDir}, extra...)...)
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.stop(t) })
	// Ready when boxctl status says something other than boot.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, _, code := ctl(t, "", "-data", dataDir, "status")
		if code == 0 && !strings.Contains(out, "state:          boot") && !strings.Contains(out, "busy") {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("boxd not ready:\n%s", b.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *boxd) stop(t *testing.T) {
	if b.cmd.ProcessState != nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("boxd exited with %v:\n%s", err, b.logs)
		}
	case <-time.After(30 * time.Second):
		b.cmd.Process.Kill()
		t.Errorf("boxd did not stop on SIGTERM:\n%s", b.logs)
	}
}

func ctl(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = run(args, strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), code
}

func field(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestOperatorJourney(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	b := startBoxd(t, dir)
	out, _, _ := ctl(t, "", "-data", dir, "status")
	if field(out, "state") != "unclaimed" || field(out, "setup code") == "" {
		t.Fatalf("status:\n%s", out)
	}
	setup := field(out, "setup code")
	code, errOut, rc := ctl(t, "", "-data", dir, "recovery", "show")
	code = strings.TrimSpace(code)
	if rc != 0 || len(code) != 39 {
		t.Fatalf("recovery show: %q %q", code, errOut)
	}
	if out, _, rc := ctl(t, "", "-data", dir, "check"); rc != 0 || !strings.Contains(out, "store: ok") {
		t.Fatalf("check: %s", out)
	}
	b.stop(t)

	// Same data, same key, no prompt.
	b = startBoxd(t, dir)
	out, _, _ = ctl(t, "", "-data", dir, "status")
	if field(out, "state") != "unclaimed" || field(out, "setup code") != setup {
		t.Fatalf("after restart:\n%s", out)
	}
	b.stop(t)

	// A truncated sealed blob: locked, the database untouched, the code opens it.
	blobPath := filepath.Join(dir, "key.sealed")
	blob, _ := os.ReadFile(blobPath)
	os.WriteFile(blobPath, blob[:7], 0o600)
	db, _ := os.ReadFile(filepath.Join(dir, "box.db"))
	b = startBoxd(t, dir)
	out, _, _ = ctl(t, "", "-data", dir, "status")
	if field(out, "state") != "locked" {
		t.Fatalf("truncated blob:\n%s", out)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "box.db")); !bytes.Equal(now, db) {
		t.Fatal("database changed while locked")
	}
	if _, e, rc := ctl(t, "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH\n", "-data", dir, "unlock"); rc == 0 || !strings.Contains(e, "does not match") {
		t.Fatalf("wrong code: rc %d %s", rc, e)
	}
	if out, e, rc := ctl(t, code+"\n", "-data", dir, "unlock"); rc != 0 || !strings.Contains(out, "unlocked") {
		t.Fatalf("unlock: %s %s", out, e)
	}
	if _, _, rc := ctl(t, "", "-data", dir, "recovery", "confirm"); rc != 0 {
		t.Fatal("confirm failed")
	}
	if _, e, rc := ctl(t, "", "-data", dir, "recovery", "show"); rc == 0 || !strings.Contains(e, "no longer shown") {
		t.Fatalf("code still shown after confirm: %s", e)
	}

	// Factory reset needs the typed confirmation.
	if _, e, rc := ctl(t, "", "-data", dir, "factory-reset"); rc == 0 || !strings.Contains(e, "-confirm erase") {
		t.Fatalf("unconfirmed reset: %s", e)
	}
	out, e, rc := ctl(t, "", "-data", dir, "factory-reset", "-confirm", "erase")
	if rc != 0 || !strings.Contains(out, "unclaimed") || strings.Contains(out, setup) {
		t.Fatalf("reset: %s %s", out, e)
	}
}

func TestBadConfigStaysUpInFault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"xmpp": {"max_stanza_bytes": "big"}}`), 0o600)
	startBoxd(t, dir)
	out, _, rc := ctl(t, "", "-data", dir, "status")
	if rc != 0 || field(out, "state") != "fault" || !strings.Contains(out, "config.json") || !strings.Contains(out, "xmpp.max_stanza_bytes") {
		t.Fatalf("status:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "box.db")); err == nil {
		t.Fatal("database created despite a bad config")
	}
}

func TestNoBoxd(t *testing.T) {
	_, e, rc := ctl(t, "", "-data", t.TempDir(), "status")
	if rc != 1 || !strings.Contains(e, "boxd is not running") {
		t.Fatalf("rc %d: %s", rc, e)
	}
	_, _, rc = ctl(t, "", "frobnicate")
	if rc != 2 {
		t.Fatalf("unknown command rc %d", rc)
	}
}

// TestUpdateJourney: a bundle signed by two of the three dev keys is applied
// through boxctl, runs on trial at the next start, and commits; a bundle with
// one signature is refused.
func TestUpdateJourney(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "root.img"), bytes.Repeat([]byte("root v2 "), 50000), 0o644)
	os.WriteFile(filepath.Join(work, "boot.img"), []byte("boot v2"), 0o644)
	boxsign := filepath.Join(filepath.Dir(boxdBin), "boxsign")
	if out, err := exec.Command("go", "build", "-o", boxsign, "github.com/chatsecure/box/cmd/boxsign").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sign := func(args ...string) {
		if out, err := exec.Command(boxsign, args...).CombinedOutput(); err != nil {
			t.Fatalf("boxsign %v: %v\n%s", args, err, out)
		}
	}
	bundle := filepath.Join(work, "v2.boxupdate")
	sign("bundle", "-target", "amd64", "-version", "2.0.0", "-build", "2", "-out", bundle,
		"root="+filepath.Join(work, "root.img"), "boot="+filepath.Join(work, "boot.img"))
	sign("sign", "-key", "../../updates/trust/testdata/dev1.key", bundle)

	b := startBoxd(t, dir)
	if _, e, rc := ctl(t, "", "-data", dir, "update", "apply", bundle); rc == 0 || !strings.Contains(e, "signature") {
		t.Fatalf("one signature accepted: rc %d %s", rc, e)
	}
	sign("sign", "-key", "../../updates/trust/testdata/dev2.key", bundle)
	out, e, rc := ctl(t, "", "-data", dir, "update", "apply", bundle)
	if rc != 0 || !strings.Contains(out, "applied 2.0.0") || !strings.Contains(e, "upload: 100%") {
		t.Fatalf("apply: rc %d\n%s\n%s", rc, out, e)
	}
	b.stop(t)
	// Next start is the trial boot; healthy, so it commits.
	startBoxd(t, dir)
	var st struct {
		Slots struct {
			Active, Booted, Trial string
		}
		Floor   uint64
		Running struct{ Version string }
	}
	for i := 0; ; i++ {
		out, _, _ = ctl(t, "", "-data", dir, "update", "status")
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("update status: %v\n%s", err, out)
		}
		if st.Slots.Trial == "" || i > 200 {
			break
		}
		time.Sleep(100 * time.Millisecond) // the health check runs after boot
	}
	if st.Slots.Active != "B" || st.Slots.Booted != "B" || st.Slots.Trial != "" || st.Floor != 2 || st.Running.Version != "2.0.0" {
		t.Fatalf("after the trial boot the update is not committed:\n%s", out)
	}
}

func TestUserCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	startBoxd(t, dir)
	if out, e, rc := ctl(t, "s3cret-pass\n", "-data", dir, "user", "add", "alice@localhost"); rc != 0 {
		t.Fatalf("add: %s %s", out, e)
	}
	if _, e, rc := ctl(t, "again\n", "-data", dir, "user", "add", "alice@localhost"); rc == 0 {
		t.Fatalf("duplicate add accepted: %s", e)
	}
	if _, e, rc := ctl(t, "", "-data", dir, "user", "add", "bob@localhost"); rc == 0 || !strings.Contains(e, "empty password") {
		t.Fatalf("empty password: %s", e)
	}
	ctl(t, "pw-bob-123\n", "-data", dir, "user", "add", "bob@localhost")
	out, _, _ := ctl(t, "", "-data", dir, "user", "list")
	if out != "alice@localhost\nbob@localhost\n" {
		t.Fatalf("list: %q", out)
	}
	if _, e, rc := ctl(t, "new-pass-456\n", "-data", dir, "user", "passwd", "alice@localhost"); rc != 0 {
		t.Fatalf("passwd: %s", e)
	}
	if _, e, rc := ctl(t, "", "-data", dir, "user", "del", "bob@localhost"); rc != 0 {
		t.Fatalf("del: %s", e)
	}
	if out, _, _ := ctl(t, "", "-data", dir, "user", "list"); out != "alice@localhost\n" {
		t.Fatalf("list after del: %q", out)
	}
}
