package appliance

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/services/store"
	"github.com/chatsecure/box/tpm/recovery"
)

type cut struct{ step string }

// TestFactoryResetPowerCut cuts the power at every step of a factory reset
// and boots again: the box is either the old one, with its data, or an erased
// one whose old database no key it has can open, never anything between.
func TestFactoryResetPowerCut(t *testing.T) {
	var steps []string
	powerCut = func(step string) { steps = append(steps, step) }
	defer func() { powerCut = func(string) {} }()
	{
		dir := t.TempDir()
		b := start(t, dir, newFakeSealer(), nil)
		if err := b.sys.FactoryReset(context.Background(), "t", "t"); err != nil {
			t.Fatal(err)
		}
		b.stop()
	}
	if len(steps) < 6 {
		t.Fatalf("only %d steps seen: %v", len(steps), steps)
	}
	const marker = "plaintext-of-the-old-box-5c1d"
	for _, at := range steps {
		t.Run(at, func(t *testing.T) {
			dir := t.TempDir()
			sealer := newFakeSealer()
			b := start(t, dir, sealer, nil)
			ctx := context.Background()
			b.sys.mu.Lock()
			b.sys.store.Migrate(ctx, "t", []string{"CREATE TABLE notes(body TEXT)"})
			b.sys.store.DB().Exec("INSERT INTO notes VALUES(?)", marker)
			b.sys.mu.Unlock()
			old := b.status()
			code, _ := b.sys.PendingRecoveryCode(ctx)
			oldDB := copyFile(t, filepath.Join(dir, fileDB), filepath.Join(t.TempDir(), "old.db"))

			powerCut = func(step string) {
				if step == at {
					panic(cut{step})
				}
			}
			func() {
				defer func() {
					if r := recover(); r == nil {
						t.Fatal("no power cut happened")
					} else if _, ok := r.(cut); !ok {
						panic(r)
					}
				}()
				b.sys.FactoryReset(ctx, "t", "t")
			}()
			powerCut = func(string) {}
			b.stop()

			b = start(t, dir, sealer, nil)
			st := b.status()
			if st.State != "unclaimed" {
				t.Fatalf("after the cut: %+v", st)
			}
			if st.SetupCode == old.SetupCode {
				// The old box: its data must be whole.
				var body string
				b.sys.mu.Lock()
				err := b.sys.store.DB().QueryRow("SELECT body FROM notes").Scan(&body)
				b.sys.mu.Unlock()
				if err != nil || body != marker {
					t.Fatalf("old box lost its data: %q %v", body, err)
				}
				return
			}
			// An erased box: nothing it has opens the old database.
			env, _ := os.ReadFile(filepath.Join(dir, fileRecovery))
			if k, err := recovery.Unwrap(env, code); err == nil {
				if _, err := store.Open(ctx, oldDB, k); !errors.Is(err, store.ErrWrongKey) {
					t.Fatal("the old recovery code still opens the old database")
				}
			}
			blob, _ := os.ReadFile(filepath.Join(dir, fileSealed))
			if k, err := sealer.Unseal(blob); err == nil {
				if _, err := store.Open(ctx, oldDB, k); !errors.Is(err, store.ErrWrongKey) {
					t.Fatal("the sealed key opens the old database")
				}
			}
			filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
				if err == nil && fi.Mode().IsRegular() {
					if data, _ := os.ReadFile(p); bytes.Contains(data, []byte(marker)) {
						t.Errorf("%s holds old plaintext", p)
					}
				}
				return nil
			})
			if _, err := os.Stat(filepath.Join(dir, fileReset)); err == nil {
				t.Error("reset marker left after boot")
			}
		})
	}
}
