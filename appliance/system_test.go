package appliance

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/appliance/adminapi"
	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services/store"
	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/recovery"
)

// fakeSealer is an in-memory "TPM": blobs are AES-GCM under a key only it
// holds; Destroy forgets that key, as a TPM forgets an evicted object.
type fakeSealer struct{ key []byte }

func newFakeSealer() *fakeSealer {
	k := make([]byte, 32)
	rand.Read(k)
	return &fakeSealer{key: k}
}

func (f *fakeSealer) aead() cipher.AEAD {
	b, _ := aes.NewCipher(f.key)
	a, _ := cipher.NewGCM(b)
	return a
}

func (f *fakeSealer) Seal(secret []byte) ([]byte, error) {
	a := f.aead()
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, secret, nil), nil
}

func (f *fakeSealer) Unseal(blob []byte) ([]byte, error) {
	a := f.aead()
	if len(blob) < a.NonceSize() {
		return nil, tpm.ErrUnseal
	}
	out, err := a.Open(nil, blob[:a.NonceSize()], blob[a.NonceSize():], nil)
	if err != nil {
		return nil, tpm.ErrUnseal
	}
	return out, nil
}

func (f *fakeSealer) Destroy([]byte) error {
	rand.Read(f.key)
	return nil
}

var cheap = recovery.Params{Time: 1, Memory: 64, Threads: 1}

type box struct {
	t      *testing.T
	dir    string
	sealer tpm.Sealer
	sys    *System
	cancel context.CancelFunc
	done   chan error
	logs   *bytes.Buffer
}

func testConfig(dir string) config.Config {
	c := config.Dev()
	c.DataDir = dir
	return c
}

// start runs a System on dir and waits until it has booted.
func start(t *testing.T, dir string, sealer tpm.Sealer, mutate func(*Options)) *box {
	t.Helper()
	b := &box{t: t, dir: dir, sealer: sealer, done: make(chan error, 1), logs: new(bytes.Buffer)}
	opts := Options{
		Config:         testConfig(dir),
		Logger:         slog.New(slog.NewTextHandler(b.logs, nil)),
		Sealer:         sealer,
		RecoveryParams: cheap,
		Version:        "test",
	}
	if mutate != nil {
		mutate(&opts)
	}
	b.sys = New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() { b.done <- b.sys.Run(ctx) }()
	select {
	case <-b.sys.Ready():
	case err := <-b.done:
		t.Fatalf("Run returned before booting: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("box did not finish booting")
	}
	t.Cleanup(b.stop)
	return b
}

func (b *box) stop() {
	if b.cancel == nil {
		return
	}
	b.cancel()
	b.cancel = nil
	if err := <-b.done; err != nil {
		b.t.Errorf("Run: %v", err)
	}
}

func (b *box) status() adminapi.Status {
	var st adminapi.Status
	if err := adminapi.NewClient(b.dir).Do(context.Background(), "GET", "/v1/status", nil, &st); err != nil {
		b.t.Fatalf("status over the socket: %v", err)
	}
	return st
}

func TestFirstStartThenRestart(t *testing.T) {
	dir := t.TempDir()
	sealer := newFakeSealer()
	b := start(t, dir, sealer, nil)
	st := b.status()
	if st.State != "unclaimed" || st.SetupCode == "" || !st.RecoveryPending || st.CertFingerprint == "" {
		t.Fatalf("first start: %+v", st)
	}
	code, err := b.sys.PendingRecoveryCode(context.Background())
	if err != nil || len(code) != 39 {
		t.Fatalf("recovery code %q, %v", code, err)
	}
	for _, name := range []string{fileSealed, fileRecovery, fileDB, adminapi.SocketName} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v, want no group/other access", name, fi.Mode().Perm())
		}
	}
	b.stop()

	b = start(t, dir, sealer, nil)
	st2 := b.status()
	if st2.State != "unclaimed" || st2.SetupCode != st.SetupCode || st2.CertFingerprint != st.CertFingerprint {
		t.Fatalf("restart changed the box: %+v vs %+v", st2, st)
	}
}

func TestTruncatedBlobLocksAndRecoveryUnlocks(t *testing.T) {
	dir := t.TempDir()
	sealer := newFakeSealer()
	b := start(t, dir, sealer, nil)
	code, _ := b.sys.PendingRecoveryCode(context.Background())
	b.stop()
	dbBefore, _ := os.ReadFile(filepath.Join(dir, fileDB))

	blob, _ := os.ReadFile(filepath.Join(dir, fileSealed))
	os.WriteFile(filepath.Join(dir, fileSealed), blob[:len(blob)/2], 0o600)
	b = start(t, dir, sealer, nil)
	st := b.status()
	if st.State != "locked" || !strings.Contains(st.Reason, "recovery code") {
		t.Fatalf("truncated blob: %+v", st)
	}
	if dbAfter, _ := os.ReadFile(filepath.Join(dir, fileDB)); !bytes.Equal(dbBefore, dbAfter) {
		t.Fatal("database changed while locked")
	}
	// A wrong code is refused and changes nothing.
	wrong, _ := recovery.NewCode()
	c := adminapi.NewClient(dir)
	if err := c.Do(context.Background(), "POST", "/v1/unlock", adminapi.UnlockRequest{RecoveryCode: wrong}, nil); err == nil {
		t.Fatal("wrong recovery code accepted")
	}
	if err := c.Do(context.Background(), "POST", "/v1/unlock", adminapi.UnlockRequest{RecoveryCode: code}, &st); err != nil {
		t.Fatal(err)
	}
	if st.State != "unclaimed" {
		t.Fatalf("after unlock: %+v", st)
	}
	b.stop()
	// Re-sealed: the next boot needs no code.
	b = start(t, dir, sealer, nil)
	if st := b.status(); st.State != "unclaimed" {
		t.Fatalf("after re-seal restart: %+v", st)
	}
}

func TestReplacedTPMLocks(t *testing.T) {
	dir := t.TempDir()
	b := start(t, dir, newFakeSealer(), nil)
	code, _ := b.sys.PendingRecoveryCode(context.Background())
	b.stop()
	// Same disk, another TPM.
	b = start(t, dir, newFakeSealer(), nil)
	if st := b.status(); st.State != "locked" {
		t.Fatalf("new TPM: %+v", st)
	}
	if err := b.sys.Unlock(context.Background(), code); err != nil {
		t.Fatal(err)
	}
}

func TestBadConfigIsFaultAndAnswers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, config.FileName)
	os.WriteFile(path, []byte(`{"xmpp": {"c2s": "nope"}}`), 0o600)
	_, cfgErr := config.Load(path, config.Dev())
	b := start(t, dir, newFakeSealer(), func(o *Options) { o.ConfigErr = cfgErr })
	st := b.status()
	if st.State != "fault" || !strings.Contains(st.Reason, path) || !strings.Contains(st.Reason, "xmpp.c2s") {
		t.Fatalf("bad config: %+v", st)
	}
	if st.Health["config"].OK {
		t.Fatal("config health OK in fault")
	}
	if _, err := os.Stat(filepath.Join(dir, fileDB)); err == nil {
		t.Fatal("a database was created with a bad config")
	}
}

func TestNoTPMIsFault(t *testing.T) {
	dir := t.TempDir()
	b := start(t, dir, nil, func(o *Options) { o.SealerErr = tpm.ErrNoTPM })
	if st := b.status(); st.State != "fault" || !strings.Contains(st.Reason, "no TPM") {
		t.Fatalf("no TPM: %+v", st)
	}
}

func TestFactoryResetErases(t *testing.T) {
	dir := t.TempDir()
	sealer := newFakeSealer()
	b := start(t, dir, sealer, nil)
	ctx := context.Background()
	const marker = "very-secret-chat-line-0b5e"
	b.sys.mu.Lock()
	b.sys.store.Migrate(ctx, "t", []string{"CREATE TABLE notes(body TEXT)"})
	b.sys.store.DB().Exec("INSERT INTO notes VALUES(?)", marker)
	b.sys.mu.Unlock()
	before := b.status()
	oldDB := copyFile(t, filepath.Join(dir, fileDB), filepath.Join(t.TempDir(), "old.db"))
	oldCode, _ := b.sys.PendingRecoveryCode(ctx)

	if err := adminapi.NewClient(dir).Do(ctx, "POST", "/v1/factory-reset", adminapi.FactoryResetRequest{Confirm: "erase"}, nil); err != nil {
		t.Fatal(err)
	}
	after := b.status()
	if after.State != "unclaimed" || after.SetupCode == before.SetupCode || after.SetupCode == "" {
		t.Fatalf("after reset: %+v", after)
	}
	b.stop()
	// No key the box still has opens the old database.
	keys := [][]byte{}
	if blob, err := os.ReadFile(filepath.Join(dir, fileSealed)); err == nil {
		if k, err := sealer.Unseal(blob); err == nil {
			keys = append(keys, k)
		}
	}
	env, _ := os.ReadFile(filepath.Join(dir, fileRecovery))
	if k, err := recovery.Unwrap(env, oldCode); err == nil {
		t.Fatal("the old recovery code still opens the new envelope")
		keys = append(keys, k)
	}
	for _, k := range keys {
		if _, err := store.Open(ctx, oldDB, k); !errors.Is(err, store.ErrWrongKey) {
			t.Fatalf("old database opened with a key the box still has: %v", err)
		}
	}
	// And nothing under the data dir holds the plaintext.
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || fi.Mode()&os.ModeSocket != 0 {
			return nil
		}
		data, _ := os.ReadFile(p)
		if bytes.Contains(data, []byte(marker)) {
			t.Errorf("%s holds old plaintext", p)
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(dir, fileResetLog)); err != nil {
		t.Error("no factory-reset.log entry")
	}
}

func TestInterruptedResetFinishesAtBoot(t *testing.T) {
	dir := t.TempDir()
	sealer := newFakeSealer()
	b := start(t, dir, sealer, nil)
	old := b.status()
	b.stop()
	// Power cut right after the marker was written.
	os.WriteFile(filepath.Join(dir, fileReset), []byte("x"), 0o600)
	b = start(t, dir, sealer, nil)
	st := b.status()
	if st.State != "unclaimed" || st.SetupCode == old.SetupCode {
		t.Fatalf("after interrupted reset: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, fileReset)); err == nil {
		t.Fatal("marker left behind")
	}
}

func TestSecondBoxdRefused(t *testing.T) {
	dir := t.TempDir()
	start(t, dir, newFakeSealer(), nil)
	s2 := New(Options{Config: testConfig(dir), Sealer: newFakeSealer(), RecoveryParams: cheap})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s2.Run(ctx); err == nil || !strings.Contains(err.Error(), "another boxd") {
		t.Fatalf("second boxd: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) string {
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(to, data, 0o600)
	return to
}
