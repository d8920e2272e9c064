package updates_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/devslots"
	"github.com/chatsecure/box/updates/trust"
	"github.com/chatsecure/box/updates/updatestest"
)

var (
	v1Root = bytes.Repeat([]byte("system v1 root "), 4096)
	v1Boot = []byte("kernel v1, cmdline v1")
	clock  = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
)

// fixture is a dev-mode box on version 1.0.0 (build 1) whose root set is
// three fresh keys at threshold 2.
type fixture struct {
	t       testing.TB
	dir     string // slot files and state.json
	work    string // bundles
	slots   *devslots.Slots
	floor   *updatestest.Floor
	trust   *updatestest.TrustStore
	history *updatestest.History
	keys    []trust.PrivateKey
	root    trust.Set
	u       *updates.Updater
}

func genKeys(t testing.TB, n int) []trust.PrivateKey {
	var ks []trust.PrivateKey
	for i := range n {
		k, err := trust.Generate("key"+string(rune('0'+i)), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	return ks
}

func pubs(ks ...trust.PrivateKey) []ed25519.PublicKey {
	var p []ed25519.PublicKey
	for _, k := range ks {
		p = append(p, k.Public().Key)
	}
	return p
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: filepath.Join(t.TempDir(), "slots"), work: t.TempDir(),
		floor: &updatestest.Floor{}, trust: &updatestest.TrustStore{}, history: &updatestest.History{}}
	f.keys = genKeys(t, 3)
	var err error
	if f.root, err = trust.NewSet(0, 2, pubs(f.keys...)); err != nil {
		t.Fatal(err)
	}
	f.install()
	f.floor.Raise(1)
	f.reopen()
	return f
}

// install lays down v1 in slot A, as an image build would.
func (f *fixture) install() {
	s, err := devslots.Open(f.dir, updates.SlotInfo{Version: "1.0.0", Build: 1}, 64<<20)
	if err != nil {
		f.t.Fatal(err)
	}
	os.WriteFile(s.Path("A", "root"), v1Root, 0o644)
	os.WriteFile(s.Path("A", "boot"), v1Boot, 0o644)
}

// reopen makes a new Updater over the same files, as after a restart.
func (f *fixture) reopen() {
	f.t.Helper()
	s, err := devslots.Open(f.dir, updates.SlotInfo{}, 64<<20)
	if err != nil {
		f.t.Fatal(err)
	}
	f.slots = s
	f.u, err = updates.New(updates.Config{Target: "amd64", Slots: s, Floor: f.floor, Trust: f.trust, History: f.history,
		Root: f.root, Now: func() time.Time { return clock }})
	if err != nil {
		f.t.Fatal(err)
	}
}

type spec struct {
	version  string
	build    uint64
	target   string
	product  string
	min      string
	root     []byte
	boot     []byte
	extra    string // an extra payload name
	signers  []trust.PrivateKey
	rotation []trust.SignedRotation
}

func payloadsOf(version string) (root, boot []byte) {
	return bytes.Repeat([]byte("system "+version+" root "), 8192), []byte("kernel " + version)
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// bundle writes a signed bundle for s (defaults: v2.0.0, build 2, amd64,
// signed by keys 0 and 1) and returns its path.
func (f *fixture) bundle(s spec) string {
	f.t.Helper()
	if s.version == "" {
		s.version = "2.0.0"
	}
	if s.build == 0 {
		s.build = 2
	}
	if s.target == "" {
		s.target = "amd64"
	}
	if s.product == "" {
		s.product = bundle.Product
	}
	if s.root == nil {
		s.root, s.boot = payloadsOf(s.version)
	}
	if s.signers == nil {
		s.signers = f.keys[:2]
	}
	m := &bundle.Manifest{Product: s.product, Target: s.target, Version: s.version, Build: s.build, MinVersion: s.min, Created: clock,
		Payloads: []bundle.Payload{{Name: "root", Size: int64(len(s.root)), SHA256: sum(s.root)}}}
	readers := []io.Reader{bytes.NewReader(s.root)}
	if s.boot != nil {
		m.Payloads = append(m.Payloads, bundle.Payload{Name: "boot", Size: int64(len(s.boot)), SHA256: sum(s.boot)})
		readers = append(readers, bytes.NewReader(s.boot))
	}
	if s.extra != "" {
		m.Payloads = append(m.Payloads, bundle.Payload{Name: s.extra, Size: 1, SHA256: sum([]byte("x"))})
		readers = append(readers, bytes.NewReader([]byte("x")))
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, m, nil, s.rotation, readers); err != nil {
		f.t.Fatal(err)
	}
	path := filepath.Join(f.work, s.version+"-"+time.Now().Format("150405.000000000")+".boxupdate")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		f.t.Fatal(err)
	}
	for _, k := range s.signers {
		if err := bundle.AddSignature(path, k); err != nil {
			f.t.Fatal(err)
		}
	}
	return path
}

// snapshot reads every file of the slot directory.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sum(b)
	}
	return out
}

func sameFiles(t testing.TB, before, after map[string]string) {
	t.Helper()
	for name, h := range before {
		if after[name] != h {
			t.Errorf("%s changed", name)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s appeared", name)
		}
	}
}

func fileIs(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: %d bytes, not the expected %d", filepath.Base(path), len(got), len(want))
	}
}
