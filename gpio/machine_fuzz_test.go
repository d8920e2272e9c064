package gpio_test

import (
	"testing"
	"time"

	"github.com/chatsecure/box/gpio"
)

// samplesFrom turns fuzz bytes into level changes: each 3 bytes are a gap
// (0–16 s, in ms) and a level.
func samplesFrom(data []byte) []lvl {
	var out []lvl
	at := 0
	for i := 0; i+2 < len(data); i += 3 {
		at += (int(data[i])<<8 | int(data[i+1])) % 16000
		out = append(out, lvl{at, data[i+2]&1 == 1})
	}
	return out
}

func encode(script []lvl) []byte {
	var out []byte
	prev := 0
	for _, s := range script {
		gap := s.at - prev
		prev = s.at
		b := byte(0)
		if s.pressed {
			b = 1
		}
		out = append(out, byte(gap>>8), byte(gap), b)
	}
	return out
}

// FuzzMachine feeds arbitrary level changes (bounces, holds of any length)
// and checks the rules that must always hold: events in time order, the reset
// grammar (armed, then exactly one of confirmed or cancelled), hold times
// matching each event, and no reset left armed once the button rests.
func FuzzMachine(f *testing.F) {
	for _, c := range gestureCases {
		if !c.initial {
			f.Add(encode(c.script))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		script := samplesFrom(data)
		m := newMachine(t, false)
		until := 0
		if len(script) > 0 {
			until = script[len(script)-1].at
		}
		// Let go, and give every window time to run out.
		script = append(script, lvl{until + 1, false})
		evs := byEdges(m, false, script, until+60000)

		tm := gpio.DefaultTiming
		armed := false
		var last time.Time
		for _, e := range evs {
			if e.At.Before(last) {
				t.Fatalf("events out of order: %s", describe(evs))
			}
			last = e.At
			switch e.Kind {
			case gpio.EventIdentify:
				ok(t, !armed && e.Held >= tm.Debounce && e.Held < tm.RebootHold, e, evs)
			case gpio.EventReboot:
				ok(t, !armed && e.Held >= tm.RebootHold && e.Held < tm.ResetHold, e, evs)
			case gpio.EventResetArmed:
				ok(t, !armed && e.Held == tm.ResetHold, e, evs)
				armed = true
			case gpio.EventResetConfirmed:
				ok(t, armed && e.Held >= tm.Debounce && e.Held < tm.RebootHold, e, evs)
				armed = false
			case gpio.EventResetCancelled:
				ok(t, armed && (e.Reason == "timeout" || e.Reason == "long press"), e, evs)
				armed = false
			default:
				t.Fatalf("unknown event %v", e)
			}
		}
		if armed || m.Armed() || m.Pressed() {
			t.Fatalf("at rest the machine is armed=%t/%t pressed=%t: %s", armed, m.Armed(), m.Pressed(), describe(evs))
		}
	})
}

func ok(t *testing.T, cond bool, e gpio.Event, evs []gpio.Event) {
	t.Helper()
	if !cond {
		t.Fatalf("event %v breaks the rules in %s", e, describe(evs))
	}
}
