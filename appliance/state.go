package appliance

import (
	"fmt"
	"slices"
)

// State is where the box is in its life.
type State string

const (
	StateBoot         State = "boot"          // starting: config, key, store
	StateUnclaimed    State = "unclaimed"     // serving, waiting for its first admin
	StateLocked       State = "locked"        // key cannot be unsealed: waits for the recovery code
	StateFault        State = "fault"         // cannot go on (bad config, no TPM): says why and waits
	StateRunning      State = "running"       // claimed and serving
	StateUpdating     State = "updating"      // applying signed firmware
	StateFactoryReset State = "factory-reset" // erasing
)

// transitions is the whole state machine: from → allowed next states.
// Factory reset may start from anywhere (the button must always work).
var transitions = map[State][]State{
	StateBoot:   {StateUnclaimed, StateLocked, StateFault, StateRunning, StateFactoryReset},
	StateLocked: {StateUnclaimed, StateRunning, StateFault, StateFactoryReset},
	StateFault:  {StateFactoryReset},
	// An unclaimed box may take a signed update: a box fresh from the
	// shelf must be patchable before anyone claims it.
	StateUnclaimed:    {StateRunning, StateUpdating, StateFault, StateFactoryReset},
	StateRunning:      {StateUpdating, StateFault, StateFactoryReset},
	StateUpdating:     {StateRunning, StateUnclaimed, StateFault, StateFactoryReset},
	StateFactoryReset: {StateUnclaimed, StateFault},
}

// CanTransition reports whether the state machine allows from → to.
func CanTransition(from, to State) bool {
	return slices.Contains(transitions[from], to)
}

// States lists every state, in the order a manual would describe them.
func States() []State {
	return []State{StateBoot, StateUnclaimed, StateLocked, StateFault, StateRunning, StateUpdating, StateFactoryReset}
}

// machine holds the current state and why the box is there.
type machine struct {
	state  State
	reason string
}

func (m *machine) to(next State, reason string) error {
	if !CanTransition(m.state, next) {
		return fmt.Errorf("appliance: no transition %s → %s", m.state, next)
	}
	m.state, m.reason = next, reason
	return nil
}
