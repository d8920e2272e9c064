package tpmtest

import (
	"errors"
	"testing"

	"github.com/chatsecure/box/tpm"
)

// FloorNV is the NV (a TPM, or MemNV) that the floor suite runs on.
type FloorNV interface {
	// Open is a new boxd process opening the floor on the same NV, with
	// at most maxStep increments per Raise (0: the default).
	Open(t *testing.T, maxStep uint64) tpm.Floor
	// Occupy puts someone else's index where the floor lives.
	Occupy(t *testing.T)
	// Increments is how many counter increments (NV writes) were sent.
	Increments(t *testing.T) int
}

// TestFloor runs the behaviour every tpm.Floor must have. newNV is called
// once per subtest and must return a fresh, empty NV.
func TestFloor(t *testing.T, newNV func(t *testing.T) FloorNV) {
	t.Run("Fresh", func(t *testing.T) {
		nv := newNV(t)
		f := nv.Open(t, 0)
		mustFloor(t, f, 0)
		if err := f.Raise(0); err != nil {
			t.Fatalf("Raise(0): %v", err)
		}
		mustFloor(t, f, 0)
		if n := nv.Increments(t); n != 0 {
			t.Fatalf("%d increments for nothing", n)
		}
	})

	t.Run("OnlyUp", func(t *testing.T) {
		nv := newNV(t)
		f := nv.Open(t, 0)
		mustRaise(t, f, 3)
		mustFloor(t, f, 3)
		for _, n := range []uint64{0, 1, 2, 3} {
			if err := f.Raise(n); err != nil {
				t.Fatalf("Raise(%d) below the floor: %v, want a no-op", n, err)
			}
			mustFloor(t, f, 3)
		}
		mustRaise(t, f, 5)
		mustFloor(t, f, 5)
		// One NV write per build number, none for reads or no-ops.
		if n := nv.Increments(t); n != 5 {
			t.Fatalf("%d increments to reach 5, want 5", n)
		}
		f.Get()
		f.Raise(4)
		if n := nv.Increments(t); n != 5 {
			t.Fatalf("Get and a lower Raise wrote: %d increments", n)
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		nv := newNV(t)
		a := nv.Open(t, 0)
		mustRaise(t, a, 4)
		b := nv.Open(t, 0)
		mustFloor(t, b, 4)
		// The second process finds the index defined and uses it.
		mustRaise(t, b, 2)
		mustFloor(t, b, 4)
		mustRaise(t, b, 6)
		mustFloor(t, a, 6)
		mustRaise(t, a, 7)
		mustFloor(t, nv.Open(t, 0), 7)
	})

	t.Run("MaxStep", func(t *testing.T) {
		nv := newNV(t)
		f := nv.Open(t, 4)
		for _, want := range []uint64{4, 8} {
			if err := f.Raise(10); !errors.Is(err, tpm.ErrFloorStep) {
				t.Fatalf("Raise(10) with MaxStep 4 = %v, want ErrFloorStep", err)
			}
			mustFloor(t, f, want)
		}
		mustRaise(t, f, 10)
		mustFloor(t, f, 10)
		if n := nv.Increments(t); n != 10 {
			t.Fatalf("%d increments to reach 10, want 10", n)
		}
	})

	t.Run("Foreign", func(t *testing.T) {
		nv := newNV(t)
		nv.Occupy(t)
		f := nv.Open(t, 0)
		if v, err := f.Get(); !errors.Is(err, tpm.ErrFloorForeign) {
			t.Fatalf("Get on someone else's index = %d, %v; want ErrFloorForeign", v, err)
		}
		if err := f.Raise(3); !errors.Is(err, tpm.ErrFloorForeign) {
			t.Fatalf("Raise on someone else's index = %v, want ErrFloorForeign", err)
		}
		if n := nv.Increments(t); n != 0 {
			t.Fatalf("%d increments sent to someone else's index", n)
		}
	})
}

func mustFloor(t *testing.T, f tpm.Floor, want uint64) {
	t.Helper()
	got, err := f.Get()
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got != want {
		t.Fatalf("floor = %d, want %d", got, want)
	}
}

func mustRaise(t *testing.T, f tpm.Floor, n uint64) {
	t.Helper()
	if err := f.Raise(n); err != nil {
		t.Fatalf("Raise(%d): %v", n, err)
	}
}
