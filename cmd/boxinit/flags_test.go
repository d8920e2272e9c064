package main

import (
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	if f, err := parseFlags(nil); err != nil || f.trialDeadline != defaultTrialDeadline {
		t.Fatalf("no args: %+v %v", f, err)
	}
	if f, err := parseFlags([]string{"-trial-deadline", "90s"}); err != nil || f.trialDeadline != 90*time.Second || f.slotsDir != "/perm/box/slots" {
		t.Fatalf("90s: %+v %v", f, err)
	}
	if f, err := parseFlags([]string{"-slots-dir", "/perm/other/slots"}); err != nil || f.slotsDir != "/perm/other/slots" || f.trialDeadline != defaultTrialDeadline {
		t.Fatalf("-slots-dir: %+v %v", f, err)
	}
	for _, bad := range [][]string{{"-trial-deadline", "5s"}, {"-trial-deadline", "soon"}, {"-nope"}, {"extra"}, {"-slots-dir", "rel"}} {
		if f, err := parseFlags(bad); err == nil || f.trialDeadline != defaultTrialDeadline {
			t.Errorf("%q: %+v %v; want an error and the default", bad, f, err)
		}
	}
}
