package gpio

import (
	"fmt"
	"strings"
	"time"
)

// Timing renders the steps exactly, for the manual: "250 ms on, 250 ms off",
// with runs of a repeated on/off pair folded as "3 × (150 ms on, 250 ms off)".
func (p Pattern) Timing() string {
	if len(p.Steps) == 1 {
		if p.Steps[0].On {
			return "steady on"
		}
		return "steady off"
	}
	var parts []string
	for i := 0; i < len(p.Steps); {
		n := 1
		if i+1 < len(p.Steps) {
			for i+2*n+1 < len(p.Steps) && p.Steps[i+2*n] == p.Steps[i] && p.Steps[i+2*n+1] == p.Steps[i+1] {
				n++
			}
		}
		if n > 1 {
			parts = append(parts, fmt.Sprintf("%d × (%s, %s)", n, stepText(p.Steps[i]), stepText(p.Steps[i+1])))
			i += 2 * n
			continue
		}
		parts = append(parts, stepText(p.Steps[i]))
		i++
	}
	return strings.Join(parts, ", ")
}

func stepText(s Step) string {
	state := "off"
	if s.On {
		state = "on"
	}
	return durationText(s.D) + " " + state
}

// durationText writes 250 ms, 1 s, 4.9 s: how a manual says it.
func durationText(d time.Duration) string {
	if d < time.Second || d%(100*time.Millisecond) != 0 {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	if d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// MarkdownTable renders the LED table of the README from the pattern table.
// The README keeps it between <!-- led-table --> and <!-- /led-table -->;
// a test in this package checks that the two agree.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| State | The LED shows | Timing | What it means |\n")
	b.WriteString("| --- | --- | --- | --- |\n")
	for _, p := range patterns {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Signal, p.Look, p.Timing(), p.Meaning)
	}
	return b.String()
}
