package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/services/xmpp"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/devslots"
)

// TestDecideTrial walks the decision with a fake clock: wait moves it on
// by one poll.
func TestDecideTrial(t *testing.T) {
	const poll, deadline = 2 * time.Second, 10 * time.Second
	bad := checkReport{failed: []string{"xmpp: not listening yet"}}
	cases := []struct {
		name   string
		rounds []checkReport // the last one repeats
		ok     bool
		ran    int
	}{
		{"healthy at once", []checkReport{{}}, true, 1},
		{"healthy on the third round", []checkReport{bad, bad, {skipped: []string{"console: x"}}}, true, 3},
		{"down for good: no waiting", []checkReport{{failed: []string{"xmpp: not running: listen"}, final: true}}, false, 1},
		{"never healthy: until the deadline", []checkReport{bad}, false, int(deadline/poll) + 1},
	}
	for _, c := range cases {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		ran := 0
		round := func() checkReport {
			r := c.rounds[min(ran, len(c.rounds)-1)]
			ran++
			return r
		}
		rep, ok := decideTrial(round, func() time.Time { return now }, func() { now = now.Add(poll) }, deadline)
		if ok != c.ok || ran != c.ran {
			t.Errorf("%s: ok=%v after %d rounds, want %v after %d (%s)", c.name, ok, ran, c.ok, c.ran, rep)
		}
	}
}

func TestRunChecksReport(t *testing.T) {
	ran := map[string]bool{}
	rep := runChecks(context.Background(), []trialCheck{
		{name: "store", run: func(context.Context) error { ran["store"] = true; return nil }},
		{name: "xmpp", run: func(context.Context) error { ran["xmpp"] = true; return errors.New("selfcheck: tls: bad cert") }},
		{name: "console", skip: "needs XMPP", run: func(context.Context) error { ran["console"] = true; return nil }},
		{name: "push", down: errors.New("listen: address in use")},
	})
	if !ran["store"] || !ran["xmpp"] || ran["console"] {
		t.Fatalf("ran %v", ran)
	}
	want := "failed: xmpp: selfcheck: tls: bad cert; push: not running: listen: address in use; skipped: console: needs XMPP"
	if rep.ok() || !rep.final || rep.String() != want {
		t.Fatalf("report %q final=%v, want %q", rep, rep.final, want)
	}
}

func TestLoopback(t *testing.T) {
	for in, want := range map[string]string{"[::]:5222": "127.0.0.1:5222", "0.0.0.0:443": "127.0.0.1:443", "127.0.0.1:9": "127.0.0.1:9", "[::1]:8": "[::1]:8", "10.1.2.3:7": "10.1.2.3:7"} {
		a, err := net.ResolveTCPAddr("tcp", in)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := loopback(a); err != nil || got != want {
			t.Errorf("%s → %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := loopback(&net.UnixAddr{Name: "/x"}); err == nil {
		t.Error("a unix address was accepted")
	}
}

// trialBox starts a dev box whose slots hold an uncommitted v2 on trial,
// running the real XMPP and console services on loopback ports.
func trialBox(t *testing.T, mutate func(*Options)) *box {
	t.Helper()
	dir := t.TempDir()
	slots, err := devslots.Open(filepath.Join(dir, dirSlots), updates.SlotInfo{Version: "1.0.0", Build: 1}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := slots.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	return start(t, dir, newFakeSealer(), func(o *Options) {
		o.Config.XMPP.C2S, o.Config.XMPP.C2STLS = "127.0.0.1:0", "127.0.0.1:0"
		o.Config.Console.Listen = "127.0.0.1:0"
		o.Services = serviceFactories()
		if mutate != nil {
			mutate(o)
		}
	})
}

// decided waits (bounded, as a hang guard) until the trial has been
// committed or abandoned and the decision is in the update history, and
// returns that history. The slot changes a moment before the record is
// written, so the slot state alone is not enough.
func (b *box) decided() []updates.Record {
	b.t.Helper()
	for range 600 {
		b.sys.mu.Lock()
		u := b.sys.updater
		b.sys.mu.Unlock()
		if u != nil {
			if st, err := u.Status(); err == nil && !st.Slots.InTrial() && st.Slots.Trial == "" {
				h := b.history()
				switch last(h).Outcome {
				case updates.Committed, updates.RolledBack, updates.Abandoned:
					return h
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("the trial was neither committed nor abandoned; log:\n%s", b.logs)
	return nil
}

func (b *box) history() []updates.Record {
	b.t.Helper()
	b.sys.mu.Lock()
	defer b.sys.mu.Unlock()
	rows, err := b.sys.store.DB().Query("SELECT record FROM update_history ORDER BY rowid")
	if err != nil {
		b.t.Fatal(err)
	}
	defer rows.Close()
	var out []updates.Record
	for rows.Next() {
		var s string
		var r updates.Record
		if err := rows.Scan(&s); err != nil {
			b.t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			b.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func last(h []updates.Record) updates.Record {
	if len(h) == 0 {
		return updates.Record{}
	}
	return h[len(h)-1]
}

// TestTrialHealthyCommits: store, XMPP login and console all answer, so
// the trial commits; the health login left no account behind.
func TestTrialHealthyCommits(t *testing.T) {
	b := trialBox(t, nil)
	h := b.decided()
	if r := last(h); r.Outcome != updates.Committed || r.To != "2.0.0" {
		t.Fatalf("history %+v\nlog:\n%s", h, b.logs)
	}
	if !strings.Contains(b.logs.String(), `trial boot healthy; committed" skipped=""`) {
		t.Fatalf("no commit logged:\n%s", b.logs)
	}
	b.sys.mu.Lock()
	var x *xmpp.Server
	for _, svc := range b.sys.svcs {
		if s, ok := svc.(*xmpp.Server); ok {
			x = s
		}
	}
	b.sys.mu.Unlock()
	if users, err := x.Accounts().List(context.Background()); err != nil || len(users) != 0 {
		t.Fatalf("accounts after the health check: %v %v", users, err)
	}
}

// TestTrialXMPPDownRollsBack: XMPP cannot listen; the check fails for good
// at once and the history says which check and why.
func TestTrialXMPPDownRollsBack(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	b := trialBox(t, func(o *Options) { o.Config.XMPP.C2S = taken.Addr().String() })
	r := last(b.decided())
	if r.Outcome != updates.RolledBack || r.From != "2.0.0" || !strings.Contains(r.Why, "xmpp: not running") || !strings.Contains(r.Why, "address already in use") {
		t.Fatalf("last record %+v\nlog:\n%s", r, b.logs)
	}
	if !strings.Contains(b.logs.String(), "reboot") {
		t.Errorf("no reboot after abandoning:\n%s", b.logs)
	}
}

// TestTrialConsoleDownRollsBack: the console cannot listen.
func TestTrialConsoleDownRollsBack(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	b := trialBox(t, func(o *Options) { o.Config.Console.Listen = taken.Addr().String() })
	r := last(b.decided())
	if r.Outcome != updates.RolledBack || !strings.Contains(r.Why, "console: not running") || strings.Contains(r.Why, "xmpp:") {
		t.Fatalf("last record %+v\nlog:\n%s", r, b.logs)
	}
}

// TestTrialUnclaimedWithoutDomain: an unclaimed box with no XMPP domain
// runs neither XMPP nor the console; the check says so and commits on the
// store.
func TestTrialUnclaimedWithoutDomain(t *testing.T) {
	b := trialBox(t, func(o *Options) { o.Config.XMPP.Domain = "" })
	if r := last(b.decided()); r.Outcome != updates.Committed {
		t.Fatalf("last record %+v\nlog:\n%s", r, b.logs)
	}
	log := b.logs.String()
	for _, want := range []string{"xmpp: not configured yet (no domain) on an unclaimed box", "console: needs XMPP"} {
		if !strings.Contains(log, want) {
			t.Errorf("commit log does not say %q:\n%s", want, log)
		}
	}
}

// TestTrialWithoutServices: a boxd that runs no services (as the other
// appliance tests do) is judged on its store alone.
func TestTrialWithoutServices(t *testing.T) {
	b := trialBox(t, func(o *Options) { o.Services = nil })
	if r := last(b.decided()); r.Outcome != updates.Committed {
		t.Fatalf("last record %+v\nlog:\n%s", r, b.logs)
	}
	if log := b.logs.String(); !strings.Contains(log, "xmpp: not run by this boxd; console: not run by this boxd") {
		t.Errorf("commit log does not name the skipped services:\n%s", log)
	}
}
