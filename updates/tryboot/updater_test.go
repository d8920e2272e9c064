package tryboot

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
	"github.com/chatsecure/box/updates/tryboot/tryboottest"
	"github.com/chatsecure/box/updates/updatestest"
)

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// signedBundle writes a pi bundle of the given payloads (name → content),
// signed by signers.
func signedBundle(t *testing.T, version string, build uint64, payloads []bundle.Payload, data [][]byte, signers []trust.PrivateKey) string {
	t.Helper()
	m := &bundle.Manifest{Product: bundle.Product, Target: "pi", Version: version, Build: build, Created: time.Unix(0, 0).UTC()}
	var readers []io.Reader
	for i, p := range payloads {
		p.Size, p.SHA256 = int64(len(data[i])), sum(data[i])
		m.Payloads = append(m.Payloads, p)
		readers = append(readers, bytes.NewReader(data[i]))
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

// TestUpdaterOnPi runs the updates framework over the tryboot slots: a
// root-only bundle is refused before a byte is written (each slot needs
// its kernel set); a signed bundle with root and boot applies, trial-boots
// through tryboot, commits; the next one never commits and the watchdog's
// plain reboot lands on the committed release.
func TestUpdaterOnPi(t *testing.T) {
	ctx := context.Background()
	var keys []trust.PrivateKey
	var pubs []ed25519.PublicKey
	for i := range 2 {
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
	b := newBox(t, tryboottest.Pi4)
	b.boot(false)
	floor, history := &updatestest.Floor{}, &updatestest.History{}
	var s *Slots
	start := func() *updates.Updater {
		s = b.open()
		u, err := updates.New(updates.Config{Target: "pi", Slots: s, Floor: floor, Trust: &updatestest.TrustStore{}, History: history, Root: root})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.Boot(ctx); err != nil {
			t.Fatal(err)
		}
		return u
	}
	u := start()
	bothPayloads := []bundle.Payload{{Name: "root"}, {Name: "boot"}}
	bundleOf := func(version string, build uint64) string {
		boot, err := os.ReadFile(release(t, version, "box"))
		if err != nil {
			t.Fatal(err)
		}
		return signedBundle(t, version, build, bothPayloads, [][]byte{rootOf(version), boot}, keys)
	}

	rootOnly := signedBundle(t, "2.0.0", 2, []bundle.Payload{{Name: "root"}}, [][]byte{rootOf("2.0.0")}, keys)
	if _, err := u.ApplyFile(ctx, rootOnly, nil); !errors.Is(err, updates.ErrMissing) {
		t.Fatalf("root-only bundle: %v", err)
	}
	if _, err := b.read("/tryboot.txt"); err == nil {
		t.Fatal("a refused bundle wrote tryboot.txt")
	}

	if _, err := u.ApplyFile(ctx, bundleOf("2.0.0", 2), nil); err != nil {
		t.Fatal(err)
	}
	s.Reboot()
	b.reboot()
	u = start()
	if b.booted != partB || b.kernelVersion() != "2.0.0" {
		t.Fatalf("trial boot: root %d kernel %s", b.booted, b.kernelVersion())
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if f, _ := floor.Get(); f != 2 {
		t.Errorf("floor %d after commit", f)
	}

	if _, err := u.ApplyFile(ctx, bundleOf("3.0.0", 3), nil); err != nil {
		t.Fatal(err)
	}
	s.Reboot()
	b.reboot()
	u = start()
	if b.booted != partA || b.kernelVersion() != "3.0.0" {
		t.Fatalf("v3 trial: root %d kernel %s", b.booted, b.kernelVersion())
	}
	b.boot(false) // hang; watchdog
	u = start()
	if b.booted != partB || b.kernelVersion() != "2.0.0" {
		t.Fatalf("after the uncommitted trial: root %d kernel %s", b.booted, b.kernelVersion())
	}
	if last := history.Last(); last.Outcome != updates.RolledBack || last.To != "2.0.0" {
		t.Fatalf("last record %+v", last)
	}
}
