package interop

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

//go:embed testdata/slixmpp_interop.py
var script []byte

// DefaultPython is Debian's interpreter, which sees python3-slixmpp.
const DefaultPython = "/usr/bin/python3"

// Config says where the server under test is and how to log in.
type Config struct {
	Addr   string // c2s host:port with STARTTLS, loopback
	Domain string // XMPP domain of both accounts
	// Two existing accounts (local parts) and their passwords.
	User1, Password1 string
	User2, Password2 string
	// CAFile verifies the server certificate; empty accepts the server's
	// self-signed certificate (loopback only).
	CAFile string
	// Mech, when set, is the SASL mechanism both logins must use; otherwise
	// any SCRAM mechanism passes and anything else fails.
	Mech string
	// AllowPlus lets slixmpp choose a SCRAM -PLUS mechanism. Off by
	// default: slixmpp 1.8 picks -PLUS whenever offered but binds only with
	// tls-unique, which TLS 1.3 does not define (RFC 9266), so a server
	// binding with tls-exporter or tls-server-end-point fails its login.
	// (ejabberd 23.01 passes with it on.)
	AllowPlus bool
	// Timeout bounds each wait in the script (default 10 s); Deadline the
	// whole run (default 120 s).
	Timeout, Deadline time.Duration
	// Python is the interpreter (default DefaultPython).
	Python string
}

// Report is what one run of the script showed.
type Report struct {
	Steps  []Step
	Output string
}

// ErrNoSlixmpp means the interpreter cannot import slixmpp.
var ErrNoSlixmpp = errors.New("interop: python3-slixmpp is not installed (apt-get install python3-slixmpp)")

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	if cfg.Python == "" {
		cfg.Python = DefaultPython
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = 120 * time.Second
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return cfg, fmt.Errorf("interop: addr %q: %w", cfg.Addr, err)
	}
	if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return cfg, fmt.Errorf("interop: addr %q is not loopback", cfg.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return cfg, fmt.Errorf("interop: addr %q: bad port", cfg.Addr)
	}
	if cfg.Domain == "" || cfg.User1 == "" || cfg.User2 == "" || cfg.Password1 == "" || cfg.Password2 == "" {
		return cfg, errors.New("interop: domain, two users and their passwords are required")
	}
	if cfg.User1 == cfg.User2 {
		return cfg, errors.New("interop: the two accounts must differ")
	}
	return cfg, nil
}

// HaveSlixmpp reports whether python can import slixmpp.
func HaveSlixmpp(ctx context.Context, python string) error {
	if python == "" {
		python = DefaultPython
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import slixmpp").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s: %v: %s", ErrNoSlixmpp, python, err, bytes.TrimSpace(out))
	}
	return nil
}

// Exec runs the script once against cfg. It returns the steps seen and an
// error naming the first failed step when the script did not pass.
func Exec(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := HaveSlixmpp(ctx, cfg.Python); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "interop-*")
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "slixmpp_interop.py")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	host, port, _ := net.SplitHostPort(cfg.Addr)
	args := []string{path, "--host", host, "--port", port, "--domain", cfg.Domain,
		"--user1", cfg.User1, "--user2", cfg.User2,
		"--timeout", strconv.FormatFloat(cfg.Timeout.Seconds(), 'f', -1, 64),
		"--deadline", strconv.Itoa(int(cfg.Deadline.Seconds() + 0.5))}
	if cfg.CAFile != "" {
		args = append(args, "--cafile", cfg.CAFile)
	}
	if cfg.Mech != "" {
		args = append(args, "--mech", cfg.Mech)
	}
	if cfg.AllowPlus {
		args = append(args, "--allow-plus")
	}
	// The script has its own deadline; this one catches an interpreter stuck
	// before it could arm it.
	ctx, cancel := context.WithTimeout(ctx, cfg.Deadline+15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.Python, args...)
	cmd.Dir = dir
	// Passwords go through the environment, not the command line.
	cmd.Env = append(os.Environ(), "INTEROP_PASSWORD1="+cfg.Password1, "INTEROP_PASSWORD2="+cfg.Password2,
		"PYTHONDONTWRITEBYTECODE=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	rep := &Report{Steps: parseOutput(out.String()), Output: out.String()}
	if f := firstFailure(rep.Steps); f != nil {
		return rep, fmt.Errorf("interop: step %q failed: %s", f.Name, f.Detail)
	}
	if runErr != nil {
		return rep, fmt.Errorf("interop: script: %w (no step reported a failure; output: %q)", runErr, tail(out.String(), 400))
	}
	if len(rep.Steps) == 0 {
		return rep, errors.New("interop: script passed without reporting any step")
	}
	return rep, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// tb is the part of testing.TB that run uses, so its behaviour can be tested.
type tb interface {
	Helper()
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Context() context.Context
}

// Run runs the script against cfg as part of a test: every step is logged,
// a failed step fails the test with its name. Without slixmpp the test is
// skipped, unless CI=true (CI installs python3-slixmpp, so missing it there
// is a broken setup, not a reason to pass).
func Run(t *testing.T, cfg Config) {
	t.Helper()
	run(t, cfg, os.Getenv("CI") == "true")
}

func run(t tb, cfg Config, ci bool) {
	t.Helper()
	rep, err := Exec(t.Context(), cfg)
	if errors.Is(err, ErrNoSlixmpp) {
		if ci {
			t.Fatalf("%v", err)
			return
		}
		t.Skipf("%v", err)
		return
	}
	if rep != nil {
		for _, s := range rep.Steps {
			mark := "PASS"
			if !s.Pass {
				mark = "FAIL"
			}
			t.Logf("%s %s: %s", mark, s.Name, s.Detail)
		}
	}
	if err != nil {
		if rep != nil {
			t.Logf("script output:\n%s", rep.Output)
		}
		t.Fatalf("%v", err)
	}
}
