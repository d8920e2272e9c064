package tpmtest

import (
	"fmt"
	"sync"

	"github.com/chatsecure/box/tpm"
)

// MemNV is the in-memory twin of the TPM NV that holds tpm.NVFloor: a
// counter that only goes up, shared by every Floor opened on it (every
// boxd process on the same TPM).
type MemNV struct {
	mu         sync.Mutex
	value      uint64
	maxCount   uint64 // highest count a counter ever had, as the TPM keeps it
	foreign    bool
	increments int
}

// Open returns a floor on this NV that raises by at most maxStep per call
// (0: tpm.DefaultMaxStep).
func (n *MemNV) Open(maxStep uint64) *MemFloor {
	if maxStep == 0 {
		maxStep = tpm.DefaultMaxStep
	}
	return &MemFloor{nv: n, maxStep: maxStep}
}

// Occupy puts someone else's index where the floor lives.
func (n *MemNV) Occupy() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.foreign = true
}

// Clear is a TPM clear: the owner's indices go; the highest count stays,
// as on the reference implementation.
func (n *MemNV) Clear() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.maxCount = max(n.maxCount, n.value)
	n.value, n.foreign = 0, false
}

// Increments counts the counter increments so far (NV writes).
func (n *MemNV) Increments() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.increments
}

// MemFloor is a tpm.Floor on a MemNV.
type MemFloor struct {
	nv      *MemNV
	maxStep uint64
}

var _ tpm.Floor = (*MemFloor)(nil)

// Get returns the floor, 0 before the first Raise.
func (f *MemFloor) Get() (uint64, error) {
	f.nv.mu.Lock()
	defer f.nv.mu.Unlock()
	if f.nv.foreign {
		return 0, fmt.Errorf("tpmtest: floor: get: %w", tpm.ErrFloorForeign)
	}
	return f.nv.value, nil
}

// Raise counts up to n, at most maxStep increments, like tpm.NVFloor.
func (f *MemFloor) Raise(n uint64) error {
	nv := f.nv
	nv.mu.Lock()
	defer nv.mu.Unlock()
	if nv.foreign {
		return fmt.Errorf("tpmtest: floor: raise: %w", tpm.ErrFloorForeign)
	}
	if n <= nv.value {
		return nil
	}
	var sent uint64
	for nv.value < n && sent < f.maxStep {
		if nv.value == 0 {
			nv.value = nv.maxCount
		}
		nv.value++
		nv.increments++
		sent++
	}
	if nv.value < n {
		return fmt.Errorf("tpmtest: floor: raise to %d: %w (%d): at %d now", n, tpm.ErrFloorStep, f.maxStep, nv.value)
	}
	return nil
}
