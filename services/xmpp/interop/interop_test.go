package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseOutput(t *testing.T) {
	out := "noise\nPASS login: a with SCRAM-SHA-1\r\nPASS roster get/set/remove: ok: really\n" +
		"WARNING slixmpp: x\nFAIL carbons to a second resource: no carbon\nFAIL :\nPASS bare\n"
	got := parseOutput(out)
	want := []Step{
		{"login", true, "a with SCRAM-SHA-1"},
		{"roster get/set/remove", true, "ok: really"},
		{"carbons to a second resource", false, "no carbon"},
		{"bare", true, ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parseOutput:\n got %v\nwant %v", got, want)
	}
	if f := firstFailure(got); f == nil || f.Name != "carbons to a second resource" {
		t.Fatalf("firstFailure = %v", f)
	}
	if f := firstFailure(got[:2]); f != nil {
		t.Fatalf("firstFailure of passes = %v", f)
	}
}

func FuzzParseOutput(f *testing.F) {
	f.Add("PASS login: x\nFAIL y: z\n")
	f.Add("FAIL : \nPASS \nFAIL")
	f.Add("PASS a: b: c\r\n\r\nFAIL  spaced  : d")
	f.Fuzz(func(t *testing.T, out string) {
		for _, s := range parseOutput(out) {
			if s.Name == "" || strings.Contains(s.Name, "\n") {
				t.Fatalf("bad step name %q", s.Name)
			}
			prefix := "FAIL "
			if s.Pass {
				prefix = "PASS "
			}
			if !strings.Contains(out, prefix) {
				t.Fatalf("step %v without a %q line", s, prefix)
			}
		}
	})
}

func validConfig() Config {
	return Config{Addr: "127.0.0.1:5222", Domain: "localhost", User1: "a", Password1: "p", User2: "b", Password2: "q"}
}

func TestConfigRejectsBadInput(t *testing.T) {
	for name, mod := range map[string]func(*Config){
		"not loopback": func(c *Config) { c.Addr = "192.0.2.1:5222" },
		"hostname":     func(c *Config) { c.Addr = "example.org:5222" },
		"no port":      func(c *Config) { c.Addr = "127.0.0.1" },
		"bad port":     func(c *Config) { c.Addr = "127.0.0.1:0" },
		"no domain":    func(c *Config) { c.Domain = "" },
		"no password":  func(c *Config) { c.Password2 = "" },
		"same users":   func(c *Config) { c.User2 = c.User1 },
	} {
		c := validConfig()
		mod(&c)
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
	}
	c := validConfig()
	got, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.Python != DefaultPython || got.Timeout <= 0 || got.Deadline <= 0 {
		t.Fatalf("defaults not applied: %+v", got)
	}
}

// fakePython writes an interpreter stand-in: "-c ..." (the slixmpp probe)
// exits with probeExit; running the script prints out and exits with exit.
func fakePython(t *testing.T, probeExit int, out string, exit int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "python")
	sh := fmt.Sprintf("#!/bin/sh\nif [ \"$1\" = -c ]; then exit %d; fi\n"+
		"[ -n \"$INTEROP_PASSWORD1\" ] || { echo 'FAIL args: no password in env'; exit 1; }\n"+
		"printf '%%s' '%s'\nexit %d\n", probeExit, out, exit)
	if err := os.WriteFile(p, []byte(sh), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExecNamesTheFailedStep(t *testing.T) {
	cfg := validConfig()
	cfg.Python = fakePython(t, 0, "PASS login: ok\nFAIL block stops delivery: got a message\n", 1)
	rep, err := Exec(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), `"block stops delivery"`) {
		t.Fatalf("Exec error = %v, want the failed step named", err)
	}
	if len(rep.Steps) != 2 || !rep.Steps[0].Pass {
		t.Fatalf("steps = %v", rep.Steps)
	}
}

func TestExecFailsOnSilentCrash(t *testing.T) {
	cfg := validConfig()
	cfg.Python = fakePython(t, 0, "PASS login: ok\nTraceback\n", 1)
	if _, err := Exec(context.Background(), cfg); err == nil {
		t.Fatal("a non-zero exit without a FAIL line passed")
	}
	cfg.Python = fakePython(t, 0, "nothing\n", 0)
	if _, err := Exec(context.Background(), cfg); err == nil {
		t.Fatal("a run without any step passed")
	}
	cfg.Python = fakePython(t, 0, "PASS login: ok\n", 0)
	if _, err := Exec(context.Background(), cfg); err != nil {
		t.Fatalf("a passing run failed: %v", err)
	}
}

// recTB records what run does to a test.
type recTB struct {
	skipped, failed bool
	msg             string
}

func (r *recTB) Helper()                        {}
func (r *recTB) Logf(string, ...any)            {}
func (r *recTB) Context() context.Context       { return context.Background() }
func (r *recTB) Skipf(f string, a ...any)       { r.skipped, r.msg = true, fmt.Sprintf(f, a...) }
func (r *recTB) Fatalf(format string, a ...any) { r.failed, r.msg = true, fmt.Sprintf(format, a...) }

func TestMissingSlixmppSkipsOnlyOutsideCI(t *testing.T) {
	cfg := validConfig()
	cfg.Python = fakePython(t, 1, "", 0)
	if _, err := Exec(context.Background(), cfg); !errors.Is(err, ErrNoSlixmpp) {
		t.Fatalf("Exec without slixmpp: %v", err)
	}
	var dev recTB
	run(&dev, cfg, false)
	if !dev.skipped || dev.failed || !strings.Contains(dev.msg, "python3-slixmpp") {
		t.Fatalf("outside CI: %+v, want a skip naming the package", dev)
	}
	var ci recTB
	run(&ci, cfg, true)
	if !ci.failed || ci.skipped {
		t.Fatalf("in CI: %+v, want a failure", ci)
	}
}
