package appliance

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chatsecure/box/services/xmpp"
	"github.com/chatsecure/box/services/xmpp/selfcheck"
)

// The health check of a trial boot looks at the box from the outside in,
// on loopback, as a client would:
//
//   - store: a query that reads a table of the encrypted database;
//   - xmpp: a one-shot health login (xmpp.Server.HealthLogin, a reserved
//     name that is no account) over the c2s listener — TCP accept, TLS
//     with the box's own certificate, SASL, bind, and a roster get, which
//     goes through the router and reads the store;
//   - console: an HTTPS GET of /login on its listener, which must present
//     the box's certificate and answer 2xx or 3xx.
//
// What is checked follows what this boxd runs (its service factories:
// tests run boxes without services) and what the configuration turns on.
// On an
// unclaimed box that has no XMPP domain yet, XMPP cannot run, and neither
// can the console (it manages XMPP's accounts): both are reported as
// skipped and the decision rests on the store (and on boxd having come up
// at all). On a claimed box a missing domain is a failure. A service that
// failed to start or stopped fails the check at once: services are not
// restarted, so waiting cannot help.

// checkTimeout bounds one attempt of one check.
const checkTimeout = 30 * time.Second

// trialCheck is one check as it stands in this round.
type trialCheck struct {
	name string
	skip string // why it is not run; "" runs it
	down error  // the service is not running: failed for good
	run  func(ctx context.Context) error
}

// checkReport is the outcome of one round of checks.
type checkReport struct {
	failed  []string // "name: error"
	skipped []string // "name: why"
	final   bool     // a failure that waiting cannot fix
}

func (r checkReport) ok() bool { return len(r.failed) == 0 }

func (r checkReport) String() string {
	s := ""
	if len(r.failed) > 0 {
		s = "failed: " + strings.Join(r.failed, "; ")
	}
	if len(r.skipped) > 0 {
		if s != "" {
			s += "; "
		}
		s += "skipped: " + strings.Join(r.skipped, "; ")
	}
	return s
}

// runChecks runs every check of a round, each bounded by checkTimeout.
func runChecks(ctx context.Context, checks []trialCheck) checkReport {
	var r checkReport
	for _, c := range checks {
		switch {
		case c.skip != "":
			r.skipped = append(r.skipped, c.name+": "+c.skip)
		case c.down != nil:
			r.failed = append(r.failed, c.name+": not running: "+c.down.Error())
			r.final = true
		default:
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			err := c.run(cctx)
			cancel()
			if err != nil {
				r.failed = append(r.failed, c.name+": "+err.Error())
			}
		}
	}
	return r
}

// healthLoginer is the XMPP service as the check uses it.
type healthLoginer interface {
	HealthLogin() (xmpp.HealthCredential, error)
	Addrs() []net.Addr
}

// addrWaiter is the console service as the check uses it.
type addrWaiter interface {
	Addr(ctx context.Context) (net.Addr, error)
}

// trialChecks lists this round's checks from what is running now. s.mu held.
func (s *System) trialChecks(ctx context.Context) []trialCheck {
	st := s.store
	storeCheck := trialCheck{name: "store", run: func(ctx context.Context) error {
		var n int
		if err := st.DB().QueryRowContext(ctx, "SELECT count(*) FROM update_history").Scan(&n); err != nil {
			return fmt.Errorf("read: %w", err)
		}
		return nil
	}}
	if st == nil {
		storeCheck.down = errors.New("the store is not open")
	}
	checks := []trialCheck{storeCheck}
	if st == nil {
		return checks
	}
	claimed, err := s.getMeta(ctx, metaClaimedAt)
	if err != nil {
		return []trialCheck{{name: "store", down: err}}
	}
	var cert []byte
	if len(s.cert.Certificate) > 0 {
		cert = s.cert.Certificate[0]
	}
	byName := map[string]any{}
	for _, svc := range s.svcs {
		byName[svc.Name()] = svc
	}
	wired := map[string]bool{}
	for _, f := range s.factories {
		wired[f.Name] = true
	}

	xc := trialCheck{name: "xmpp"}
	switch x, _ := byName["xmpp"].(healthLoginer); {
	case !wired["xmpp"]:
		xc.skip = "not run by this boxd"
	case s.cfg.XMPP.Domain == "" && claimed == "":
		xc.skip = "not configured yet (no domain) on an unclaimed box"
	case s.svcErrs["xmpp"] != nil:
		xc.down = s.svcErrs["xmpp"]
	case x == nil:
		xc.down = errors.New("the service was not made")
	default:
		direct := s.cfg.XMPP.C2S == ""
		xc.run = func(ctx context.Context) error { return xmppLogin(ctx, x, direct, cert) }
	}
	cc := trialCheck{name: "console"}
	switch con, _ := byName["console"].(addrWaiter); {
	case !wired["console"]:
		cc.skip = "not run by this boxd"
	case s.cfg.Console.Listen == "":
		cc.skip = "no listener configured"
	case xc.skip != "":
		cc.skip = "needs XMPP, which is skipped"
	case s.svcErrs["console"] != nil:
		cc.down = s.svcErrs["console"]
	case con == nil:
		cc.down = errors.New("the service was not made")
	default:
		cc.run = func(ctx context.Context) error { return consoleGet(ctx, con, cert) }
	}
	return append(checks, xc, cc)
}

// xmppLogin runs the XMPP self-check with a fresh health login.
func xmppLogin(ctx context.Context, x healthLoginer, direct bool, cert []byte) error {
	addrs := x.Addrs()
	if len(addrs) == 0 {
		return errors.New("not listening yet")
	}
	// The STARTTLS listener comes first when there is one.
	addr, err := loopback(addrs[0])
	if err != nil {
		return err
	}
	c, err := x.HealthLogin()
	if err != nil {
		return err
	}
	return selfcheck.Login(ctx, selfcheck.Options{
		Addr: addr, DirectTLS: direct, Domain: c.Domain,
		Username: c.Username, Password: c.Password, Cert: cert,
	})
}

// consoleGet asks the console for its sign-in page over HTTPS.
func consoleGet(ctx context.Context, con addrWaiter, cert []byte) error {
	a, err := con.Addr(ctx)
	if err != nil {
		return fmt.Errorf("not listening: %w", err)
	}
	addr, err := loopback(a)
	if err != nil {
		return err
	}
	hc := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{
				MinVersion: tls.VersionTLS12,
				// Pinned to the box's own certificate instead.
				InsecureSkipVerify: true,
				VerifyConnection: func(cs tls.ConnectionState) error {
					if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, cert) {
						return errors.New("the listener's certificate is not the box's own")
					}
					return nil
				},
			},
			DisableKeepAlives: true,
		},
		// A redirect (to /setup on an unclaimed box) is an answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/login", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("GET /login: %s", resp.Status)
	}
	return nil
}

// loopback turns a listener's address into one to dial on this machine:
// an unspecified IP (":5222") becomes 127.0.0.1.
func loopback(a net.Addr) (string, error) {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return "", fmt.Errorf("listener %s is not TCP", a)
	}
	ip := t.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(t.Port)), nil
}
