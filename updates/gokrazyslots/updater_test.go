package gokrazyslots

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/trust"
	"github.com/chatsecure/box/updates/updatestest"
)

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// signedBundle writes a bundle of root (and boot, if not nil) for amd64,
// signed by signers.
func signedBundle(t *testing.T, version string, build uint64, root, boot []byte, signers []trust.PrivateKey) string {
	t.Helper()
	m := &bundle.Manifest{Product: bundle.Product, Target: "amd64", Version: version, Build: build, Created: time.Unix(0, 0).UTC(),
		Payloads: []bundle.Payload{{Name: "root", Size: int64(len(root)), SHA256: sum(root)}}}
	readers := []io.Reader{bytes.NewReader(root)}
	if boot != nil {
		m.Payloads = append(m.Payloads, bundle.Payload{Name: "boot", Size: int64(len(boot)), SHA256: sum(boot)})
		readers = append(readers, bytes.NewReader(boot))
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, m, nil, nil, readers); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), version+".boxupdate")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, k := range signers {
		if err := bundle.AddSignature(path, k); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestUpdaterOnImage runs the updates framework over the gokrazy slots: a
// signed bundle with root and boot applies, trial-boots, commits; a bundle
// signed by too few keys writes nothing; an uncommitted trial rolls back.
func TestUpdaterOnImage(t *testing.T) {
	ctx := context.Background()
	var keys []trust.PrivateKey
	var pubs []ed25519.PublicKey
	for i := range 3 {
		k, err := trust.Generate("dev"+string(rune('1'+i)), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys, pubs = append(keys, k), append(pubs, k.Public().Key)
	}
	root, err := trust.NewSet(0, 2, pubs)
	if err != nil {
		t.Fatal(err)
	}
	m := &machine{t: t, disk: newDisk(t)}
	dir := t.TempDir()
	floor, history := &updatestest.Floor{}, &updatestest.History{}
	start := func() *updates.Updater {
		s := m.open(dir)
		u, err := updates.New(updates.Config{Target: "amd64", Slots: s, Floor: floor, Trust: &updatestest.TrustStore{}, History: history, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.Boot(ctx); err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := start()

	v2Root := bytes.Repeat([]byte("root v2 "), 50000)
	bootPath := filepath.Join(t.TempDir(), "boot.vfat")
	bootFS(t, bootPath, "kernel v2")
	v2Boot, err := os.ReadFile(bootPath)
	if err != nil {
		t.Fatal(err)
	}

	disk, _ := os.ReadFile(m.disk.Path)
	weak := signedBundle(t, "2.0.0", 2, v2Root, v2Boot, keys[:1])
	if _, err := u.ApplyFile(ctx, weak, nil); !errors.Is(err, trust.ErrTooFew) {
		t.Fatalf("one signature of 2: %v", err)
	}
	if after, _ := os.ReadFile(m.disk.Path); !bytes.Equal(disk, after) {
		t.Fatal("a refused bundle changed the disk")
	}

	res, err := u.ApplyFile(ctx, signedBundle(t, "2.0.0", 2, v2Root, v2Boot, keys[:2]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Slot != "B" {
		t.Fatalf("applied to slot %s", res.Slot)
	}
	if got := m.readPart(partB, len(v2Root)); !bytes.Equal(got, v2Root) {
		t.Fatal("root B does not hold v2")
	}
	u = start()
	if m.booted != partB || m.kernel != "kernel v2" {
		t.Fatalf("trial boot: root %d, %q", m.booted, m.kernel)
	}
	if st, _ := u.Status(); !st.Slots.InTrial() {
		t.Fatalf("not in trial: %+v", st)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if f, _ := floor.Get(); f != 2 {
		t.Errorf("floor %d after commit, want 2", f)
	}
	u = start()
	if m.booted != partB {
		t.Fatalf("after commit booted %d", m.booted)
	}

	// v3 never commits: the watchdog's reboot lands on v2.
	if _, err := u.ApplyFile(ctx, signedBundle(t, "3.0.0", 3, []byte("root v3"), nil, keys[1:]), nil); err != nil {
		t.Fatal(err)
	}
	u = start()
	if m.booted != partA {
		t.Fatalf("v3 trial booted %d", m.booted)
	}
	u = start()
	if m.booted != partB {
		t.Fatalf("after the uncommitted trial booted %d", m.booted)
	}
	if last := history.Last(); last.Outcome != updates.RolledBack || last.To != "2.0.0" {
		t.Fatalf("last record %+v", last)
	}
	if f, _ := floor.Get(); f != 2 {
		t.Errorf("floor %d after rollback, want 2", f)
	}
}
