//go:build browser

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/updates/sign"
)

// TestBrowserRealBox runs the console's browser journey (claim with the
// setup code, emergency kit, sign-in, people, invite + QR, registration
// through the invite, sign-out) against a real dev-mode boxd, and checks
// with boxctl that it all reached the box. Screenshots: build/box-e2e/.
func TestBrowserRealBox(t *testing.T) {
	if _, err := os.Stat("../../services/console/e2e/node_modules/playwright-core"); err != nil {
		t.Fatal("services/console/e2e/node_modules missing: make deps")
	}
	port := freePort(t)
	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o700)
	cfg := fmt.Sprintf(`{"xmpp": {"c2s": "127.0.0.1:0", "c2s_tls": "127.0.0.1:0"}, "console": {"listen": "127.0.0.1:%d"}}`, port)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600)
	startBoxd(t, dir)
	out, _, _ := ctl(t, "", "-data", dir, "status")
	setup := field(out, "setup code")
	code, _, rc := ctl(t, "", "-data", dir, "recovery", "show")
	if setup == "" || rc != 0 {
		t.Fatalf("no setup or recovery code:\n%s", out)
	}
	// The update page against the real updater (dev slots): one bundle
	// with one signature of the dev root's two, one with both.
	bad, good := browserBundle(t, "dev1"), browserBundle(t, "dev1", "dev2")
	shots, _ := filepath.Abs("../../build/box-e2e")
	os.RemoveAll(shots)
	cmd := exec.CommandContext(t.Context(), "node", "console.e2e.js")
	cmd.Dir = "../../services/console/e2e"
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("BOX_URL=https://127.0.0.1:%d", port),
		"BOX_SETUP_CODE="+setup,
		"BOX_RECOVERY_CODE="+strings.TrimSpace(code),
		"E2E_OUT="+shots,
		"CHROMIUM=/usr/bin/chromium",
		"BOX_BUNDLE_BAD="+bad,
		"BOX_BUNDLE_GOOD="+good,
	)
	b, err := cmd.CombinedOutput()
	t.Logf("node console.e2e.js:\n%s", b)
	if err != nil {
		t.Fatalf("browser journey failed: %v (screenshots in %s)", err, shots)
	}
	out, _, _ = ctl(t, "", "-data", dir, "status")
	if field(out, "state") != "running" || strings.Contains(out, "NOT YET SAVED") {
		t.Fatalf("after the claim:\n%s", out)
	}
	var st struct {
		Slots struct{ Trial string }
		Last  struct {
			OK   bool
			From string
		}
	}
	out, _, _ = ctl(t, "", "-data", dir, "update", "status")
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Slots.Trial != "B" || !st.Last.OK || st.Last.From != "console" {
		t.Errorf("after the console's update, boxctl update status says:\n%s", out)
	}
	users, _, _ := ctl(t, "", "-data", dir, "user", "list")
	for _, u := range []string{"ada@localhost", "carol@localhost"} {
		if !strings.Contains(users, u) {
			t.Errorf("%s has no chat account:\n%s", u, users)
		}
	}
}

// browserBundle is a dev-mode 2.0.0 (build 2) bundle signed with the
// named dev keys.
func browserBundle(t *testing.T, keys ...string) string {
	t.Helper()
	work := t.TempDir()
	root, boot, out := filepath.Join(work, "root.img"), filepath.Join(work, "boot.img"), filepath.Join(work, "v2.boxupdate")
	os.WriteFile(root, bytes.Repeat([]byte("root v2 "), 50000), 0o644)
	os.WriteFile(boot, []byte("boot v2"), 0o644)
	args := [][]string{{"bundle", "-target", "amd64", "-version", "2.0.0", "-build", "2", "-out", out, "root=" + root, "boot=" + boot}}
	for _, k := range keys {
		args = append(args, []string{"sign", "-key", "../../updates/trust/testdata/" + k + ".key", out})
	}
	for _, a := range args {
		var stderr bytes.Buffer
		if rc := sign.Run(a, &stderr, &stderr); rc != 0 {
			t.Fatalf("boxsign %v: %s", a, stderr.String())
		}
	}
	return out
}
