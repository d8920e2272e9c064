package appliance

import "testing"

func TestTransitionTable(t *testing.T) {
	allowed := map[[2]State]bool{}
	for from, tos := range transitions {
		for _, to := range tos {
			allowed[[2]State{from, to}] = true
		}
	}
	// The paths the design promises.
	must := [][2]State{
		{StateBoot, StateUnclaimed}, {StateBoot, StateLocked}, {StateBoot, StateFault},
		{StateBoot, StateRunning}, {StateLocked, StateRunning}, {StateLocked, StateUnclaimed},
		{StateUnclaimed, StateRunning}, {StateRunning, StateUpdating}, {StateUpdating, StateRunning},
		{StateFactoryReset, StateUnclaimed},
	}
	for _, p := range must {
		if !CanTransition(p[0], p[1]) {
			t.Errorf("%s → %s must be allowed", p[0], p[1])
		}
	}
	// Any state may start a factory reset.
	for _, s := range States() {
		if s != StateFactoryReset && !CanTransition(s, StateFactoryReset) {
			t.Errorf("%s → factory-reset must be allowed", s)
		}
	}
	// And these must never happen.
	never := [][2]State{
		{StateLocked, StateUpdating},      // no firmware while nobody can read the data
		{StateFault, StateRunning},        // a fault is left by restart or reset only
		{StateFactoryReset, StateRunning}, // an erased box is unclaimed
		{StateRunning, StateBoot},
		{StateUnclaimed, StateLocked},
	}
	for _, p := range never {
		if CanTransition(p[0], p[1]) {
			t.Errorf("%s → %s must be refused", p[0], p[1])
		}
	}
	// Every state in the table is a known state.
	known := map[State]bool{}
	for _, s := range States() {
		known[s] = true
	}
	for p := range allowed {
		if !known[p[0]] || !known[p[1]] {
			t.Errorf("unknown state in %v", p)
		}
	}
	var m machine
	m.state = StateFault
	if err := m.to(StateRunning, ""); err == nil {
		t.Error("machine accepted fault → running")
	}
}
