package tpm

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// SecretSize is the only secret length the sealers accept: the 256-bit
// database key.
const SecretSize = 32

// DefaultHandleBase is the first of the persistent handles the TPM 2.0
// sealer uses for its sealed objects; it scans HandleCount handles from
// there for a free one. The block is ours ("CB" = 0x43 0x42) inside the
// owner persistent range, away from the TCG-registered SRK (0x8100xxxx) and
// EK (0x8101xxxx) blocks, so it does not collide with keys other tools keep.
const (
	DefaultHandleBase  = 0x81434200
	DefaultHandleCount = 256
)

// lockEvent is what Lock extends into the lock PCR. Any value would do: the
// point is only that the PCR no longer holds its boot value.
var lockEvent = sha256.Sum256([]byte("ChatSecure Box: database key unsealed; sealed key locked until reboot"))

// lockedFromZero is the lock PCR's value after one Lock from its reset value
// (all zeros): how a fresh process recognises "locked for this boot".
var lockedFromZero = sha256.Sum256(append(make([]byte, sha256.Size), lockEvent[:]...))

// TPM2Options configure NewTPM2.
type TPM2Options struct {
	// LockPCR is the SHA-256 PCR the key is sealed to and that Lock extends
	// (config.TPM.LockPCR, 15 on the image). PCRs 16 and 23 are refused:
	// locality 0 can reset them, which would undo Lock.
	LockPCR int
	// OwnerAuth is the owner hierarchy's authorization value; empty on a
	// box whose owner auth was never set.
	OwnerAuth []byte
	// HandleBase and HandleCount pick the persistent handles to use; zero
	// means DefaultHandleBase and DefaultHandleCount.
	HandleBase  uint32
	HandleCount uint32
	// Logger is required.
	Logger *slog.Logger
	// Now is the clock used to time Unseal; nil means time.Now.
	Now func() time.Time
}

// TPM2 seals the key to a TPM 2.0 through go-tpm's tpm2 API.
//
// Design, and why:
//   - SRK: an ECC P-256 primary from the TCG storage template under the owner
//     hierarchy, re-created for each operation and flushed afterwards. It is
//     derived from the owner seed, so it is the same key every time on the
//     same TPM and no persistent handle is spent on it; a TPM without a
//     resource manager (the TIS driver) is left with no transient objects.
//   - The secret is the data of a keyed-hash object created under the SRK,
//     with no authValue and an authPolicy of PolicyPCR(lock PCR = its value at
//     seal time), so only a policy session can unseal it, and only while the
//     lock PCR still holds its boot value.
//   - The sealed object is made persistent (EvictControl) and never leaves
//     the TPM; the "blob" is only its handle and names. We chose this over
//     saving the object's private/public blob because Destroy must be a real
//     crypto-erase: a saved private blob can be loaded again by anyone who
//     kept a copy, while an evicted persistent object is gone from the TPM's
//     NV for good. (A PolicyNV index would also work, but an index that is
//     re-defined with the same attributes and contents has the same name, so
//     whoever holds the blob and the owner auth could satisfy the policy
//     again; evicting the object leaves nothing to re-create.) The cost is
//     one persistent handle per sealed key, and the box keeps one.
//   - Every command that carries the secret runs in a session salted with
//     the SRK's public key and AES-128-CFB parameter encryption: Create's
//     inSensitive on the way in (decrypt session), Unseal's outData on the way
//     out (encrypt session). Someone on the SPI bus sees neither. The SRK's
//     name is pinned in the blob at seal time and checked before salting at
//     unseal, so the salt is only ever encrypted to the key the object was
//     sealed under.
type TPM2 struct {
	tpm    transport.TPM
	opts   TPM2Options
	log    *slog.Logger
	mu     sync.Mutex
	locked bool
	last   time.Duration
}

// transportError marks a failure of the transport itself (the device went
// away, the bus broke), as opposed to a TPM response code: the former is
// ErrNoTPM, the latter a refusal.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

type markTransport struct{ t transport.TPM }

func (m markTransport) Send(cmd []byte) ([]byte, error) {
	rsp, err := m.t.Send(cmd)
	if err != nil {
		return nil, &transportError{err}
	}
	return rsp, nil
}

// NewTPM2 returns a sealer that talks to t (for example OpenDevice, the
// simulator in tpmtest, or the TIS driver). It reads the lock PCR once to make
// sure a TPM with a SHA-256 bank answers; a transport that fails gives
// ErrNoTPM. The caller keeps ownership of t.
func NewTPM2(t transport.TPM, opts TPM2Options) (*TPM2, error) {
	if t == nil {
		return nil, fmt.Errorf("tpm: no transport: %w", ErrNoTPM)
	}
	if opts.Logger == nil {
		return nil, errors.New("tpm: TPM2Options.Logger is required")
	}
	if opts.LockPCR < 0 || opts.LockPCR > maxPCR {
		return nil, fmt.Errorf("tpm: lock PCR %d: want 0..%d", opts.LockPCR, maxPCR)
	}
	if opts.LockPCR == 16 || opts.LockPCR == 23 {
		return nil, fmt.Errorf("tpm: lock PCR %d: locality 0 can reset it, which would undo the lock", opts.LockPCR)
	}
	if opts.HandleBase == 0 {
		opts.HandleBase = DefaultHandleBase
	}
	if opts.HandleCount == 0 {
		opts.HandleCount = DefaultHandleCount
	}
	if opts.HandleBase < ownerPersistentFirst || opts.HandleBase+opts.HandleCount-1 > ownerPersistentLast || opts.HandleBase+opts.HandleCount < opts.HandleBase {
		return nil, fmt.Errorf("tpm: handles 0x%08x+%d: not inside the owner persistent range", opts.HandleBase, opts.HandleCount)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &TPM2{tpm: markTransport{t}, opts: opts, log: opts.Logger}
	if _, err := s.readPCR(uint8(opts.LockPCR)); err != nil {
		return nil, s.wrap("open", err, nil)
	}
	return s, nil
}

// wrap turns a go-tpm error into one that says what happened: a broken
// transport is ErrNoTPM; anything the TPM refused is refusal (nil leaves
// it unclassified, for Seal).
func (s *TPM2) wrap(op string, err error, refusal error) error {
	var te *transportError
	if errors.As(err, &te) {
		return fmt.Errorf("tpm: %s: %w: %w", op, ErrNoTPM, err)
	}
	if refusal != nil {
		return fmt.Errorf("tpm: %s: %w: %w", op, refusal, err)
	}
	return fmt.Errorf("tpm: %s: %w", op, err)
}

// LastUnseal is how long the last successful Unseal took, for boxd to log.
func (s *TPM2) LastUnseal() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Seal stores secret in a new persistent sealed object bound to the lock
// PCR's boot value and returns the blob naming it.
//
// The boot value is the PCR's current value, unless the PCR is locked for
// this boot: a PCR that went from all zeros through one Lock (boxd locked,
// then the recovery code re-seals in the same boot, or boxd was restarted)
// is sealed to all zeros, its value after the next reboot. A PCR locked on
// top of some other value cannot be told apart from a boot value, so Seal
// refuses after this sealer's own Lock rather than seal a key that would
// never open again.
func (s *TPM2) Seal(secret []byte) ([]byte, error) {
	if len(secret) != SecretSize {
		return nil, fmt.Errorf("tpm: seal: secret is %d bytes, want %d", len(secret), SecretSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.opts.Now()
	pcr := uint8(s.opts.LockPCR)

	value, err := s.readPCR(pcr)
	if err != nil {
		return nil, s.wrap("seal: read lock PCR", err, nil)
	}
	switch {
	case bytes.Equal(value, lockedFromZero[:]):
		s.log.Info("tpm: lock PCR is locked for this boot; sealing to its value after reboot", "pcr", pcr)
		value = make([]byte, sha256.Size)
	case s.locked:
		return nil, fmt.Errorf("tpm: seal: PCR %d was locked on top of a non-zero value, its value after reboot is unknown; seal before Lock", pcr)
	}
	policy, err := pcrPolicy(pcr, value)
	if err != nil {
		return nil, fmt.Errorf("tpm: seal: %w", err)
	}

	srk, err := s.createSRK()
	if err != nil {
		return nil, s.wrap("seal: create SRK", err, nil)
	}
	defer s.flush(srk.handle)

	create, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{
			Handle: srk.handle,
			Name:   srk.name,
			// Salted decrypt session: inSensitive (the secret) is
			// AES-CFB encrypted on the bus.
			Auth: tpm2.HMAC(tpm2.TPMAlgSHA256, 16,
				tpm2.Salted(srk.handle, srk.pub),
				tpm2.AESEncryption(128, tpm2.EncryptIn)),
		},
		InSensitive: tpm2.TPM2BSensitiveCreate{
			Sensitive: &tpm2.TPMSSensitiveCreate{
				Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: secret}),
			},
		},
		InPublic: tpm2.New2B(tpm2.TPMTPublic{
			Type:    tpm2.TPMAlgKeyedHash,
			NameAlg: tpm2.TPMAlgSHA256,
			ObjectAttributes: tpm2.TPMAObject{
				FixedTPM:    true,
				FixedParent: true,
				// No authValue: only the PCR policy can open it.
				UserWithAuth:    false,
				AdminWithPolicy: true,
				// There is no authValue to guess, and a failed policy
				// must not push the TPM into dictionary-attack lockout.
				NoDA: true,
			},
			AuthPolicy: tpm2.TPM2BDigest{Buffer: policy},
		}),
	}.Execute(s.tpm)
	if err != nil {
		return nil, s.wrap("seal: create sealed object", err, nil)
	}

	load, err := tpm2.Load{
		ParentHandle: tpm2.AuthHandle{Handle: srk.handle, Name: srk.name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate:    create.OutPrivate,
		InPublic:     create.OutPublic,
	}.Execute(s.tpm)
	if err != nil {
		return nil, s.wrap("seal: load sealed object", err, nil)
	}
	defer s.flush(load.ObjectHandle)

	handle, err := s.freeHandle()
	if err != nil {
		return nil, s.wrap("seal", err, nil)
	}
	_, err = tpm2.EvictControl{
		Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(s.opts.OwnerAuth)},
		ObjectHandle:     tpm2.NamedHandle{Handle: load.ObjectHandle, Name: load.Name},
		PersistentHandle: tpm2.TPMIDHPersistent(handle),
	}.Execute(s.tpm)
	if err != nil {
		return nil, s.wrap(fmt.Sprintf("seal: persist at 0x%08x", handle), err, nil)
	}
	blob := &tpm2Blob{
		pcr:     pcr,
		handle:  handle,
		srkName: bytes.Clone(srk.name.Buffer),
		objName: bytes.Clone(load.Name.Buffer),
	}
	s.log.Info("tpm: sealed key", "handle", fmt.Sprintf("0x%08x", handle), "pcr", pcr, "took", s.opts.Now().Sub(start).Round(time.Microsecond))
	return blob.marshal(), nil
}

// Unseal opens the sealed object the blob names. Anything the TPM refuses
// (policy not met because Lock ran, object evicted, TPM cleared or replaced,
// damaged blob) is ErrUnseal; a transport that fails is ErrNoTPM.
func (s *TPM2) Unseal(blob []byte) ([]byte, error) {
	b, err := unmarshalTPM2Blob(blob)
	if err != nil {
		return nil, fmt.Errorf("tpm: unseal: %w: %w", ErrUnseal, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.opts.Now()

	if err := s.checkObject(b); err != nil {
		return nil, s.wrap("unseal", err, ErrUnseal)
	}
	srk, err := s.createSRK()
	if err != nil {
		return nil, s.wrap("unseal: create SRK", err, ErrUnseal)
	}
	defer s.flush(srk.handle)
	if !bytes.Equal(srk.name.Buffer, b.srkName) {
		return nil, fmt.Errorf("tpm: unseal: %w: the storage root key differs from the one the key was sealed under (TPM cleared or replaced)", ErrUnseal)
	}

	sess, closeSess, err := tpm2.PolicySession(s.tpm, tpm2.TPMAlgSHA256, 16,
		tpm2.Salted(srk.handle, srk.pub),
		// Encrypt session: outData (the secret) is AES-CFB encrypted
		// on the bus.
		tpm2.AESEncryption(128, tpm2.EncryptOut))
	if err != nil {
		return nil, s.wrap("unseal: start policy session", err, ErrUnseal)
	}
	defer closeSess()
	if _, err := (tpm2.PolicyPCR{
		PolicySession: sess.Handle(),
		Pcrs:          pcrSelection(b.pcr),
	}).Execute(s.tpm); err != nil {
		return nil, s.wrap("unseal: policy PCR", err, ErrUnseal)
	}
	rsp, err := tpm2.Unseal{
		ItemHandle: tpm2.AuthHandle{
			Handle: tpm2.TPMHandle(b.handle),
			Name:   tpm2.TPM2BName{Buffer: b.objName},
			Auth:   sess,
		},
	}.Execute(s.tpm)
	if errors.Is(err, tpm2.TPMRCPolicyFail) {
		return nil, s.wrap(fmt.Sprintf("unseal: PCR %d no longer holds the value the key was sealed to (locked for this boot?)", b.pcr), err, ErrUnseal)
	}
	if err != nil {
		return nil, s.wrap("unseal", err, ErrUnseal)
	}
	secret := rsp.OutData.Buffer
	if len(secret) != SecretSize {
		return nil, fmt.Errorf("tpm: unseal: %w: sealed data is %d bytes, want %d", ErrUnseal, len(secret), SecretSize)
	}
	s.last = s.opts.Now().Sub(start)
	s.log.Info("tpm: unsealed key", "handle", fmt.Sprintf("0x%08x", b.handle), "duration", s.last)
	return secret, nil
}

// Destroy evicts the persistent sealed object the blob names, so no copy of
// the blob can be unsealed again. A blob whose object is already gone (or
// was replaced by another object at the same handle) is already destroyed:
// Destroy returns nil and leaves the other object alone.
func (s *TPM2) Destroy(blob []byte) error {
	b, err := unmarshalTPM2Blob(blob)
	if err != nil {
		return fmt.Errorf("tpm: destroy: %w: %w", ErrUnseal, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := fmt.Sprintf("0x%08x", b.handle)
	if err := s.checkObject(b); err != nil {
		if errors.Is(err, errObjectGone) {
			s.log.Info("tpm: destroy: sealed object already gone", "handle", h, "reason", err)
			return nil
		}
		return s.wrap("destroy", err, nil)
	}
	_, err = tpm2.EvictControl{
		Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(s.opts.OwnerAuth)},
		ObjectHandle:     tpm2.NamedHandle{Handle: tpm2.TPMHandle(b.handle), Name: tpm2.TPM2BName{Buffer: b.objName}},
		PersistentHandle: tpm2.TPMIDHPersistent(b.handle),
	}.Execute(s.tpm)
	if err != nil {
		return s.wrap("destroy: evict "+h, err, nil)
	}
	s.log.Info("tpm: destroyed sealed key", "handle", h)
	return nil
}

// Lock extends the lock PCR so that no sealed key opens again until the
// next boot, in this process or any other. Locking a PCR that is already
// locked from zero (an earlier boxd on this boot) leaves it as it is, so it
// stays recognisable for Seal and LockedThisBoot.
func (s *TPM2) Lock() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	value, err := s.readPCR(uint8(s.opts.LockPCR))
	if err != nil {
		return s.wrap(fmt.Sprintf("lock: read PCR %d", s.opts.LockPCR), err, nil)
	}
	if bytes.Equal(value, lockedFromZero[:]) {
		s.locked = true
		s.log.Info("tpm: already locked until reboot", "pcr", s.opts.LockPCR)
		return nil
	}
	_, err = tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(s.opts.LockPCR), Auth: tpm2.PasswordAuth(nil)},
		Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{
			{HashAlg: tpm2.TPMAlgSHA256, Digest: lockEvent[:]},
		}},
	}.Execute(s.tpm)
	if err != nil {
		return s.wrap(fmt.Sprintf("lock: extend PCR %d", s.opts.LockPCR), err, nil)
	}
	s.locked = true
	s.log.Info("tpm: locked until reboot", "pcr", s.opts.LockPCR)
	return nil
}

// LockedThisBoot reports whether the lock PCR is locked for this boot (by
// this sealer or an earlier process), so that boxd can tell "reboot to
// unseal" apart from "TPM cleared or replaced: recovery code needed".
func (s *TPM2) LockedThisBoot() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	value, err := s.readPCR(uint8(s.opts.LockPCR))
	if err != nil {
		return false, s.wrap("read lock PCR", err, nil)
	}
	return s.locked || bytes.Equal(value, lockedFromZero[:]), nil
}

// checkObject makes sure the persistent handle holds the very object the
// blob was made for (ReadPublic's name equals the blob's).
func (s *TPM2) checkObject(b *tpm2Blob) error {
	rsp, err := tpm2.ReadPublic{ObjectHandle: tpm2.TPMHandle(b.handle)}.Execute(s.tpm)
	if errors.Is(err, tpm2.TPMRCHandle) {
		return fmt.Errorf("%w: no object at 0x%08x (destroyed, or TPM cleared or replaced): %w", errObjectGone, b.handle, err)
	}
	if err != nil {
		return fmt.Errorf("read sealed object at 0x%08x: %w", b.handle, err)
	}
	if !bytes.Equal(rsp.Name.Buffer, b.objName) {
		return fmt.Errorf("%w: the object at 0x%08x is not the one this blob was sealed to", errObjectGone, b.handle)
	}
	return nil
}

// errObjectGone means the blob's sealed object is no longer in the TPM.
var errObjectGone = errors.New("sealed object gone")

type srkKey struct {
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	pub    tpm2.TPMTPublic
}

func (s *TPM2) createSRK() (*srkKey, error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(s.opts.OwnerAuth)},
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(s.tpm)
	if err != nil {
		return nil, err
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		s.flush(rsp.ObjectHandle)
		return nil, fmt.Errorf("SRK public area: %w", err)
	}
	return &srkKey{handle: rsp.ObjectHandle, name: rsp.Name, pub: *pub}, nil
}

// flush drops a transient object; failures only leak a slot until the next
// boot, so they are logged, not returned.
func (s *TPM2) flush(h tpm2.TPMHandle) {
	if _, err := (tpm2.FlushContext{FlushHandle: h}).Execute(s.tpm); err != nil {
		s.log.Warn("tpm: flush transient object", "handle", fmt.Sprintf("0x%08x", uint32(h)), "err", err)
	}
}

// freeHandle returns the first handle in our block that no persistent object
// occupies.
func (s *TPM2) freeHandle() (uint32, error) {
	used := make(map[uint32]bool)
	next := s.opts.HandleBase
	end := s.opts.HandleBase + s.opts.HandleCount
	for next < end {
		rsp, err := tpm2.GetCapability{
			Capability:    tpm2.TPMCapHandles,
			Property:      next,
			PropertyCount: end - next,
		}.Execute(s.tpm)
		if err != nil {
			return 0, fmt.Errorf("list persistent handles: %w", err)
		}
		hs, err := rsp.CapabilityData.Data.Handles()
		if err != nil {
			return 0, fmt.Errorf("list persistent handles: %w", err)
		}
		for _, h := range hs.Handle {
			used[uint32(h)] = true
		}
		if !rsp.MoreData || len(hs.Handle) == 0 {
			break
		}
		last := uint32(hs.Handle[len(hs.Handle)-1])
		if last < next || last >= end {
			break
		}
		next = last + 1
	}
	for h := s.opts.HandleBase; h < end; h++ {
		if !used[h] {
			return h, nil
		}
	}
	return 0, fmt.Errorf("all %d persistent handles from 0x%08x are in use", s.opts.HandleCount, s.opts.HandleBase)
}

func pcrSelection(pcr uint8) tpm2.TPMLPCRSelection {
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash:      tpm2.TPMAlgSHA256,
		PCRSelect: tpm2.PCClientCompatible.PCRs(uint(pcr)),
	}}}
}

func (s *TPM2) readPCR(pcr uint8) ([]byte, error) {
	rsp, err := tpm2.PCRRead{PCRSelectionIn: pcrSelection(pcr)}.Execute(s.tpm)
	if err != nil {
		return nil, err
	}
	if len(rsp.PCRValues.Digests) != 1 || len(rsp.PCRValues.Digests[0].Buffer) != sha256.Size {
		return nil, fmt.Errorf("PCR %d: the TPM has no active SHA-256 bank", pcr)
	}
	return rsp.PCRValues.Digests[0].Buffer, nil
}

// pcrPolicy computes the policy digest of PolicyPCR(pcr = value), exactly
// as the TPM will compute it in the unseal session.
func pcrPolicy(pcr uint8, value []byte) ([]byte, error) {
	calc, err := tpm2.NewPolicyCalculator(tpm2.TPMAlgSHA256)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(value)
	if err := (tpm2.PolicyPCR{
		PcrDigest: tpm2.TPM2BDigest{Buffer: digest[:]},
		Pcrs:      pcrSelection(pcr),
	}).Update(calc); err != nil {
		return nil, fmt.Errorf("PCR policy: %w", err)
	}
	return calc.Hash().Digest, nil
}
