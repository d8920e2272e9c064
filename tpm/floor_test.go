package tpm_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-tpm/tpm2"

	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/tpmtest"
)

// simNV runs the floor suite on the simulator, counting NV_Increment
// commands on the way.
type simNV struct {
	sim *tpmtest.Sim
	rec *tpmtest.Recorder
}

func newSimNV(t *testing.T) *simNV {
	sim := tpmtest.NewSim(t)
	return &simNV{sim: sim, rec: &tpmtest.Recorder{TPM: sim}}
}

func (n *simNV) Open(t *testing.T, maxStep uint64) tpm.Floor {
	f, err := tpm.NewNVFloor(n.rec, tpm.FloorOptions{MaxStep: maxStep, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (n *simNV) Occupy(t *testing.T) {
	defineIndex(t, n.sim, tpm2.TPMANV{OwnerWrite: true, OwnerRead: true, AuthRead: true, NoDA: true, NT: tpm2.TPMNTOrdinary})
}

func (n *simNV) Increments(t *testing.T) int {
	c := 0
	for _, e := range n.rec.Exchanges() {
		if len(e.Command) >= 10 && tpm2.TPMCC(binary.BigEndian.Uint32(e.Command[6:10])) == tpm2.TPMCCNVIncrement {
			c++
		}
	}
	return c
}

type memNV struct{ nv *tpmtest.MemNV }

func (n memNV) Open(t *testing.T, maxStep uint64) tpm.Floor { return n.nv.Open(maxStep) }
func (n memNV) Occupy(t *testing.T)                         { n.nv.Occupy() }
func (n memNV) Increments(t *testing.T) int                 { return n.nv.Increments() }

func TestNVFloor(t *testing.T) {
	tpmtest.TestFloor(t, func(t *testing.T) tpmtest.FloorNV { return newSimNV(t) })
}

func TestMemFloor(t *testing.T) {
	tpmtest.TestFloor(t, func(t *testing.T) tpmtest.FloorNV { return memNV{&tpmtest.MemNV{}} })
}

// defineIndex puts an 8-byte index with attrs at the floor's handle and
// writes (or increments) it, as another program might have.
func defineIndex(t *testing.T, sim *tpmtest.Sim, attrs tpm2.TPMANV) {
	t.Helper()
	owner := tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
	if _, err := (tpm2.NVDefineSpace{AuthHandle: owner, PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
		NVIndex: tpm.DefaultFloorIndex, NameAlg: tpm2.TPMAlgSHA256, Attributes: attrs, DataSize: 8,
	})}).Execute(sim); err != nil {
		t.Fatalf("define someone else's index: %v", err)
	}
	idx := tpm2.NamedHandle{Handle: tpm.DefaultFloorIndex, Name: nameOf(t, sim)}
	var err error
	switch attrs.NT {
	case tpm2.TPMNTCounter:
		_, err = tpm2.NVIncrement{AuthHandle: owner, NVIndex: idx}.Execute(sim)
	case tpm2.TPMNTBits:
		// go-tpm has no NV_SetBits; defined is enough.
	default:
		_, err = tpm2.NVWrite{AuthHandle: owner, NVIndex: idx, Data: tpm2.TPM2BMaxNVBuffer{Buffer: []byte("theirs!!")}}.Execute(sim)
	}
	if err != nil {
		t.Fatalf("write someone else's index: %v", err)
	}
}

func nameOf(t *testing.T, sim *tpmtest.Sim) tpm2.TPM2BName {
	t.Helper()
	rsp, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(tpm.DefaultFloorIndex)}.Execute(sim)
	if err != nil {
		t.Fatalf("read public: %v", err)
	}
	return rsp.NVName
}

// publicOf reads the index at the floor's handle.
func publicOf(t *testing.T, sim *tpmtest.Sim) *tpm2.TPMSNVPublic {
	t.Helper()
	rsp, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(tpm.DefaultFloorIndex)}.Execute(sim)
	if err != nil {
		t.Fatalf("read public: %v", err)
	}
	pub, err := rsp.NVPublic.Contents()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestNVFloorLeavesForeignIndexAlone: an index of another type or with
// other attributes is refused, and neither rewritten nor deleted.
func TestNVFloorLeavesForeignIndexAlone(t *testing.T) {
	for name, attrs := range map[string]tpm2.TPMANV{
		"ordinary":          {OwnerWrite: true, OwnerRead: true, AuthRead: true, NoDA: true, NT: tpm2.TPMNTOrdinary},
		"counter authwrite": {OwnerWrite: true, AuthWrite: true, OwnerRead: true, AuthRead: true, NoDA: true, NT: tpm2.TPMNTCounter},
		"counter orderly":   {OwnerWrite: true, OwnerRead: true, AuthRead: true, NoDA: true, Orderly: true, NT: tpm2.TPMNTCounter},
		"bits":              {OwnerWrite: true, OwnerRead: true, AuthRead: true, NoDA: true, NT: tpm2.TPMNTBits},
	} {
		t.Run(name, func(t *testing.T) {
			sim := tpmtest.NewSim(t)
			defineIndex(t, sim, attrs)
			before := publicOf(t, sim)
			f, err := tpm.NewNVFloor(sim, tpm.FloorOptions{Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			err = f.Raise(9)
			if !errors.Is(err, tpm.ErrFloorForeign) {
				t.Fatalf("Raise = %v, want ErrFloorForeign", err)
			}
			t.Log(err)
			after := publicOf(t, sim)
			if after.Attributes != before.Attributes || after.DataSize != before.DataSize {
				t.Fatalf("the foreign index changed: %+v → %+v", before, after)
			}
			if attrs.NT == tpm2.TPMNTOrdinary {
				rsp, err := tpm2.NVRead{AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
					NVIndex: tpm2.NamedHandle{Handle: tpm.DefaultFloorIndex, Name: nameOf(t, sim)}, Size: 8}.Execute(sim)
				if err != nil || string(rsp.Data.Buffer) != "theirs!!" {
					t.Fatalf("the foreign index's data: %v", err)
				}
			}
		})
	}
}

// TestNVFloorAttributes pins what is defined: a counter only the owner can
// raise, nobody can write-lock, and that is not orderly.
func TestNVFloorAttributes(t *testing.T) {
	sim := tpmtest.NewSim(t)
	f, err := tpm.NewNVFloor(sim, tpm.FloorOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Raise(1); err != nil {
		t.Fatal(err)
	}
	a := publicOf(t, sim).Attributes
	if a.NT != tpm2.TPMNTCounter || !a.OwnerWrite || a.AuthWrite || a.PolicyWrite || a.PPWrite ||
		a.WriteDefine || a.WriteSTClear || a.GlobalLock || a.Orderly || a.PlatformCreate || a.PolicyDelete || !a.Written {
		t.Fatalf("attributes %+v", a)
	}
	// The index's empty authValue may read but not raise it.
	name := nameOf(t, sim)
	idx := tpm2.AuthHandle{Handle: tpm.DefaultFloorIndex, Name: name, Auth: tpm2.PasswordAuth(nil)}
	if _, err := (tpm2.NVIncrement{AuthHandle: idx, NVIndex: tpm2.NamedHandle{Handle: tpm.DefaultFloorIndex, Name: name}}).Execute(sim); err == nil {
		t.Fatal("NV_Increment with the index's own (empty) auth was accepted")
	}
	if _, err := (tpm2.NVWriteLock{AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		NVIndex: tpm2.NamedHandle{Handle: tpm.DefaultFloorIndex, Name: name}}).Execute(sim); err == nil {
		t.Fatal("the owner could write-lock the floor")
	}
	if bad, err := tpm.NewNVFloor(sim, tpm.FloorOptions{Index: 0x01500000}); err == nil {
		t.Fatalf("index outside the owner range accepted: %v", bad)
	}
}

// TestNVFloorRebootUndefineClear: the floor survives a TPM restart; the
// owner deleting and re-creating the index cannot lower it; a TPM clear
// removes it (Get 0 until the next Raise).
func TestNVFloorRebootUndefineClear(t *testing.T) {
	sim := tpmtest.NewSim(t)
	open := func() *tpm.NVFloor {
		f, err := tpm.NewNVFloor(sim, tpm.FloorOptions{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	get := func(f *tpm.NVFloor) uint64 {
		v, err := f.Get()
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return v
	}
	f := open()
	if err := f.Raise(5); err != nil {
		t.Fatal(err)
	}
	if err := sim.Reboot(); err != nil {
		t.Fatal(err)
	}
	if v := get(open()); v != 5 {
		t.Fatalf("after a TPM restart the floor is %d, want 5", v)
	}

	owner := tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
	if _, err := (tpm2.NVUndefineSpace{AuthHandle: owner, NVIndex: tpm2.NamedHandle{Handle: tpm.DefaultFloorIndex, Name: nameOf(t, sim)}}).Execute(sim); err != nil {
		t.Fatal(err)
	}
	f = open()
	if v := get(f); v != 0 {
		t.Fatalf("floor after undefine = %d, want 0 (no index)", v)
	}
	if err := f.Raise(2); err != nil {
		t.Fatal(err)
	}
	if v := get(f); v <= 5 {
		t.Fatalf("re-created counter starts at %d: the owner rolled the floor back from 5", v)
	}
	top := get(f)

	if _, err := (tpm2.Clear{AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHLockout, Auth: tpm2.PasswordAuth(nil)}}).Execute(sim); err != nil {
		t.Fatalf("TPM2_Clear: %v", err)
	}
	if v := get(open()); v != 0 {
		t.Fatalf("floor after a TPM clear = %d, want 0: the clear removes owner NV indices", v)
	}
	if err := open().Raise(1); err != nil {
		t.Fatal(err)
	}
	// Reference implementation: the highest count outlives the clear.
	if v := get(open()); v <= top {
		t.Fatalf("counter after clear starts at %d, at or below the old %d", v, top)
	}
}

// TestSealerFloorSharesTransport: the sealer's floor runs over the sealer's
// transport between seals and unseals.
func TestSealerFloorSharesTransport(t *testing.T) {
	sim := tpmtest.NewSim(t)
	s := newTPM2(t, sim)
	secret := tpmtest.Secret(t)
	blob, err := s.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	f := s.Floor()
	if err := f.Raise(3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Unseal(blob); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Floor().Get(); err != nil || v != 3 {
		t.Fatalf("floor via a second Floor() = %d, %v", v, err)
	}
	sim.Close()
	if _, err := f.Get(); !errors.Is(err, tpm.ErrNoTPM) {
		t.Fatalf("Get on a closed TPM = %v, want ErrNoTPM", err)
	}
}

// TestNVFloorDefinedNeverRaised: a boxd that crashed between defining the
// index and its first increment left an unwritten counter; the next one
// reads 0 and takes it over.
func TestNVFloorDefinedNeverRaised(t *testing.T) {
	sim := tpmtest.NewSim(t)
	if _, err := (tpm2.NVDefineSpace{
		AuthHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{NVIndex: tpm.DefaultFloorIndex, NameAlg: tpm2.TPMAlgSHA256, DataSize: 8,
			Attributes: tpm2.TPMANV{OwnerWrite: true, OwnerRead: true, AuthRead: true, NoDA: true, NT: tpm2.TPMNTCounter}}),
	}).Execute(sim); err != nil {
		t.Fatal(err)
	}
	f, err := tpm.NewNVFloor(sim, tpm.FloorOptions{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Get(); err != nil || v != 0 {
		t.Fatalf("Get on an unwritten counter = %d, %v", v, err)
	}
	if err := f.Raise(3); err != nil {
		t.Fatal(err)
	}
	if v, err := f.Get(); err != nil || v != 3 {
		t.Fatalf("Get = %d, %v; want 3", v, err)
	}
}

// BenchmarkNVFloor: the cost on the simulator of a commit's Raise (one
// increment) and of a boot's Get.
func BenchmarkNVFloor(b *testing.B) {
	sim := tpmtest.NewSim(b)
	f, err := tpm.NewNVFloor(sim, tpm.FloorOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("RaiseByOne", func(b *testing.B) {
		v, _ := f.Get()
		for b.Loop() {
			v++
			if err := f.Raise(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.Get(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
