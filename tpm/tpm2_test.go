package tpm_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/tpmtest"
)

const (
	ccStartAuthSession = 0x176
	ccCreate           = 0x153
	ccUnseal           = 0x15E
	rhNull             = 0x40000007
	algAES             = 0x0006
	algCFB             = 0x0043
	attrDecrypt        = 0x20 // TPMA_SESSION.decrypt: first command parameter encrypted
	attrEncrypt        = 0x40 // TPMA_SESSION.encrypt: first response parameter encrypted
)

// TestTPM2WireNeverCarriesSecret records every byte between the sealer and
// the TPM, as a probe on the SPI bus would, and checks the secret is never
// among them, that Create and Unseal ran in salted AES-CFB sessions, and that
// the unseal still returned the secret.
func TestTPM2WireNeverCarriesSecret(t *testing.T) {
	rec := &tpmtest.Recorder{TPM: tpmtest.Simulator(t)}

	// Control: the same recorder does see a secret sent the naive way, so
	// the check below is able to fail.
	naive := tpmtest.Secret(t)
	sealInClear(t, rec, naive)
	if !rec.Seen(naive) {
		t.Fatal("control: the recorder did not see a secret sealed without parameter encryption")
	}
	rec.Reset()

	s := newTPM2(t, rec)
	secret := tpmtest.Secret(t)
	blob, err := s.Seal(secret)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	got, err := s.Unseal(blob)
	if err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	if !bytes.Equal(got, secret) {
		t.Fatalf("Unseal = %x, want %x", got, secret)
	}
	if rec.Seen(secret) {
		t.Fatal("the secret crossed the bus in clear")
	}

	salted := map[uint32]bool{} // session handle -> started salted with AES-CFB
	var sawCreate, sawUnseal bool
	for _, e := range rec.Exchanges() {
		cc := binary.BigEndian.Uint32(e.Command[6:10])
		switch cc {
		case ccStartAuthSession:
			h, ok := saltedSession(t, e)
			if ok {
				salted[h] = true
			}
		case ccCreate, ccUnseal:
			h, attrs := firstSession(t, e.Command)
			want := byte(attrDecrypt)
			if cc == ccUnseal {
				want = attrEncrypt
				sawUnseal = true
			} else {
				sawCreate = true
			}
			if !salted[h] {
				t.Errorf("command 0x%x used session 0x%08x, which was not started salted with AES-CFB", cc, h)
			}
			if attrs&want == 0 {
				t.Errorf("command 0x%x: session attributes 0x%02x lack 0x%02x (parameter encryption)", cc, attrs, want)
			}
		}
	}
	if !sawCreate || !sawUnseal {
		t.Fatalf("saw Create %v, Unseal %v on the wire; want both", sawCreate, sawUnseal)
	}
}

// sealInClear seals the way a naive program would: password session, no
// parameter encryption.
func sealInClear(t *testing.T, tp transport.TPM, secret []byte) {
	t.Helper()
	srk, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(tp)
	if err != nil {
		t.Fatalf("control: CreatePrimary: %v", err)
	}
	defer tpm2.FlushContext{FlushHandle: srk.ObjectHandle}.Execute(tp)
	_, err = tpm2.Create{
		ParentHandle: tpm2.AuthHandle{Handle: srk.ObjectHandle, Name: srk.Name, Auth: tpm2.PasswordAuth(nil)},
		InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
			Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: secret}),
		}},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type: tpm2.TPMAlgKeyedHash, NameAlg: tpm2.TPMAlgSHA256,
			ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, UserWithAuth: true, NoDA: true},
		}),
	}.Execute(tp)
	if err != nil {
		t.Fatalf("control: Create: %v", err)
	}
}

// saltedSession parses a TPM2_StartAuthSession exchange (Part 3, 11.1) and
// returns the session handle and whether it was salted with a key and set up
// for AES-CFB parameter encryption.
func saltedSession(t *testing.T, e tpmtest.Exchange) (uint32, bool) {
	t.Helper()
	c := e.Command[10:]
	tpmKey := binary.BigEndian.Uint32(c[0:4])
	c = c[8:]                                 // tpmKey, bind
	c = c[2+int(binary.BigEndian.Uint16(c)):] // nonceCaller
	saltLen := int(binary.BigEndian.Uint16(c))
	c = c[2+saltLen:] // encryptedSalt
	c = c[1:]         // sessionType
	alg, mode := binary.BigEndian.Uint16(c[0:2]), binary.BigEndian.Uint16(c[4:6])
	if len(e.Response) < 14 || binary.BigEndian.Uint32(e.Response[6:10]) != 0 {
		t.Fatalf("StartAuthSession failed: %x", e.Response)
	}
	h := binary.BigEndian.Uint32(e.Response[10:14])
	return h, tpmKey != rhNull && saltLen > 0 && alg == algAES && mode == algCFB
}

// firstSession returns the handle and attributes of the first session of a
// command with one handle (Part 1, 18.2).
func firstSession(t *testing.T, cmd []byte) (uint32, byte) {
	t.Helper()
	if binary.BigEndian.Uint16(cmd[0:2]) != 0x8002 {
		t.Fatalf("command 0x%x has no sessions", binary.BigEndian.Uint32(cmd[6:10]))
	}
	s := cmd[10+4+4:] // header, one handle, authorizationSize
	h := binary.BigEndian.Uint32(s[0:4])
	nonce := int(binary.BigEndian.Uint16(s[4:6]))
	return h, s[6+nonce]
}

// TestTPM2LockUntilReboot: after Lock, no sealer on this boot unseals (not
// even a new one, as a restarted boxd would make); a key re-sealed after the
// lock (recovery in the same boot) opens after the reboot, as does the old
// one.
func TestTPM2LockUntilReboot(t *testing.T) {
	sim := tpmtest.NewSim(t)
	s := newTPM2(t, sim)
	secret := tpmtest.Secret(t)
	blob, err := s.Seal(secret)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if locked, err := s.LockedThisBoot(); err != nil || locked {
		t.Fatalf("LockedThisBoot before Lock = %v, %v", locked, err)
	}
	if err := s.Lock(); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := s.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
		t.Fatalf("Unseal after Lock: %v, want ErrUnseal", err)
	}

	other := newTPM2(t, sim) // a restarted boxd
	if _, err := other.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
		t.Fatalf("another sealer's Unseal after Lock: %v, want ErrUnseal", err)
	}
	if locked, err := other.LockedThisBoot(); err != nil || !locked {
		t.Fatalf("another sealer's LockedThisBoot = %v, %v; want true", locked, err)
	}
	if err := other.Lock(); err != nil { // boxd locks again after its own start
		t.Fatalf("second Lock: %v", err)
	}
	resecret := tpmtest.Secret(t)
	reblob, err := other.Seal(resecret) // recovery re-seals in the locked boot
	if err != nil {
		t.Fatalf("Seal after Lock: %v", err)
	}
	if _, err := other.Unseal(reblob); !errors.Is(err, tpm.ErrUnseal) {
		t.Fatalf("Unseal of a key sealed after Lock, same boot: %v, want ErrUnseal", err)
	}

	if err := sim.Reboot(); err != nil {
		t.Fatalf("Reboot: %v", err)
	}
	after := newTPM2(t, sim)
	if locked, err := after.LockedThisBoot(); err != nil || locked {
		t.Fatalf("LockedThisBoot after reboot = %v, %v", locked, err)
	}
	for _, c := range []struct{ blob, want []byte }{{blob, secret}, {reblob, resecret}} {
		got, err := after.Unseal(c.blob)
		if err != nil {
			t.Fatalf("Unseal after reboot: %v", err)
		}
		if !bytes.Equal(got, c.want) {
			t.Fatalf("Unseal after reboot = %x, want %x", got, c.want)
		}
	}
}

// TestTPM2SealAfterLockOnUnknownValue: when something else had extended the
// lock PCR before Lock, its value after reboot is unknown and Seal refuses
// rather than seal a key that would never open.
func TestTPM2SealAfterLockOnUnknownValue(t *testing.T) {
	sim := tpmtest.Simulator(t)
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(15), Auth: tpm2.PasswordAuth(nil)},
		Digests:   tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{HashAlg: tpm2.TPMAlgSHA256, Digest: make([]byte, 32)}}},
	}.Execute(sim)
	if err != nil {
		t.Fatal(err)
	}
	s := newTPM2(t, sim)
	blob, err := s.Seal(tpmtest.Secret(t)) // sealed to the measured value
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if _, err := s.Unseal(blob); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	if err := s.Lock(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
		t.Fatalf("Unseal after Lock: %v, want ErrUnseal", err)
	}
	if _, err := s.Seal(tpmtest.Secret(t)); err == nil {
		t.Fatal("Seal after Lock on a measured PCR succeeded")
	}
}

// TestTPM2Cleared: a cleared or replaced TPM refuses the blob with ErrUnseal
// (the box goes to locked and asks for the recovery code).
func TestTPM2Cleared(t *testing.T) {
	sim := tpmtest.NewSim(t)
	s := newTPM2(t, sim)
	blob, err := s.Seal(tpmtest.Secret(t))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if err := sim.Clear(); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if _, err := s.Unseal(blob); !errors.Is(err, tpm.ErrUnseal) {
		t.Fatalf("Unseal on a cleared TPM: %v, want ErrUnseal", err)
	}
	// Destroy of a blob whose object is already gone succeeds: factory
	// reset on a cleared TPM must not get stuck.
	if err := s.Destroy(blob); err != nil {
		t.Fatalf("Destroy on a cleared TPM: %v", err)
	}
}

// TestTPM2DestroyLeavesOthers: Destroy only evicts the blob's own object,
// even when the handle has since been reused by a newer sealed key.
func TestTPM2DestroyLeavesOthers(t *testing.T) {
	s := newTPM2(t, tpmtest.Simulator(t))
	old, err := s.Seal(tpmtest.Secret(t))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	keep := tpmtest.Secret(t)
	kept, err := s.Seal(keep)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if err := s.Destroy(old); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	newer := tpmtest.Secret(t)
	reused, err := s.Seal(newer) // takes the handle old had
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if err := s.Destroy(old); err != nil {
		t.Fatalf("Destroy(old) again: %v", err)
	}
	for _, c := range []struct{ blob, want []byte }{{kept, keep}, {reused, newer}} {
		got, err := s.Unseal(c.blob)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("Unseal = %x, %v; want %x", got, err, c.want)
		}
	}
}

// TestTPM2HandlesRunOut: a full handle block is a clear Seal error, not a
// clobbered key.
func TestTPM2HandlesRunOut(t *testing.T) {
	s, err := tpm.NewTPM2(tpmtest.Simulator(t), tpm.TPM2Options{LockPCR: 15, Logger: testLogger(t), HandleCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	var blobs [][]byte
	for range 2 {
		b, err := s.Seal(tpmtest.Secret(t))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		blobs = append(blobs, b)
	}
	if _, err := s.Seal(tpmtest.Secret(t)); err == nil {
		t.Fatal("third Seal into two handles succeeded")
	}
	for _, b := range blobs {
		if _, err := s.Unseal(b); err != nil {
			t.Fatalf("Unseal: %v", err)
		}
	}
}

// brokenTPM is a transport whose device has gone away.
type brokenTPM struct{}

func (brokenTPM) Send([]byte) ([]byte, error) {
	return nil, errors.New("write /dev/tpmrm0: no such device")
}

func TestTPM2NoTPM(t *testing.T) {
	log := testLogger(t)
	if _, err := tpm.NewTPM2(nil, tpm.TPM2Options{LockPCR: 15, Logger: log}); !errors.Is(err, tpm.ErrNoTPM) {
		t.Errorf("NewTPM2(nil): %v, want ErrNoTPM", err)
	}
	if _, err := tpm.NewTPM2(brokenTPM{}, tpm.TPM2Options{LockPCR: 15, Logger: log}); !errors.Is(err, tpm.ErrNoTPM) {
		t.Errorf("NewTPM2(broken): %v, want ErrNoTPM", err)
	}
	if _, err := tpm.OpenDevice(filepath.Join(t.TempDir(), "tpmrm0")); !errors.Is(err, tpm.ErrNoTPM) {
		t.Errorf("OpenDevice(missing): %v, want ErrNoTPM", err)
	}

	// The TPM goes away after start: that is "no TPM", not a refused key
	// (which would send the box to recovery for nothing).
	sim := tpmtest.Simulator(t)
	s := newTPM2(t, sim)
	blob, err := s.Seal(tpmtest.Secret(t))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	sim.Close()
	if _, err := s.Unseal(blob); !errors.Is(err, tpm.ErrNoTPM) || errors.Is(err, tpm.ErrUnseal) {
		t.Errorf("Unseal on a closed TPM: %v, want ErrNoTPM only", err)
	}
	if err := s.Lock(); !errors.Is(err, tpm.ErrNoTPM) {
		t.Errorf("Lock on a closed TPM: %v, want ErrNoTPM", err)
	}
}

func TestTPM2Options(t *testing.T) {
	sim := tpmtest.Simulator(t)
	for _, o := range []tpm.TPM2Options{
		{LockPCR: 15},                                                // no logger
		{LockPCR: -1, Logger: testLogger(t)},                         // out of range
		{LockPCR: 24, Logger: testLogger(t)},                         // out of range
		{LockPCR: 16, Logger: testLogger(t)},                         // resettable
		{LockPCR: 23, Logger: testLogger(t)},                         // resettable
		{LockPCR: 15, Logger: testLogger(t), HandleBase: 0x80000000}, // transient range
		{LockPCR: 15, Logger: testLogger(t), HandleBase: 0x817FFFFF, HandleCount: 2},
	} {
		if _, err := tpm.NewTPM2(sim, o); err == nil {
			t.Errorf("NewTPM2(%+v) succeeded, want an error", o)
		}
	}
}

// TestTPM2LastUnseal: Unseal records its own duration for boxd to log.
func TestTPM2LastUnseal(t *testing.T) {
	var now time.Time
	clock := func() time.Time {
		now = now.Add(42 * time.Millisecond)
		return now
	}
	s, err := tpm.NewTPM2(tpmtest.Simulator(t), tpm.TPM2Options{LockPCR: 15, Logger: testLogger(t), Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if d := s.LastUnseal(); d != 0 {
		t.Fatalf("LastUnseal before any unseal = %v, want 0", d)
	}
	blob, err := s.Seal(tpmtest.Secret(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unseal(blob); err != nil {
		t.Fatal(err)
	}
	if d := s.LastUnseal(); d != 42*time.Millisecond {
		t.Fatalf("LastUnseal = %v, want 42ms (one tick of the test clock)", d)
	}
}

func BenchmarkTPM2Seal(b *testing.B) {
	s := benchTPM2(b)
	secret := tpmtest.Secret(b)
	for b.Loop() {
		blob, err := s.Seal(secret)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Destroy(blob); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkTPM2Unseal(b *testing.B) {
	s := benchTPM2(b)
	blob, err := s.Seal(tpmtest.Secret(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Unseal(blob); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTPM2Destroy(b *testing.B) {
	s := benchTPM2(b)
	secret := tpmtest.Secret(b)
	for b.Loop() {
		b.StopTimer()
		blob, err := s.Seal(secret)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.Destroy(blob); err != nil {
			b.Fatal(fmt.Errorf("destroy: %w", err))
		}
	}
}

// benchTPM2 logs nowhere: the per-operation log lines would swamp the
// benchmark output.
func benchTPM2(b *testing.B) *tpm.TPM2 {
	s, err := tpm.NewTPM2(tpmtest.Simulator(b), tpm.TPM2Options{LockPCR: 15, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return s
}
