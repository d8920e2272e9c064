package gpio_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/gpio"
)

var allSignals = []gpio.Signal{
	gpio.Booting, gpio.Unclaimed, gpio.Locked, gpio.Running, gpio.Updating,
	gpio.Fault, gpio.ResetArmed, gpio.Erasing, gpio.Identify,
}

func TestEverySignalHasAUsablePattern(t *testing.T) {
	if got := gpio.Signals(); fmt.Sprint(got) != fmt.Sprint(allSignals) {
		t.Fatalf("Signals() = %v, want %v", got, allSignals)
	}
	for _, s := range allSignals {
		p, err := gpio.PatternFor(s)
		if err != nil {
			t.Fatalf("PatternFor(%s): %v", s, err)
		}
		if p.Look == "" || p.Meaning == "" {
			t.Errorf("%s: Look and Meaning must say something to a person", s)
		}
		if len(p.Steps) == 0 {
			t.Fatalf("%s: no steps", s)
		}
		lit := false
		for i, st := range p.Steps {
			// Shorter than 50 ms is hard to see at all.
			if st.D < 50*time.Millisecond {
				t.Errorf("%s step %d: %v is too short to see", s, i, st.D)
			}
			lit = lit || st.On
		}
		if !lit {
			t.Errorf("%s: never lights, indistinguishable from a dead box", s)
		}
		// Longer than 5 s and a person cannot recognise it at a glance.
		if c := p.Cycle(); c > 5*time.Second {
			t.Errorf("%s: cycle %v is too long to recognise", s, c)
		}
	}
	if _, err := gpio.PatternFor("disco"); err == nil {
		t.Error("PatternFor(disco) succeeded")
	}
}

// features are what a person can perceive of a pattern without a stopwatch:
// how many flashes per cycle, how much of the time it is lit, how fast it
// repeats.
type features struct {
	pulses int
	duty   float64
	cycle  time.Duration
}

func featuresOf(p gpio.Pattern) features {
	var f features
	var lit time.Duration
	for i, st := range p.Steps {
		if st.On {
			lit += st.D
			prev := p.Steps[(i+len(p.Steps)-1)%len(p.Steps)]
			if !prev.On || len(p.Steps) == 1 {
				f.pulses++
			}
		}
	}
	f.cycle = p.Cycle()
	f.duty = float64(lit) / float64(f.cycle)
	return f
}

func TestPatternsCanBeToldApart(t *testing.T) {
	ps := gpio.Patterns()
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			a, b := featuresOf(ps[i]), featuresOf(ps[j])
			ratio := float64(max(a.cycle, b.cycle)) / float64(min(a.cycle, b.cycle))
			if a.pulses == b.pulses && math.Abs(a.duty-b.duty) < 0.25 && ratio < 2 {
				t.Errorf("%s %+v and %s %+v look alike: same flash count, duty within 25%%, speed within 2×",
					ps[i].Signal, a, ps[j].Signal, b)
			}
		}
	}
}

func TestTimingText(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		steps []gpio.Step
		want  string
	}{
		{[]gpio.Step{{On: true, D: time.Second}}, "steady on"},
		{[]gpio.Step{{On: true, D: 250 * ms}, {D: 250 * ms}}, "250 ms on, 250 ms off"},
		{[]gpio.Step{{On: true, D: 4900 * ms}, {D: 100 * ms}}, "4.9 s on, 100 ms off"},
		{[]gpio.Step{{On: true, D: 2 * time.Second}, {D: 1250 * ms}}, "2 s on, 1250 ms off"},
		{[]gpio.Step{{On: true, D: 150 * ms}, {D: 250 * ms}, {On: true, D: 150 * ms}, {D: 250 * ms}, {D: 1200 * ms}},
			"2 × (150 ms on, 250 ms off), 1.2 s off"},
		{[]gpio.Step{{On: true, D: 150 * ms}, {D: 200 * ms}, {On: true, D: 900 * ms}, {D: 250 * ms}},
			"150 ms on, 200 ms off, 900 ms on, 250 ms off"},
		{[]gpio.Step{{D: 100 * ms}, {On: true, D: 50 * ms}, {D: 50 * ms}, {On: true, D: 50 * ms}, {D: 50 * ms}},
			"100 ms off, 2 × (50 ms on, 50 ms off)"},
	} {
		if got := (gpio.Pattern{Steps: c.steps}).Timing(); got != c.want {
			t.Errorf("Timing(%v) = %q, want %q", c.steps, got, c.want)
		}
	}
}

func TestMarkdownTableHasARowPerSignal(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(gpio.MarkdownTable()), "\n")
	if len(lines) != 2+len(allSignals) {
		t.Fatalf("table has %d lines, want header, rule and %d rows:\n%s", len(lines), len(allSignals), gpio.MarkdownTable())
	}
	for i, s := range allSignals {
		p, _ := gpio.PatternFor(s)
		row := lines[2+i]
		for _, want := range []string{"`" + string(s) + "`", p.Look, p.Timing(), p.Meaning} {
			if !strings.Contains(row, want) {
				t.Errorf("row %d %q lacks %q", i, row, want)
			}
		}
		if n := strings.Count(row, " | "); n != 3 {
			t.Errorf("row %q has %d inner cell separators, want 3 (a | in a cell breaks the table)", row, n)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for _, s := range allSignals {
		got, err := gpio.ParseSignal(string(s))
		if err != nil || got != s {
			t.Errorf("ParseSignal(%q) = %q, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "Running", "reset_armed", "identify "} {
		if _, err := gpio.ParseSignal(bad); err == nil {
			t.Errorf("ParseSignal(%q) succeeded", bad)
		}
	}
}
