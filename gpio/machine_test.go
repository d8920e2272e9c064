package gpio_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/gpio"
)

// lvl is one change of the raw button level, in ms after epoch.
type lvl struct {
	at      int
	pressed bool
}

func hold(at, ms int) []lvl { return []lvl{{at, true}, {at + ms, false}} }

func seq(parts ...[]lvl) []lvl {
	var out []lvl
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func newMachine(t testing.TB, pressed bool) *gpio.Machine {
	m, err := gpio.NewMachine(gpio.DefaultTiming, epoch, pressed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// byEdges feeds the machine as an edge-driven button does: a sample at every
// level change and at every Deadline, up to until ms.
func byEdges(m *gpio.Machine, initial bool, script []lvl, until int) []gpio.Event {
	var evs []gpio.Event
	cur, i := initial, 0
	end := epoch.Add(time.Duration(until) * time.Millisecond)
	for {
		dl, ok := m.Deadline()
		ok = ok && !dl.After(end)
		var next time.Time
		if i < len(script) {
			next = epoch.Add(time.Duration(script[i].at) * time.Millisecond)
		}
		switch {
		case ok && (i == len(script) || !dl.After(next)):
			evs = append(evs, m.Update(dl, cur)...)
		case i < len(script):
			cur = script[i].pressed
			evs = append(evs, m.Update(next, cur)...)
			i++
		default:
			return evs
		}
	}
}

// byPolling feeds the machine as a polling button does: a sample every 10 ms.
func byPolling(m *gpio.Machine, initial bool, script []lvl, until int) []gpio.Event {
	var evs []gpio.Event
	cur, i := initial, 0
	for ms := 0; ms <= until; ms += 10 {
		for i < len(script) && script[i].at <= ms {
			cur = script[i].pressed
			i++
		}
		evs = append(evs, m.Update(epoch.Add(time.Duration(ms)*time.Millisecond), cur)...)
	}
	return evs
}

func describe(evs []gpio.Event) string {
	var parts []string
	for _, e := range evs {
		s := fmt.Sprintf("%s@%d", e.Kind, e.At.Sub(epoch).Milliseconds())
		if e.Held > 0 {
			s += fmt.Sprintf("/%d", e.Held.Milliseconds())
		}
		if e.Reason != "" {
			s += "(" + e.Reason + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// The gestures of the manual. Times are ms; "kind@at/held(reason)". Levels
// change on a 10 ms grid so edge and poll feeding must agree exactly.
var gestureCases = []struct {
	name    string
	initial bool
	script  []lvl
	until   int
	want    string
}{
	{"short press", false, hold(1000, 200), 5000, "identify@1200/200"},
	{"just under five seconds", false, hold(1000, 4990), 20000, "identify@5990/4990"},
	{"five seconds reboots", false, hold(1000, 5000), 20000, "reboot@6000/5000"},
	{"just under ten seconds reboots", false, hold(1000, 9990), 30000, "reboot@10990/9990"},
	{"ten seconds arms while held, then times out", false, hold(1000, 12000), 40000,
		"reset-armed@11000/10000 reset-cancelled@23000(timeout)"},
	{"exactly ten seconds arms", false, hold(1000, 10000), 40000,
		"reset-armed@11000/10000 reset-cancelled@21000(timeout)"},
	{"second short press confirms", false, seq(hold(1000, 11000), hold(15000, 300)), 40000,
		"reset-armed@11000/10000 reset-confirmed@15300/300"},
	{"confirm press started inside the window counts", false, seq(hold(1000, 11000), hold(21990, 300)), 40000,
		"reset-armed@11000/10000 reset-confirmed@22290/300"},
	{"press at the end of the window is too late", false, seq(hold(1000, 11000), hold(22000, 200)), 40000,
		"reset-armed@11000/10000 reset-cancelled@22000(timeout) identify@22200/200"},
	{"long second press cancels while held", false, seq(hold(1000, 11000), hold(15000, 7000), hold(25000, 100)), 40000,
		"reset-armed@11000/10000 reset-cancelled@20000/5000(long press) identify@25100/100"},
	{"very long second press does not arm again", false, seq(hold(1000, 11000), hold(15000, 15000)), 60000,
		"reset-armed@11000/10000 reset-cancelled@20000/5000(long press)"},
	{"a 20 ms blip is a bounce", false, hold(1000, 20), 5000, ""},
	{"a burst of bounces is nothing", false, []lvl{{1000, true}, {1010, false}, {1020, true}, {1030, false}, {1040, true}, {1060, false}}, 5000, ""},
	{"bouncy press and release count once, from the settled edges", false,
		[]lvl{{1000, true}, {1010, false}, {1020, true}, {1520, false}, {1530, true}, {1540, false}}, 5000,
		"identify@1540/520"},
	{"a release blip in a long hold does not split it", false,
		[]lvl{{1000, true}, {4000, false}, {4020, true}, {8000, false}}, 20000, "reboot@8000/7000"},
	{"bouncy release after arming opens the window at the settled edge", false,
		[]lvl{{1000, true}, {12000, false}, {12010, true}, {12020, false}}, 40000,
		"reset-armed@11000/10000 reset-cancelled@22020(timeout)"},
	{"a bounce in the window is not a confirmation", false, seq(hold(1000, 11000), hold(15000, 20)), 40000,
		"reset-armed@11000/10000 reset-cancelled@22000(timeout)"},
	{"pressed at boot is ignored until released", true, seq([]lvl{{3000, false}}, hold(4000, 200)), 10000,
		"identify@4200/200"},
	{"held from boot never arms", true, []lvl{{30000, false}}, 60000, ""},
	{"reboot then identify", false, seq(hold(1000, 6000), hold(9000, 100)), 20000,
		"reboot@7000/6000 identify@9100/100"},
}

func TestMachineGestures(t *testing.T) {
	for _, c := range gestureCases {
		t.Run(c.name, func(t *testing.T) {
			if got := describe(byEdges(newMachine(t, c.initial), c.initial, c.script, c.until)); got != c.want {
				t.Errorf("fed by edges:   %q\n                 want %q", got, c.want)
			}
			if got := describe(byPolling(newMachine(t, c.initial), c.initial, c.script, c.until)); got != c.want {
				t.Errorf("fed by polling: %q\n                 want %q", got, c.want)
			}
		})
	}
}

func TestMachineArmsBeforeRelease(t *testing.T) {
	m := newMachine(t, false)
	m.Update(epoch, true)
	if evs := m.Update(epoch.Add(10*time.Second-time.Millisecond), true); len(evs) != 0 {
		t.Fatalf("events before 10 s: %v", evs)
	}
	if m.Armed() {
		t.Fatal("armed before 10 s")
	}
	evs := m.Update(epoch.Add(10*time.Second), true)
	if len(evs) != 1 || evs[0].Kind != gpio.EventResetArmed || !m.Pressed() || !m.Armed() {
		t.Fatalf("at 10 s, still held: events %v pressed=%t armed=%t", evs, m.Pressed(), m.Armed())
	}
}

func TestMachineDeadlines(t *testing.T) {
	m := newMachine(t, false)
	if _, ok := m.Deadline(); ok {
		t.Fatal("idle machine wants a sample")
	}
	m.Update(epoch, true)
	if dl, ok := m.Deadline(); !ok || !dl.Equal(epoch.Add(30*time.Millisecond)) {
		t.Fatalf("pending press: deadline %v %t, want debounce end", dl, ok)
	}
	m.Update(epoch.Add(30*time.Millisecond), true)
	if dl, ok := m.Deadline(); !ok || !dl.Equal(epoch.Add(10*time.Second)) {
		t.Fatalf("held: deadline %v %t, want reset hold", dl, ok)
	}
}

func TestMachineIgnoresTimeGoingBack(t *testing.T) {
	m := newMachine(t, false)
	m.Update(epoch.Add(time.Second), true)
	m.Update(epoch.Add(time.Second+30*time.Millisecond), true)
	evs := m.Update(epoch, false) // a clock step back: taken as "no time passed"
	evs = append(evs, m.Update(epoch.Add(time.Second+100*time.Millisecond), false)...)
	if got := describe(evs); got != "identify@1030/30" {
		t.Fatalf("got %q", got)
	}
}

func TestTimingValidate(t *testing.T) {
	if err := gpio.DefaultTiming.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []gpio.Timing{
		{},
		{Debounce: 30 * time.Millisecond, RebootHold: 10 * time.Millisecond, ResetHold: time.Second, ConfirmWindow: time.Second},
		{Debounce: 30 * time.Millisecond, RebootHold: 5 * time.Second, ResetHold: 5 * time.Second, ConfirmWindow: time.Second},
		{Debounce: 30 * time.Millisecond, RebootHold: 5 * time.Second, ResetHold: 10 * time.Second},
	}
	for _, tm := range bad {
		if _, err := gpio.NewMachine(tm, epoch, false); err == nil {
			t.Errorf("NewMachine accepted %+v", tm)
		}
	}
}
