package sign

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/devslots"
	"github.com/chatsecure/box/updates/updatestest"
)

// TestReleaseToBox runs the release path end to end on a laptop: boxsign
// makes and signs a bundle with the dev keys, and a dev-mode box trusting
// only the embedded root set applies, trial-boots and commits it.
func TestReleaseToBox(t *testing.T) {
	dir := t.TempDir()
	root := bytes.Repeat([]byte("root v2"), 10000)
	os.WriteFile(filepath.Join(dir, "root.img"), root, 0o644)
	os.WriteFile(filepath.Join(dir, "boot.img"), []byte("boot v2"), 0o644)
	b := filepath.Join(dir, "amd64-2.0.0.boxupdate")
	must(t, "bundle", "-target", "amd64", "-version", "2.0.0", "-build", "2", "-min-version", "1.0.0", "-out", b,
		"root="+filepath.Join(dir, "root.img"), "boot="+filepath.Join(dir, "boot.img"))
	must(t, "sign", "-key", "../trust/testdata/dev2.key", b)

	slots, err := devslots.Open(filepath.Join(dir, "box"), updates.SlotInfo{Version: "1.0.0", Build: 1}, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	u, err := updates.New(updates.Config{Target: "amd64", Slots: slots, Floor: &updatestest.Floor{},
		Trust: &updatestest.TrustStore{}, History: &updatestest.History{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := u.ApplyFile(ctx, b, nil); err == nil {
		t.Fatal("one dev signature accepted by a 2-of-3 root")
	}
	must(t, "sign", "-key", "../trust/testdata/dev3.key", b)
	if _, err := u.ApplyFile(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Boot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	st, _ := u.Status()
	if st.Running.Version != "2.0.0" || st.Slots.Active != "B" || st.Floor != 2 {
		t.Fatalf("status = %+v", st)
	}
	got, _ := os.ReadFile(slots.Path("B", "root"))
	if !bytes.Equal(got, root) {
		t.Fatal("slot B does not hold the released root")
	}
}
