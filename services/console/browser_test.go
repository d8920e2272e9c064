//go:build browser

package console_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatsecure/box/services/console/consoletest"
)

// TestBrowserEndToEnd drives headless Chromium (Debian package chromium)
// with playwright-core through claim, emergency kit, sign-in, people,
// invite, QR decoding, web registration and sign-out. Screenshots go to
// build/console-e2e/ at the repository root.
func TestBrowserEndToEnd(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("no Chromium at %s: apt-get install chromium", chromium)
	}
	if _, err := os.Stat("e2e/node_modules/playwright-core"); err != nil {
		t.Fatal("e2e/node_modules missing: run npm ci in services/console/e2e")
	}
	out, err := filepath.Abs("../../build/console-e2e")
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(out)
	env := consoletest.New(t, nil)
	base := env.Start(t)
	// The update page: a bundle with one signature of the two needed, and
	// a good one whose upload loses a chunk half-way (the page resumes
	// from the box's offset); the apply is paced so its phases show.
	bundles := t.TempDir()
	bad, good := filepath.Join(bundles, "bad.boxupdate"), filepath.Join(bundles, "v2.boxupdate")
	os.WriteFile(bad, testBundle(t, "2.0.0", 2, 1), 0o644)
	os.WriteFile(good, testBundle(t, "2.0.0", 2, 2), 0o644)
	env.Box.SetApplyStep(150 * time.Millisecond)
	env.Box.FailChunks(2<<16, 2) // the third 64 KiB chunk of each upload
	cmd := exec.CommandContext(t.Context(), "node", "console.e2e.js")
	cmd.Dir = "e2e"
	cmd.Env = append(os.Environ(),
		"BOX_URL="+base,
		"BOX_SETUP_CODE="+env.Box.SetupCode(),
		"BOX_RECOVERY_CODE="+env.Box.RecoveryCode(),
		"E2E_OUT="+out,
		"CHROMIUM="+chromium,
		"BOX_BUNDLE_BAD="+bad,
		"BOX_BUNDLE_GOOD="+good,
		"E2E_PACED_APPLY=1",
	)
	outp, err := cmd.CombinedOutput()
	t.Logf("node console.e2e.js:\n%s", outp)
	if err != nil {
		t.Fatalf("browser test failed: %v (screenshots in %s)", err, out)
	}
	// What the browser did reached the box.
	if env.Box.Claimed() != "ada" {
		t.Errorf("box claimed by %q", env.Box.Claimed())
	}
	if _, ok := env.Accounts.Password("carol"); !ok {
		t.Error("carol has no chat account")
	}
	if !env.Rosters.Contacts("ada", "carol") {
		t.Error("ada and carol are not contacts")
	}
	if _, err := env.Box.PendingRecoveryCode(t.Context()); err == nil {
		t.Error("recovery code still pending")
	}
	if n := env.Box.ChunksFailed(); n != 2 {
		t.Errorf("%d chunks failed on purpose, want 2 (the page never hit the resume path)", n)
	}
	st, _ := env.Box.UpdateStatus(t.Context(), 10)
	if st.Pending != "B" || st.PendingVersion != "2.0.0" {
		t.Errorf("after the browser's update: pending %q %q", st.Pending, st.PendingVersion)
	}
	for _, a := range []string{"update-upload", "update-apply", "update-refused", "update-applied"} {
		if !contains(env.Box.Actions(), a) {
			t.Errorf("audit log lacks %s", a)
		}
	}
}
