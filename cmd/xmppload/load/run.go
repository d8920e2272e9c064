package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits that keep a run bounded whatever the flags say.
const (
	maxClients  = 18000 // below this machine's open-files limit of 20000
	maxDuration = 10 * time.Minute
)

// options are the parsed flags shared by the modes.
type options struct {
	mode        string
	addr        string
	domain      string
	mech        string
	userFmt     string
	first       int
	password    string
	resource    string
	caFile      string
	timeout     time.Duration
	maxTime     time.Duration
	pid         int
	label       string
	caseName    string
	jsonOut     string
	cachePath   string
	cpuProfile  string
	presence    bool
	n           int
	rate        float64
	concurrency int
	steps       []int
	settle      time.Duration
	clients     int
	msgRate     float64
	duration    time.Duration
	warmup      time.Duration
	drain       time.Duration
	bare        bool

	out    io.Writer
	log    *slog.Logger
	prober Prober
	cache  *ScramCache
}

// account maps a run index to an account: user<first+i> by default.
func (o *options) account(i int) Account {
	u := o.userFmt
	if strings.Contains(u, "%d") {
		u = fmt.Sprintf(u, o.first+i)
	}
	return Account{User: u, Password: o.password}
}

func (o *options) sample() (ProcSample, error) {
	if o.prober == nil {
		return ProcSample{}, nil
	}
	s, err := o.prober.Sample()
	if err != nil {
		o.log.Warn("server sample failed", "err", err)
	}
	return s, err
}

func (o *options) dialer() (*Dialer, error) {
	// X25519 and P-256 only: Prosody and ejabberd (OpenSSL 3.0) do not do
	// the post-quantum hybrid Go offers first, and a Go server would pick
	// it, making the box pay a dearer handshake than the servers it is
	// compared with. No session cache: every login is a full handshake.
	tc := &tls.Config{ServerName: o.domain, MinVersion: tls.VersionTLS12,
		CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, fmt.Errorf("load: -ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("load: -ca %s: no PEM certificates", o.caFile)
		}
		tc.RootCAs = pool
	} else {
		// Loopback only, and the servers measured use self-signed certs.
		tc.InsecureSkipVerify = true
	}
	return &Dialer{Addr: o.addr, Domain: o.domain, Mech: o.mech, TLS: tc, Cache: o.cache,
		Resource: o.resource, Timeout: o.timeout}, nil
}

const usage = `usage: xmppload MODE [flags]

modes:
  login   N logins offered at R/s, each closed at once: logins/s, login p50/p99
  hold    sessions held at each of -steps: server RSS per held session (needs -pid)
  msg     paired clients each sending -msg-rate messages/s: delivered msg/s,
          latency p50/p99/max, server CPU per message (with -pid)
  warm    log every account in once to fill -scram-cache (nothing measured)
  report  DIR: side-by-side table of the *.json results in DIR, with ratios

Targets must be loopback addresses. Run "xmppload MODE -h" for flags.
`

// Run is the whole program: it parses args (without the program name), runs
// one mode, prints to out and returns an error for a non-zero exit.
func Run(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errors.New("load: no mode given")
	}
	mode := args[0]
	if mode == "-h" || mode == "-help" || mode == "--help" {
		fmt.Fprint(out, usage)
		return nil
	}
	if mode == "report" {
		return runReport(args[1:], out)
	}
	if !slices.Contains([]string{"login", "hold", "msg", "warm"}, mode) {
		fmt.Fprint(out, usage)
		return fmt.Errorf("load: unknown mode %q", mode)
	}
	o, err := parseFlags(mode, args[1:], out)
	if err != nil {
		return err
	}
	o.log = log
	ctx, cancel := context.WithTimeout(ctx, o.maxTime)
	defer cancel()
	o.cache = NewScramCache()
	if o.cachePath != "" {
		if err := o.cache.Load(o.cachePath); err != nil {
			return err
		}
	}
	if o.pid > 0 {
		o.prober = NewProcProber(o.pid)
		if _, err := o.prober.Sample(); err != nil {
			return fmt.Errorf("load: -pid %d: %w", o.pid, err)
		}
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("load: -cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("load: -cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var res *Result
	switch mode {
	case "login":
		res, err = runLogin(ctx, o)
	case "hold":
		res, err = runHold(ctx, o)
	case "msg":
		res, err = runMsg(ctx, o)
	case "warm":
		res, err = runWarm(ctx, o)
	}
	if o.cachePath != "" {
		if serr := o.cache.Save(o.cachePath); serr != nil && err == nil {
			err = serr
		}
	}
	if res != nil && o.jsonOut != "" {
		res.Label, res.Case = o.label, o.caseName
		if res.Case == "" {
			res.Case = o.defaultCase()
		}
		if werr := writeResult(o.jsonOut, out, res); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

func (o *options) defaultCase() string {
	switch o.mode {
	case "login":
		return fmt.Sprintf("login %d %s @%g/s", o.n, o.mech, o.rate)
	case "hold":
		s := make([]string, len(o.steps))
		for i, v := range o.steps {
			s[i] = strconv.Itoa(v)
		}
		return "hold " + strings.Join(s, "→")
	case "msg":
		return fmt.Sprintf("msg %d clients × %g/s", o.clients, o.msgRate)
	}
	return o.mode
}

func parseFlags(mode string, args []string, out io.Writer) (*options, error) {
	o := &options{mode: mode, out: out}
	fs := flag.NewFlagSet("xmppload "+mode, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:5222", "c2s `host:port` (STARTTLS); loopback only")
	fs.StringVar(&o.domain, "domain", "localhost", "XMPP domain (stream to=, TLS server name)")
	fs.StringVar(&o.mech, "mech", "SCRAM-SHA-1", "SASL mechanism: SCRAM-SHA-1, SCRAM-SHA-256 or PLAIN")
	fs.StringVar(&o.userFmt, "user", "user%d", "account name `format`; %d is replaced by first+i")
	fs.IntVar(&o.first, "first", 1, "number of the first account")
	fs.StringVar(&o.password, "password", "pass", "password of every account")
	fs.StringVar(&o.resource, "resource", "load", "resource to request (empty: server-chosen)")
	fs.StringVar(&o.caFile, "ca", "", "PEM `file` to verify the server certificate (default: accept any, loopback only)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound on one login")
	fs.DurationVar(&o.maxTime, "max-time", 5*time.Minute, "bound on the whole run")
	fs.IntVar(&o.pid, "pid", 0, "server `PID` to read RSS and CPU time from /proc")
	fs.StringVar(&o.label, "label", "server", "server name in -json results (box, prosody, ejabberd)")
	fs.StringVar(&o.caseName, "case", "", "case name in -json results (default from mode and load)")
	fs.StringVar(&o.jsonOut, "json", "", "write the result as JSON to `file` (- for stdout)")
	fs.StringVar(&o.cachePath, "scram-cache", "", "`file` keeping derived SCRAM keys between runs")
	fs.BoolVar(&o.presence, "presence", true, "send initial presence after login")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the tool's own CPU profile to `file`")
	steps := "1000,5000"
	switch mode {
	case "login":
		fs.IntVar(&o.n, "n", 2000, "number of logins (accounts first..first+n-1)")
		fs.Float64Var(&o.rate, "rate", 2000, "offered logins per second (0: all at once)")
	case "warm":
		fs.IntVar(&o.n, "n", 2000, "number of accounts (first..first+n-1)")
		fs.IntVar(&o.concurrency, "concurrency", 4, "logins under way at once")
	case "hold":
		fs.StringVar(&steps, "steps", steps, "comma-separated session counts to sample RSS at")
		fs.Float64Var(&o.rate, "rate", 0, "logins per second while ramping (0: as fast as -concurrency allows)")
		fs.IntVar(&o.concurrency, "concurrency", 32, "logins under way at once while ramping")
		fs.DurationVar(&o.settle, "settle", 3*time.Second, "wait after each step before sampling")
	case "msg":
		fs.IntVar(&o.clients, "clients", 500, "clients, paired 0↔1, 2↔3, ... (even)")
		fs.Float64Var(&o.msgRate, "msg-rate", 5, "messages per second each client sends")
		fs.Float64Var(&o.rate, "rate", 0, "logins per second while connecting (0: as fast as -concurrency allows)")
		fs.IntVar(&o.concurrency, "concurrency", 32, "logins under way at once while connecting")
		fs.DurationVar(&o.duration, "duration", 20*time.Second, "measurement window")
		fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "sending before the window opens")
		fs.DurationVar(&o.drain, "drain", 5*time.Second, "wait for messages in flight after the window")
		fs.DurationVar(&o.settle, "settle", time.Second, "pause between logins and sending")
		fs.BoolVar(&o.bare, "bare", false, "address the partner's bare JID instead of its full JID")
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("load: unexpected arguments %q", fs.Args())
	}
	if mode == "hold" {
		for _, s := range strings.Split(steps, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || v <= 0 {
				return nil, fmt.Errorf("load: -steps: bad count %q", s)
			}
			if len(o.steps) > 0 && v <= o.steps[len(o.steps)-1] {
				return nil, fmt.Errorf("load: -steps must increase, got %q", steps)
			}
			o.steps = append(o.steps, v)
		}
		o.n = o.steps[len(o.steps)-1]
	}
	if mode == "msg" {
		o.n = o.clients
		if o.msgRate <= 0 || o.msgRate > 1000 {
			return nil, fmt.Errorf("load: -msg-rate %g out of range (0, 1000]", o.msgRate)
		}
		if o.duration <= 0 || o.warmup < 0 || o.warmup+o.duration+o.drain > maxDuration {
			return nil, fmt.Errorf("load: -warmup + -duration + -drain must be within %s", maxDuration)
		}
	}
	if o.n <= 0 || o.n > maxClients {
		return nil, fmt.Errorf("load: count %d out of range [1, %d]", o.n, maxClients)
	}
	if o.rate < 0 {
		return nil, fmt.Errorf("load: -rate must not be negative")
	}
	if o.concurrency <= 0 && mode != "login" {
		return nil, fmt.Errorf("load: -concurrency must be positive")
	}
	if o.maxTime <= 0 || o.maxTime > maxDuration+time.Minute {
		return nil, fmt.Errorf("load: -max-time must be in (0, %s]", maxDuration+time.Minute)
	}
	switch o.mech {
	case "SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN":
	default:
		return nil, fmt.Errorf("load: -mech %q: want SCRAM-SHA-1, SCRAM-SHA-256 or PLAIN", o.mech)
	}
	if err := checkLoopback(o.addr); err != nil {
		return nil, err
	}
	return o, nil
}

// checkLoopback refuses any target that is not on this machine's loopback.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("load: -addr %q: %w", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return fmt.Errorf("load: -addr %q: bad port", addr)
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if host == "localhost" {
		ips = []net.IP{net.IPv4(127, 0, 0, 1)}
	} else {
		return fmt.Errorf("load: -addr %q: use a loopback IP or localhost", addr)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("load: -addr %q is not loopback: load runs only against this machine", addr)
		}
	}
	return nil
}

func runReport(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("xmppload report", flag.ContinueOnError)
	fs.SetOutput(out)
	base := fs.String("base", "box", "label whose ratios to the others are printed")
	order := fs.String("order", "box,prosody,ejabberd", "column order of labels")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if fs.NArg() != 1 {
		return errors.New("load: report needs one results directory")
	}
	rs, err := ReadResults(fs.Arg(0))
	if err != nil {
		return err
	}
	return Report(out, rs, strings.Split(*order, ","), *base)
}
