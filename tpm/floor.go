package tpm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// A Floor is a number that only goes up: the anti-rollback floor of the
// signed updates (it has the shape of updates.Floor, which this package
// does not import). Raise to a value at or below the floor is a no-op.
type Floor interface {
	Get() (uint64, error)
	Raise(uint64) error
}

var (
	// ErrFloorForeign means the NV index where the floor lives holds
	// something that is not our floor (another type, other attributes,
	// a policy): someone else's index. It is never overwritten or deleted.
	ErrFloorForeign = errors.New("the floor's NV index belongs to someone else")
	// ErrFloorStep means Raise stopped MaxStep below its target to bound
	// NV wear; the floor went up by MaxStep, and the next Raise continues.
	ErrFloorStep = errors.New("floor raised by at most MaxStep per call")
)

// DefaultFloorIndex is the NV index of the floor: in the owner range
// (0x01000000-0x013FFFFF, TCG handle registry), near its top and away from
// the 0x0150xxxx/0x01C0xxxx blocks the platform and EK certificates use.
// "BF" = box floor.
const DefaultFloorIndex = 0x013F4246

// DefaultMaxStep bounds the NV_Increment commands one Raise sends. Release
// build numbers count releases (1, 2, 3…), so a commit normally costs one;
// the bound keeps a jump in numbering from costing minutes and thousands of
// NV writes at once.
const DefaultMaxStep = 256

// FloorOptions configure NewNVFloor.
type FloorOptions struct {
	// Index is the NV index; zero means DefaultFloorIndex. It must be in
	// the owner range.
	Index uint32
	// OwnerAuth is the owner hierarchy's authorization value (empty on a
	// box whose owner auth was never set): it defines the index and
	// authorizes every increment.
	OwnerAuth []byte
	// MaxStep bounds the increments of one Raise; zero means
	// DefaultMaxStep.
	MaxStep uint64
	// Logger is optional (nil discards).
	Logger *slog.Logger
}

// NVFloor keeps the floor in a TPM NV counter, so it survives a factory
// reset of the store (which only crypto-erases the store and the sealed
// key; NV indices stay).
//
// Design, and why:
//   - Index type TPM_NT_COUNTER, value == the floor (a build number). A
//     counter is the only NV type whose "never lower" the TPM enforces by
//     itself for any value: NV_Increment adds 1, nothing subtracts, and a
//     counter that is undefined and defined again starts at the highest
//     value any counter on this TPM ever had (TPM 2.0 Part 1, NV counters;
//     TestNVFloorRebootUndefineClear shows it on the reference TPM), so
//     even the owner cannot roll it back by re-creating the index. The
//     alternatives were weaker: a TPM_NT_BITS index only ORs bits in, which
//     is monotonic but holds at most 65 values as a thermometer, or
//     overshoots (old|new > new) when the build itself is written; an
//     ordinary index (policy-guarded or WRITEDEFINE) can be rewritten to
//     any value by whoever satisfies its write authorization, as can a
//     build number stored beside a counter. The price of the counter is one
//     increment per build number: build numbers must count releases
//     (cmd/boxbuild -build; 1, 2, 3…), not dates or CI run ids. A Raise
//     sends at most MaxStep increments and returns ErrFloorStep when it
//     stopped short; the next Raise continues from there.
//   - NV wear: Get only reads; Raise writes only when the floor goes up, so
//     one increment per committed update (when builds count releases), none
//     per boot. Not TPMA_NV_ORDERLY: an orderly counter is advanced past
//     its RAM value after a power cut, which would put the floor above the
//     running build.
//   - Attributes: OWNERWRITE only, so every increment needs owner
//     authorization (no AUTHWRITE: the index's authValue is empty, and
//     anyone could raise the floor past the next release); OWNERREAD and
//     AUTHREAD (empty authValue), so anyone may read it; NO_DA; not
//     PLATFORMCREATE, PPWRITE or POLICY_DELETE (the platform has no say);
//     no WRITEDEFINE, WRITE_STCLEAR or GLOBALLOCK, so nobody can write-lock
//     it and stop it from rising; no READ_STCLEAR. It is defined on first
//     Raise; an index found at the handle with other attributes, size,
//     name algorithm or policy is someone else's: ErrFloorForeign, and it is
//     left alone.
//   - What can still lower it: NV_UndefineSpace with owner authorization
//     (the counter then restarts above its old value, see above), and a TPM
//     clear (TPM2_Clear, lockout or platform authorization, or the firmware
//     menu), which deletes every owner-hierarchy NV index with it. After
//     that, until the next Raise, Get reports 0 and the store floor is all
//     that is left. The box cannot tell a clear apart from a TPM that never
//     had the floor, but a clear also destroys the sealed database key, so
//     the box is locked until the recovery code is entered. (On the
//     reference implementation the highest-count memory survives the clear,
//     so the next Raise lands above the old floor; the specification does
//     not promise that across a clear.)
//   - The first increment of a new counter starts at that highest count
//     plus one, not at 1. On a TPM whose counters were used before, the
//     floor can therefore land above the build Raise asked for; Raise logs
//     it, and the box then takes only builds above it.
type NVFloor struct {
	tpm  transport.TPM
	mu   *sync.Mutex
	opts FloorOptions
	log  *slog.Logger
}

var _ Floor = (*NVFloor)(nil)

// NewNVFloor returns the floor kept at opts.Index on t. It sends nothing:
// the index is read on Get and defined on the first Raise. The caller keeps
// ownership of t, and must not send commands on it concurrently (use
// TPM2.Floor to share a sealer's transport).
func NewNVFloor(t transport.TPM, opts FloorOptions) (*NVFloor, error) {
	if t == nil {
		return nil, fmt.Errorf("tpm: floor: no transport: %w", ErrNoTPM)
	}
	return newNVFloor(markTransport{t}, &sync.Mutex{}, opts)
}

func newNVFloor(t transport.TPM, mu *sync.Mutex, opts FloorOptions) (*NVFloor, error) {
	if opts.Index == 0 {
		opts.Index = DefaultFloorIndex
	}
	if opts.Index < ownerNVFirst || opts.Index > ownerNVLast {
		return nil, fmt.Errorf("tpm: floor: NV index 0x%08x: not inside the owner range 0x%08x-0x%08x", opts.Index, ownerNVFirst, ownerNVLast)
	}
	if opts.MaxStep == 0 {
		opts.MaxStep = DefaultMaxStep
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &NVFloor{tpm: t, mu: mu, opts: opts, log: log}, nil
}

// Floor returns the anti-rollback floor on this sealer's TPM, over the same
// transport and serialized with the sealer's own commands (one open device,
// one command at a time), with the sealer's owner auth and logger.
func (s *TPM2) Floor() *NVFloor {
	opts := FloorOptions{Index: DefaultFloorIndex, OwnerAuth: s.opts.OwnerAuth, MaxStep: DefaultMaxStep, Logger: s.log}
	return &NVFloor{tpm: s.tpm, mu: &s.mu, opts: opts, log: s.log}
}

// The owner range of NV indices (TCG handle registry).
const (
	ownerNVFirst = 0x01000000
	ownerNVLast  = 0x013FFFFF
)

// floorAttributes are the index attributes we define and accept, apart from
// WRITTEN, which the TPM sets on the first increment.
var floorAttributes = tpm2.TPMANV{
	OwnerWrite: true,
	OwnerRead:  true,
	AuthRead:   true,
	NoDA:       true,
	NT:         tpm2.TPMNTCounter,
}

func (f *NVFloor) public() tpm2.TPMSNVPublic {
	return tpm2.TPMSNVPublic{
		NVIndex:    tpm2.TPMIRHNVIndex(f.opts.Index),
		NameAlg:    tpm2.TPMAlgSHA256,
		Attributes: floorAttributes,
		DataSize:   8,
	}
}

// Get returns the floor: 0 while the index is not defined or never raised.
func (f *NVFloor) Get() (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := f.read()
	if err != nil {
		return 0, f.wrap("floor: get", err)
	}
	return st.value, nil
}

// Raise makes the floor at least n: it defines the index if there is none,
// then increments the counter up to n, at most MaxStep times.
func (f *NVFloor) Raise(n uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	idx := fmt.Sprintf("0x%08x", f.opts.Index)
	st, err := f.read()
	if err != nil {
		return f.wrap("floor: raise", err)
	}
	if n <= st.value {
		return nil
	}
	if st.pub == nil {
		// TPM_RC_NV_DEFINED: another process defined it meanwhile;
		// read checks it is ours.
		if err := f.define(); err != nil && !errors.Is(err, tpm2.TPMRCNVDefined) {
			return f.wrap("floor: raise: define NV index "+idx, err)
		}
		f.log.Info("tpm: defined the anti-rollback floor counter", "index", idx)
		if st, err = f.read(); err != nil {
			return f.wrap("floor: raise: read the new index", err)
		}
	}
	from, cur := st.value, st.value
	var sent uint64
	for cur < n && sent < f.opts.MaxStep {
		if err := f.increment(st.name); err != nil {
			return f.wrap(fmt.Sprintf("floor: raise %d to %d: increment", cur, n), err)
		}
		sent++
		if !st.pub.Attributes.Written {
			// A new counter starts at the highest count this TPM has
			// seen, plus one; and its name changes with WRITTEN.
			if st, err = f.read(); err != nil {
				return f.wrap("floor: raise: read back", err)
			}
			cur = st.value
			if cur > n {
				f.log.Warn("tpm: the new floor counter started above the build asked for (this TPM had counters before); only later builds will be taken",
					"index", idx, "floor", cur, "build", n)
			}
			continue
		}
		cur++
	}
	end, err := f.read()
	if err != nil {
		return f.wrap("floor: raise: read back", err)
	}
	if end.value != cur {
		return fmt.Errorf("tpm: floor: raise: counter reads %d after %d increments from %d, want %d (another writer?)", end.value, sent, from, cur)
	}
	f.log.Info("tpm: raised the anti-rollback floor", "index", idx, "from", from, "to", cur, "increments", sent)
	if cur < n {
		return fmt.Errorf("tpm: floor: raise to %d: %w (%d): at %d now", n, ErrFloorStep, f.opts.MaxStep, cur)
	}
	return nil
}

// nvState is what read found at the index.
type nvState struct {
	pub   *tpm2.TPMSNVPublic // nil: no index
	name  tpm2.TPM2BName
	value uint64 // 0: no index, or never incremented
}

// read returns what is at the index. An index that is not ours is
// ErrFloorForeign.
func (f *NVFloor) read() (nvState, error) {
	rsp, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(f.opts.Index)}.Execute(f.tpm)
	if errors.Is(err, tpm2.TPMRCHandle) {
		return nvState{}, nil
	}
	if err != nil {
		return nvState{}, fmt.Errorf("read public area of NV index 0x%08x: %w", f.opts.Index, err)
	}
	pub, err := rsp.NVPublic.Contents()
	if err != nil {
		return nvState{}, fmt.Errorf("NV index 0x%08x: public area: %w", f.opts.Index, err)
	}
	if err := f.check(pub); err != nil {
		return nvState{}, err
	}
	st := nvState{pub: pub, name: rsp.NVName}
	if !pub.Attributes.Written {
		return st, nil
	}
	data, err := tpm2.NVRead{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(f.opts.Index), Name: rsp.NVName, Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(f.opts.Index), Name: rsp.NVName},
		Size:       8,
	}.Execute(f.tpm)
	if err != nil {
		return nvState{}, fmt.Errorf("read NV index 0x%08x: %w", f.opts.Index, err)
	}
	if len(data.Data.Buffer) != 8 {
		return nvState{}, fmt.Errorf("read NV index 0x%08x: %d bytes, want 8", f.opts.Index, len(data.Data.Buffer))
	}
	st.value = binary.BigEndian.Uint64(data.Data.Buffer)
	return st, nil
}

// check accepts only the index we would have defined.
func (f *NVFloor) check(pub *tpm2.TPMSNVPublic) error {
	want := f.public()
	attrs := pub.Attributes
	attrs.Written = false
	switch {
	case attrs != want.Attributes:
		return fmt.Errorf("%w: NV index 0x%08x has attributes 0x%08x, want 0x%08x (a counter, owner write)",
			ErrFloorForeign, f.opts.Index, nvAttrBits(pub.Attributes), nvAttrBits(want.Attributes))
	case pub.NameAlg != want.NameAlg:
		return fmt.Errorf("%w: NV index 0x%08x has name algorithm %#x, want SHA-256", ErrFloorForeign, f.opts.Index, pub.NameAlg)
	case len(pub.AuthPolicy.Buffer) != 0:
		return fmt.Errorf("%w: NV index 0x%08x has an authorization policy", ErrFloorForeign, f.opts.Index)
	case pub.DataSize != want.DataSize:
		return fmt.Errorf("%w: NV index 0x%08x holds %d bytes, want 8", ErrFloorForeign, f.opts.Index, pub.DataSize)
	}
	return nil
}

func nvAttrBits(a tpm2.TPMANV) uint32 {
	b := tpm2.Marshal(a)
	if len(b) != 4 {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (f *NVFloor) define() error {
	_, err := tpm2.NVDefineSpace{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(f.opts.OwnerAuth)},
		PublicInfo: tpm2.New2B(f.public()),
	}.Execute(f.tpm)
	return err
}

// increment is one NV_Increment, authorized by the owner.
func (f *NVFloor) increment(name tpm2.TPM2BName) error {
	_, err := tpm2.NVIncrement{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(f.opts.OwnerAuth)},
		NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(f.opts.Index), Name: name},
	}.Execute(f.tpm)
	return err
}

// wrap says ErrNoTPM for a broken transport, as the sealer does.
func (f *NVFloor) wrap(op string, err error) error {
	var te *transportError
	if errors.As(err, &te) {
		return fmt.Errorf("tpm: %s: %w: %w", op, ErrNoTPM, err)
	}
	return fmt.Errorf("tpm: %s: %w", op, err)
}
