package appliance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/appliance/adminapi"
	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/tpmtest"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/trust"
	"github.com/chatsecure/box/updates/updatestest"
)

// brokenFloor fails every call, as a TPM that stopped answering.
type brokenFloor struct{}

func (brokenFloor) Get() (uint64, error) { return 0, tpm.ErrNoTPM }
func (brokenFloor) Raise(uint64) error   { return tpm.ErrNoTPM }

func TestFloorPair(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	get := func(f updates.Floor) uint64 {
		t.Helper()
		v, err := f.Get()
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return v
	}

	// Get is the higher copy, whichever it is; Raise raises both.
	nv := &tpmtest.MemNV{}
	store := &updatestest.Floor{}
	f := floorPair{store: store, tpm: nv.Open(0), log: log}
	store.Raise(4)
	if v := get(f); v != 4 {
		t.Fatalf("floor = %d with store 4, TPM 0", v)
	}
	if err := f.Raise(6); err != nil {
		t.Fatal(err)
	}
	if get(store) != 6 || get(nv.Open(0)) != 6 {
		t.Fatalf("after Raise(6): store %d, TPM %d", get(store), get(nv.Open(0)))
	}
	// A factory reset: a new, empty store; the TPM keeps 6.
	store = &updatestest.Floor{}
	f = floorPair{store: store, tpm: nv.Open(0), log: log}
	if v := get(f); v != 6 {
		t.Fatalf("floor after a store reset = %d, want the TPM's 6", v)
	}
	f.sync()
	if get(store) != 6 {
		t.Fatalf("sync left the store at %d", get(store))
	}
	before := nv.Increments()
	f.sync()
	f.Raise(5)
	if nv.Increments() != before {
		t.Fatal("sync or a lower Raise wrote to the TPM")
	}

	// A box that had only the store floor: sync brings the TPM up.
	nv = &tpmtest.MemNV{}
	store = &updatestest.Floor{}
	store.Raise(3)
	floorPair{store: store, tpm: nv.Open(0), log: log}.sync()
	if get(nv.Open(0)) != 3 {
		t.Fatalf("sync left the TPM at %d, want 3", get(nv.Open(0)))
	}

	// TPM first: when the TPM refuses, the store is not raised either,
	// and Get fails rather than answer with the store alone.
	nv = &tpmtest.MemNV{}
	nv.Occupy()
	store = &updatestest.Floor{}
	f = floorPair{store: store, tpm: nv.Open(0), log: log}
	if err := f.Raise(2); !errors.Is(err, tpm.ErrFloorForeign) {
		t.Fatalf("Raise with someone else's index = %v", err)
	}
	if get(store) != 0 {
		t.Fatal("store raised although the TPM refused")
	}
	if _, err := (floorPair{store: store, tpm: brokenFloor{}, log: log}).Get(); !errors.Is(err, tpm.ErrNoTPM) {
		t.Fatalf("Get with the TPM gone = %v, want ErrNoTPM", err)
	}

	// A jump beyond the step bound: the commit goes through, the store
	// has it all, the TPM catches up on later raises.
	nv = &tpmtest.MemNV{}
	store = &updatestest.Floor{}
	f = floorPair{store: store, tpm: nv.Open(4), log: log}
	if err := f.Raise(10); err != nil {
		t.Fatalf("Raise past the step bound: %v", err)
	}
	if get(store) != 10 || get(nv.Open(0)) != 4 || get(f) != 10 {
		t.Fatalf("store %d, TPM %d, floor %d; want 10, 4, 10", get(store), get(nv.Open(0)), get(f))
	}
}

// releaseBundle writes a bundle for this box's target at build, signed by
// dev keys 1 and 2 of the image's root set (2 of 3).
func releaseBundle(t *testing.T, version string, build uint64) string {
	t.Helper()
	root := bytes.Repeat([]byte("system "+version+" root "), 4096)
	boot := []byte("kernel " + version)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	m := &bundle.Manifest{Product: bundle.Product, Target: target(), Version: version, Build: build, Created: time.Now().UTC(),
		Payloads: []bundle.Payload{
			{Name: "root", Size: int64(len(root)), SHA256: sum(root)},
			{Name: "boot", Size: int64(len(boot)), SHA256: sum(boot)},
		}}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, m, nil, nil, []io.Reader{bytes.NewReader(root), bytes.NewReader(boot)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), version+".boxupdate")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dev1", "dev2"} {
		b, err := os.ReadFile(filepath.Join("..", "updates", "trust", "testdata", name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		k, err := trust.ParsePrivate(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := bundle.AddSignature(path, k); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func (b *box) updater() *updates.Updater {
	b.t.Helper()
	b.sys.mu.Lock()
	defer b.sys.mu.Unlock()
	if b.sys.updater == nil {
		b.t.Fatalf("updates unavailable: %v", b.sys.updatesErr)
	}
	return b.sys.updater
}

// snapshotDir hashes every file under dir.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		out[p] = hex.EncodeToString(s[:])
		return nil
	})
	return out
}

// TestDowngradeAfterFactoryReset: commit build 5 through a real trial boot,
// factory-reset the box, then offer a validly signed build 3. With the TPM
// (simulator) sealer the counter still holds 5 and the bundle is refused
// naming the floor, with nothing written; with a sealer that has no NV
// (store-only floor, as dev mode's software sealer) the reset lowered the
// floor and the old build goes in: the hole the TPM floor closes.
func TestDowngradeAfterFactoryReset(t *testing.T) {
	for _, c := range []struct {
		kind    string
		refused bool
	}{{"tpm2-simulator", true}, {"fake", false}} {
		t.Run(c.kind, func(t *testing.T) {
			var kind sealerKind
			for _, k := range sealerKinds {
				if k.name == c.kind {
					kind = k
				}
			}
			ctx := context.Background()
			dir := t.TempDir()
			boot, _ := kind.setup(t, dir)
			b := start(t, dir, boot(), nil)
			if _, err := b.updater().ApplyFile(ctx, releaseBundle(t, "5.0.0", 5), nil); err != nil {
				t.Fatalf("apply build 5: %v", err)
			}
			b.stop()

			// The trial boot of build 5 passes its health check and commits.
			b = start(t, dir, boot(), nil)
			deadline := time.Now().Add(time.Minute)
			for {
				st, err := b.updater().Status()
				if err != nil {
					t.Fatal(err)
				}
				if st.Slots.Trial == "" && st.Slots.Slots[st.Slots.Active].Build == 5 && st.Floor == 5 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("build 5 not committed: %+v\n%s", st, b.logs)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if s, ok := b.sealer.(*tpm.TPM2); ok {
				if v, err := s.Floor().Get(); err != nil || v != 5 {
					t.Fatalf("TPM NV floor after the commit = %d, %v; want 5", v, err)
				}
			} else if !strings.Contains(b.logs.String(), "floor kept in the store only") {
				t.Errorf("no log line saying the floor is in the store only:\n%s", b.logs)
			}

			if err := adminapi.NewClient(dir).Do(ctx, "POST", "/v1/factory-reset", adminapi.FactoryResetRequest{Confirm: "erase"}, nil); err != nil {
				t.Fatal(err)
			}
			slots := filepath.Join(dir, dirSlots)
			before := snapshotDir(t, slots)
			_, err := b.updater().ApplyFile(ctx, releaseBundle(t, "3.0.0", 3), nil)
			if !c.refused {
				if err != nil {
					t.Fatalf("store-only floor: build 3 after a factory reset: %v; want it applied (the reset lowered the floor)", err)
				}
				return
			}
			if !errors.Is(err, updates.ErrDowngrade) || !strings.Contains(err.Error(), "floor 5") {
				t.Fatalf("build 3 after a factory reset: %v; want ErrDowngrade naming floor 5", err)
			}
			after := snapshotDir(t, slots)
			if len(after) != len(before) {
				t.Fatalf("slot files %d → %d", len(before), len(after))
			}
			for p, h := range before {
				if after[p] != h {
					t.Errorf("%s written by a refused bundle", p)
				}
			}
			st, err := b.updater().Status()
			if err != nil || st.Floor != 5 {
				t.Fatalf("status after the reset: floor %d, %v", st.Floor, err)
			}
		})
	}
}
