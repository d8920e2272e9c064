package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/cmd/xmppload/load/loadtest"
)

func fakeServer(t *testing.T, users int) *loadtest.Server {
	t.Helper()
	s, err := loadtest.New("localhost")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i := 1; i <= users; i++ {
		if err := s.AddUser(fmt.Sprintf("user%d", i), "pass"); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// run runs the tool and returns its JSON result (when it wrote one) and
// printed output.
func run(t *testing.T, args ...string) (*Result, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.json")
	args = append(args, "-json", path, "-label", "fake")
	var out bytes.Buffer
	err := Run(context.Background(), args, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	b, rerr := os.ReadFile(path)
	if rerr != nil {
		return nil, out.String(), err
	}
	r := &Result{}
	if jerr := json.Unmarshal(b, r); jerr != nil {
		t.Fatalf("result JSON: %v", jerr)
	}
	return r, out.String(), err
}

func TestLoginEachMechanism(t *testing.T) {
	srv := fakeServer(t, 8)
	want := int64(0)
	for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"} {
		r, out, err := run(t, "login", "-addr", srv.Addr(), "-mech", mech, "-n", "8", "-rate", "0")
		if err != nil {
			t.Fatalf("%s: %v\n%s", mech, err, out)
		}
		want += 8
		if r.Logins != 8 || r.Failed != 0 || r.Login.N != 8 || r.LoginsPerSec <= 0 {
			t.Fatalf("%s: result %+v", mech, r)
		}
		if got := srv.Logins(); got != want {
			t.Fatalf("%s: server saw %d logins, want %d", mech, got, want)
		}
		if !strings.Contains(out, "8 ok, 0 failed") || r.Case != "login 8 "+mech+" @0/s" || r.Label != "fake" {
			t.Fatalf("%s: output %q case %q", mech, out, r.Case)
		}
	}
}

func TestLoginFailures(t *testing.T) {
	srv := fakeServer(t, 3)
	r, _, err := run(t, "login", "-addr", srv.Addr(), "-n", "3", "-rate", "0", "-password", "wrong")
	if err == nil || !strings.Contains(err.Error(), "not-authorized") || r.Failed != 3 || r.Logins != 0 {
		t.Fatalf("wrong password: err %v, result %+v", err, r)
	}
	srv.BadServerSignature = true
	_, _, err = run(t, "login", "-addr", srv.Addr(), "-n", "1", "-rate", "0")
	if err == nil || !strings.Contains(err.Error(), "server signature mismatch") {
		t.Fatalf("forged server signature: %v", err)
	}
	if srv.Logins() != 0 {
		t.Fatalf("server counted %d logins", srv.Logins())
	}
}

func TestWarmFillsCache(t *testing.T) {
	srv := fakeServer(t, 5)
	cache := filepath.Join(t.TempDir(), "scram")
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := Run(context.Background(), []string{"warm", "-addr", srv.Addr(), "-n", "5", "-scram-cache", cache}, &out, log); err != nil {
		t.Fatal(err)
	}
	c := NewScramCache()
	if err := c.Load(cache); err != nil || c.Len() != 5 {
		t.Fatalf("cache after warm: %d keys, %v", c.Len(), err)
	}
	if err := Run(context.Background(), []string{"warm", "-addr", srv.Addr(), "-n", "6"}, &out, log); err == nil {
		t.Fatal("warm with a missing account passed")
	}
}

func TestHoldSteps(t *testing.T) {
	srv := fakeServer(t, 6)
	r, out, err := run(t, "hold", "-addr", srv.Addr(), "-steps", "3,6", "-rate", "0", "-settle", "0s",
		"-pid", fmt.Sprint(os.Getpid()))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(r.Steps) != 2 || r.Steps[0].Sessions != 3 || r.Steps[1].Sessions != 6 || r.IdleRSSKiB <= 0 {
		t.Fatalf("steps %+v idle %d", r.Steps, r.IdleRSSKiB)
	}
	if srv.Logins() != 6 {
		t.Fatalf("server saw %d logins, want 6", srv.Logins())
	}
	if _, _, err := run(t, "hold", "-addr", srv.Addr(), "-steps", "2"); err == nil {
		t.Fatal("hold without -pid passed")
	}
}

func TestMsgPairs(t *testing.T) {
	for _, bare := range []bool{false, true} {
		srv := fakeServer(t, 4)
		const clients, rate, warmup, dur = 4, 50, 0.2, 1.0
		r, out, err := run(t, "msg", "-addr", srv.Addr(), "-clients", "4", "-msg-rate", "50", "-rate", "0",
			"-warmup", "200ms", "-duration", "1s", "-drain", "20s", "-settle", "0s", fmt.Sprintf("-bare=%v", bare))
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		// Which sends fall in the window depends on scheduling; no more than
		// the whole schedule can, and sender and receiver must agree.
		hi := clients * (rate*(warmup+dur) + 1)
		if r.Sent < 1 || float64(r.Sent) > hi {
			t.Fatalf("sent %d, want within [1, %v]", r.Sent, hi)
		}
		if r.Delivered != r.Sent || r.Lost != 0 || r.Latency.N != r.Delivered {
			t.Fatalf("bare=%v: %+v", bare, r)
		}
		if srv.Routed() < int64(r.Delivered) {
			t.Fatalf("server routed %d, tool claims %d delivered", srv.Routed(), r.Delivered)
		}
		if r.OfferedPerSec != 200 || r.Clients != 4 {
			t.Fatalf("offered %v clients %d", r.OfferedPerSec, r.Clients)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, args := range [][]string{
		nil,
		{"nonsense"},
		{"login", "-addr", "192.0.2.1:5222"},
		{"login", "-addr", "example.org:5222"},
		{"login", "-addr", "127.0.0.1"},
		{"login", "-mech", "DIGEST-MD5"},
		{"login", "-n", "0"},
		{"login", "-n", "100000"},
		{"login", "-rate", "-1"},
		{"msg", "-clients", "3"},
		{"msg", "-msg-rate", "0"},
		{"msg", "-duration", "11m"},
		{"hold", "-steps", "5,3"},
		{"hold", "-steps", "x"},
		{"login", "extra"},
		{"report"},
	} {
		if err := Run(context.Background(), args, io.Discard, log); err == nil {
			t.Errorf("Run(%q) accepted", args)
		}
	}
}

func TestReportRatios(t *testing.T) {
	dir := t.TempDir()
	for i, r := range []*Result{
		{Label: "prosody", Case: "login x", Mode: "login", LoginsPerSec: 400},
		{Label: "box", Case: "login x", Mode: "login", LoginsPerSec: 1500},
		{Label: "box", Case: "login x", Mode: "login", LoginsPerSec: 1700},
		{Label: "box", Case: "login x", Mode: "login", LoginsPerSec: 1600},
		{Label: "ejabberd", Case: "login x", Mode: "login", LoginsPerSec: 800},
	} {
		if err := writeResult(filepath.Join(dir, fmt.Sprintf("%d.json", i)), nil, r); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"report", dir}, &out, nil); err != nil {
		t.Fatal(err)
	}
	var row string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, "logins/s") {
			row = l
		}
	}
	// Median of box is 1600: 1600/400 = 4.00, 1600/800 = 2.00.
	f := strings.Fields(row)
	if len(f) != 6 || f[1] != "1600" || f[2] != "400" || f[3] != "800" || f[4] != "4.00" || f[5] != "2.00" {
		t.Fatalf("row %q\n%s", row, out.String())
	}
	if !strings.Contains(out.String(), "box/prosody") || !strings.Contains(out.String(), "box/ejabberd") {
		t.Fatalf("no ratio headers:\n%s", out.String())
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"label":"x"}`), 0o644)
	if err := Run(context.Background(), []string{"report", dir}, &out, nil); err == nil {
		t.Fatal("a result without case and mode was accepted")
	}
}

func TestReportHoldSteps(t *testing.T) {
	rs := []*Result{
		{Label: "prosody", Case: "hold", Mode: "hold", IdleRSSKiB: 1000,
			Steps: []HoldStep{{Sessions: 10, RSSKiB: 1500}, {Sessions: 50, RSSKiB: 3500}}},
		{Label: "box", Case: "hold", Mode: "hold", IdleRSSKiB: 1000,
			Steps: []HoldStep{{Sessions: 10, RSSKiB: 1100}, {Sessions: 50, RSSKiB: 1500}}},
	}
	var out bytes.Buffer
	if err := Report(&out, rs, []string{"box", "prosody"}, "box"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"at 10 over idle": {"10.0", "50.0", "0.20"},
		"at 50 over idle": {"10.0", "50.0", "0.20"},
	}
	for _, l := range strings.Split(out.String(), "\n") {
		for k, w := range want {
			if strings.Contains(l, k) {
				f := strings.Fields(l)
				if got := f[len(f)-3:]; fmt.Sprint(got) != fmt.Sprint(w) {
					t.Errorf("row %q: got %v, want %v", k, got, w)
				}
				delete(want, k)
			}
		}
	}
	if len(want) > 0 {
		t.Fatalf("rows missing %v:\n%s", want, out.String())
	}
}
