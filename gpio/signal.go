package gpio

import "fmt"

// Signal is what the LED is telling a person: one per appliance state, plus
// identify. The string form is what boxctl status and the console show.
type Signal string

// The signals, in the order the manual lists them.
const (
	Booting    Signal = "booting"
	Unclaimed  Signal = "unclaimed"
	Locked     Signal = "locked"
	Running    Signal = "running"
	Updating   Signal = "updating"
	Fault      Signal = "fault"
	ResetArmed Signal = "reset-armed"
	Erasing    Signal = "erasing"
	Identify   Signal = "identify"
)

// Signals lists every signal in manual order.
func Signals() []Signal {
	out := make([]Signal, len(patterns))
	for i, p := range patterns {
		out[i] = p.Signal
	}
	return out
}

// ParseSignal turns a name such as "reset-armed" into a Signal.
func ParseSignal(name string) (Signal, error) {
	for _, p := range patterns {
		if string(p.Signal) == name {
			return p.Signal, nil
		}
	}
	return "", fmt.Errorf("gpio: unknown LED signal %q", name)
}
