package interop

import (
	"strings"
)

// Step is one PASS or FAIL line of the script.
type Step struct {
	Name   string
	Pass   bool
	Detail string
}

// parseOutput picks the "PASS step: detail" and "FAIL step: detail" lines
// out of the script's output; anything else (slixmpp noise) is ignored.
func parseOutput(out string) []Step {
	var steps []Step
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		var pass bool
		var rest string
		switch {
		case strings.HasPrefix(line, "PASS "):
			pass, rest = true, line[5:]
		case strings.HasPrefix(line, "FAIL "):
			rest = line[5:]
		default:
			continue
		}
		name, detail, ok := strings.Cut(rest, ": ")
		if !ok {
			name = strings.TrimSuffix(rest, ":")
		}
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		steps = append(steps, Step{Name: name, Pass: pass, Detail: detail})
	}
	return steps
}

// firstFailure is the first failed step, or nil.
func firstFailure(steps []Step) *Step {
	for i := range steps {
		if !steps[i].Pass {
			return &steps[i]
		}
	}
	return nil
}
