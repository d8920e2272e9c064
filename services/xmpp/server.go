package xmpp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/services/store"
	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/backoff"
	"github.com/chatsecure/box/services/xmpp/blocking"
	"github.com/chatsecure/box/services/xmpp/carbons"
	"github.com/chatsecure/box/services/xmpp/disco"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
	"github.com/chatsecure/box/services/xmpp/ping"
	"github.com/chatsecure/box/services/xmpp/private"
	"github.com/chatsecure/box/services/xmpp/roster"
	"github.com/chatsecure/box/services/xmpp/router"
	"github.com/chatsecure/box/services/xmpp/schema"
	"github.com/chatsecure/box/services/xmpp/vcard"
	"github.com/chatsecure/box/services/xmpp/version"
	"github.com/chatsecure/box/services/xmpp/xtime"
)

// Software name and version for XEP-0092.
const (
	softwareName    = "ChatSecure Box"
	softwareVersion = "0.1"
)

// Default limits not in config.XMPP.
const (
	maxDepth     = 48
	writeTimeout = 30 * time.Second
	idleTimeout  = 4 * time.Minute
	pingTimeout  = 60 * time.Second
	maxAuthFails = 5
)

// Server is the XMPP service.
type Server struct {
	// StrictChannelBinding refuses a SCRAM login with the gs2 flag "y"
	// while -PLUS is offered (the RFC 5802 §6 downgrade check). Off by
	// default: slixmpp 1.8 sends "y" whenever it does not pick -PLUS (it can
	// bind only with tls-unique, which TLS 1.3 lacks), so the check would
	// lock it out; clients that bind (p=tls-exporter) are unaffected.
	// Even when on, a client that first asked for a binding type we lack
	// may retry with "y". Set before Run.
	StrictChannelBinding bool

	cfg     config.XMPP
	log     *slog.Logger
	tlsCfg  *tls.Config // STARTTLS
	direct  *tls.Config // XEP-0368, ALPN xmpp-client
	cert    *x509.Certificate
	acc     *accounts.Accounts
	db      *sql.DB
	router  *router.Router
	info    disco.Info
	caps    *elem.Element
	secret  []byte
	acctLim *backoff.Limiter
	ipLim   *backoff.Limiter
	invites atomic.Pointer[invitesBox] // nil: no in-band registration
	health  healthLogins               // one-shot logins of the box's health check
	parked  atomic.Int64               // sessions waiting parked (session.go)
	poller  *poller                    // nil: parked sessions wait on goroutines

	// Tunables; tests shorten them. now is the clock XEP-0202 reports;
	// deadlines use the real time.
	idle, pingWait, parkGrace time.Duration
	now                       func() time.Time

	mu       sync.Mutex
	perIP    map[string]int
	conns    map[*conn]struct{}
	running  bool
	addrs    []net.Addr
	wg       sync.WaitGroup
	closing  bool
	listenOK bool
}

var (
	_ services.Service        = (*Server)(nil)
	_ services.HealthReporter = (*Server)(nil)
	_ services.AdminHandler   = (*Server)(nil)
)

// New makes the server: it migrates the "xmpp" tables and wires the
// features. tlsCfg must hold the box certificate.
func New(cfg config.XMPP, st *store.Store, tlsCfg *tls.Config, log *slog.Logger) (*Server, error) {
	if cfg.Domain == "" {
		return nil, errors.New("xmpp: no domain configured")
	}
	if tlsCfg == nil || (len(tlsCfg.Certificates) == 0 && tlsCfg.GetCertificate == nil) {
		return nil, errors.New("xmpp: a TLS certificate is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxStanzaBytes <= 0 {
		cfg.MaxStanzaBytes = 256 << 10
	}
	if cfg.SessionsPerAccount <= 0 {
		cfg.SessionsPerAccount = 10
	}
	if cfg.ConnsPerIP <= 0 {
		cfg.ConnsPerIP = 100
	}
	if cfg.OfflineQuota <= 0 {
		cfg.OfflineQuota = 1000
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = config.Duration(30 * time.Second)
	}
	ctx := context.Background()
	if err := schema.Migrate(ctx, st); err != nil {
		return nil, fmt.Errorf("xmpp: %w", err)
	}
	db := st.DB()
	s := &Server{
		cfg:       cfg,
		log:       log,
		acc:       accounts.New(db, cfg.Domain, 4096),
		db:        db,
		secret:    make([]byte, 32),
		acctLim:   backoff.New(backoff.Policy{Free: 3}),
		ipLim:     backoff.New(backoff.Policy{Free: 10}),
		idle:      idleTimeout,
		pingWait:  pingTimeout,
		parkGrace: parkGrace,
		now:       time.Now,
		perIP:     make(map[string]int),
		conns:     make(map[*conn]struct{}),
	}
	if canPark {
		p, err := sharedPoller()
		if err != nil {
			log.Warn("xmpp: idle sessions will each keep a goroutine", "err", err)
		}
		s.poller = p
	}
	rand.Read(s.secret)
	s.tlsCfg = tlsCfg.Clone()
	if s.tlsCfg.MinVersion < tls.VersionTLS12 {
		s.tlsCfg.MinVersion = tls.VersionTLS12
	}
	s.tlsCfg.NextProtos = nil
	s.direct = s.tlsCfg.Clone()
	s.direct.NextProtos = []string{"xmpp-client"}
	if len(tlsCfg.Certificates) > 0 && len(tlsCfg.Certificates[0].Certificate) > 0 {
		if c, err := x509.ParseCertificate(tlsCfg.Certificates[0].Certificate[0]); err == nil {
			s.cert = c
		}
	}
	s.router = router.New(router.Config{
		Domain:      cfg.Domain,
		MaxSessions: cfg.SessionsPerAccount,
		Accounts:    s.acc,
		Roster:      roster.New(db),
		Offline:     offline.New(db, cfg.Domain, cfg.OfflineQuota, nil),
		Blocking:    blocking.New(db),
		Log:         log,
	})
	s.info = disco.Info{
		Identities: []disco.Identity{{Category: "server", Type: "im", Name: softwareName}},
		Features: []string{
			disco.NSInfo, disco.NSItems, ping.NS, version.NS, xtime.NS, vcard.NS, private.NS,
			"urn:xmpp:blocking", carbons.NS, "msgoffline", "jabber:iq:roster",
		},
	}
	s.caps = s.info.Caps()
	// Sessions authenticated with an old password, or of a deleted or
	// disabled account, end: whether the admin API or the console made the change.
	s.acc.OnChange(func(u string, c accounts.Change) {
		switch c {
		case accounts.Deleted:
			s.router.Kick(u, "not-authorized")
			s.router.Forget(u)
		case accounts.Disabled:
			s.router.Kick(u, "not-authorized")
		default:
			s.router.Kick(u, "reset")
		}
	})
	r := s.router
	r.HandleIQ(xml.Name{Space: disco.NSInfo, Local: "query"}, true, disco.InfoHandler(s.info))
	r.HandleIQ(xml.Name{Space: disco.NSItems, Local: "query"}, true, disco.ItemsHandler)
	r.HandleIQ(xml.Name{Space: ping.NS, Local: "ping"}, true, ping.Handler)
	r.HandleIQ(xml.Name{Space: version.NS, Local: "query"}, false, version.Handler(softwareName, softwareVersion))
	r.HandleIQ(xml.Name{Space: xtime.NS, Local: "time"}, false, xtime.Handler(func() time.Time { return s.now() }))
	r.HandleIQ(xml.Name{Space: vcard.NS, Local: "vCard"}, true, vcard.Handler(db))
	r.HandleIQ(xml.Name{Space: private.NS, Local: "query"}, false, private.Handler(db))
	carbonsIQ := func(on bool) router.IQHandler {
		return func(ctx context.Context, c *router.Conn, iq *elem.Element) *elem.Element {
			if iq.Type() != "set" {
				return elem.ErrorReply(iq, elem.Modify, "bad-request")
			}
			c.SetCarbons(on)
			return elem.Result(iq)
		}
	}
	r.HandleIQ(xml.Name{Space: carbons.NS, Local: "enable"}, false, carbonsIQ(true))
	r.HandleIQ(xml.Name{Space: carbons.NS, Local: "disable"}, false, carbonsIQ(false))
	return s, nil
}

// Name implements services.Service.
func (s *Server) Name() string { return "xmpp" }

// Health implements services.HealthReporter.
func (s *Server) Health() services.Health {
	s.mu.Lock()
	running := s.running
	s.mu.Unlock()
	if !running {
		return services.Health{OK: false, Detail: "not listening"}
	}
	return services.Health{OK: true, Detail: fmt.Sprintf("%d sessions on %s", s.router.Sessions(), s.cfg.Domain)}
}

// Addrs returns the listening addresses once Run has started (tests use
// port 0).
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]net.Addr(nil), s.addrs...)
}

// Run listens on the configured c2s addresses until ctx is done, then
// ends every stream with system-shutdown.
func (s *Server) Run(ctx context.Context) error {
	var lns []net.Listener
	var kinds []bool
	for _, l := range []struct {
		addr   string
		direct bool
	}{{s.cfg.C2S, false}, {s.cfg.C2STLS, true}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, o := range lns {
				o.Close()
			}
			return fmt.Errorf("xmpp: listen %s: %w", l.addr, err)
		}
		lns = append(lns, ln)
		kinds = append(kinds, l.direct)
	}
	if len(lns) == 0 {
		return errors.New("xmpp: no listener configured")
	}
	s.mu.Lock()
	s.running = true
	s.addrs = nil
	for _, ln := range lns {
		s.addrs = append(s.addrs, ln.Addr())
	}
	s.mu.Unlock()
	s.log.Info("xmpp: listening", "addrs", s.addrs, "domain", s.cfg.Domain)

	var lwg sync.WaitGroup
	for i, ln := range lns {
		lwg.Add(1)
		go func(ln net.Listener, direct bool) {
			defer lwg.Done()
			s.accept(ctx, ln, direct)
		}(ln, kinds[i])
	}
	<-ctx.Done()
	for _, ln := range lns {
		ln.Close()
	}
	lwg.Wait()
	s.mu.Lock()
	s.running = false
	s.closing = true
	all := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.Close("system-shutdown", "")
	}
	s.wg.Wait()
	return nil
}

func (s *Server) accept(ctx context.Context, ln net.Listener, direct bool) {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off a little.
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay < time.Second {
				delay *= 2
			}
			s.log.Warn("xmpp: accept", "err", err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		c := s.newConn(nc, direct)
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		// The session may move to other goroutines (it parks while
		// idle); connDone marks its end.
		go c.serve(ctx)
	}
}

// connDone forgets a finished connection.
func (s *Server) connDone(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// acquireIP counts a connection from ip; false when over the limit.
func (s *Server) acquireIP(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip] >= s.cfg.ConnsPerIP {
		return false
	}
	s.perIP[ip]++
	return true
}

func (s *Server) releaseIP(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}
