package console

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/services/invites"
	"github.com/chatsecure/box/services/store"
)

// Options are what the appliance hands the console.
type Options struct {
	Config config.Console
	// Domain is the XMPP domain, for JIDs and xmpp: URIs.
	Domain string
	// DataDir is where the disk-usage figure is measured.
	DataDir string
	Store   *store.Store
	// TLS serves Config.Listen; required unless only Handler is used.
	TLS      *tls.Config
	Box      Box
	Accounts Accounts
	Rosters  Rosters // optional
	// Updates is the update page's backend; when nil, Box is used if it
	// implements Updates, else the page says updates are unavailable.
	Updates Updates
	Log     *slog.Logger

	// For tests: a clock, cheap argon2id costs, a fake /sys.
	Now         func() time.Time
	Argon2      Argon2
	ThermalGlob string // default /sys/class/thermal/thermal_zone*/temp
}

// Service is the console. It implements services.Service and
// services.HealthReporter.
type Service struct {
	opts     Options
	db       *sql.DB
	box      Box
	accounts Accounts
	invites  *invites.Store
	log      *slog.Logger
	now      func() time.Time
	argon    Argon2
	throttle *throttle
	csrfKey  []byte
	pages    map[string]*pageTemplate
	mux      *http.ServeMux
	metrics  *metrics
	// hashing bounds concurrent argon2id runs: each takes MemKiB of RAM,
	// and a burst of sign-in attempts must not exhaust a 1 GiB board.
	hashing chan struct{}

	mu      sync.Mutex
	addr    net.Addr
	extra   map[string]net.Addr // "redirect", "metrics" listeners
	ready   chan struct{}
	healthy services.Health
}

var _ services.Service = (*Service)(nil)
var _ services.HealthReporter = (*Service)(nil)

// New migrates the console's tables and builds its handlers.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Store == nil || opts.Box == nil || opts.Accounts == nil {
		return nil, errors.New("console: Store, Box and Accounts are required")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Argon2 == (Argon2{}) {
		opts.Argon2 = DefaultArgon2
	}
	if opts.ThermalGlob == "" {
		opts.ThermalGlob = "/sys/class/thermal/thermal_zone*/temp"
	}
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	if err := opts.Store.Migrate(ctx, "console", migrations); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	s := &Service{
		opts:     opts,
		db:       opts.Store.DB(),
		box:      opts.Box,
		accounts: opts.Accounts,
		log:      opts.Log,
		now:      opts.Now,
		argon:    opts.Argon2,
		hashing:  make(chan struct{}, 2),
		ready:    make(chan struct{}),
		healthy:  services.Health{OK: true, Detail: "not listening yet"},
	}
	s.throttle = &throttle{db: s.db, now: s.now}
	var err error
	if s.csrfKey, err = s.secret(ctx, "csrf_key"); err != nil {
		return nil, err
	}
	inv, err := invites.Open(ctx, opts.Store, invites.Options{Accounts: inviteAccounts{s}, Rosters: opts.Rosters, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	s.invites = inv
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(s)
	s.mux = s.routes()
	return s, nil
}

// secret returns a 32-byte key kept in console_meta, made on first use, so
// CSRF tokens survive a restart of the service.
func (s *Service) secret(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT v FROM console_meta WHERE k = ?`, name).Scan(&v)
	if err == nil && len(v) == 32 {
		return v, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("console: %s: %w", name, err)
	}
	v = make([]byte, 32)
	if _, err := rand.Read(v); err != nil {
		return nil, fmt.Errorf("console: %s: %w", name, err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO console_meta(k, v) VALUES(?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v`, name, v); err != nil {
		return nil, fmt.Errorf("console: %s: %w", name, err)
	}
	return v, nil
}

// Name implements services.Service.
func (s *Service) Name() string { return "console" }

// Health implements services.HealthReporter.
func (s *Service) Health() services.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.healthy
}

// Invites is the invite store: the XMPP service redeems pre-auth tokens
// (XEP-0445) through it so an account made from a chat app and one made on
// the web invite page are made the same way.
func (s *Service) Invites() *invites.Store { return s.invites }

// Handler is the console's HTTPS handler (tests serve it directly).
func (s *Service) Handler() http.Handler { return s.secure(s.mux) }

// Addr is the HTTPS listener's address once Run is listening (tests listen
// on port 0); it blocks until then or ctx ends.
func (s *Service) Addr(ctx context.Context) (net.Addr, error) {
	select {
	case <-s.ready:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.addr, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ListenerAddr is the address of the "redirect" or "metrics" listener once
// Run is listening (nil when not configured).
func (s *Service) ListenerAddr(name string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.extra[name]
}

// Run serves HTTPS on Config.Listen, and the redirect and metrics listeners
// when configured, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if s.opts.TLS == nil {
		return errors.New("console: no TLS config")
	}
	tcfg := s.opts.TLS.Clone()
	if tcfg.MinVersion < tls.VersionTLS12 {
		tcfg.MinVersion = tls.VersionTLS12
	}
	ln, err := net.Listen("tcp", s.opts.Config.Listen)
	if err != nil {
		return fmt.Errorf("console: listen %s: %w", s.opts.Config.Listen, err)
	}
	servers := []*http.Server{s.server(s.Handler(), tcfg)}
	lns := []net.Listener{ln}
	if a := s.opts.Config.Redirect; a != "" {
		rl, err := net.Listen("tcp", a)
		if err != nil {
			ln.Close()
			return fmt.Errorf("console: listen %s: %w", a, err)
		}
		_, httpsPort, _ := net.SplitHostPort(ln.Addr().String())
		servers = append(servers, s.server(redirectHandler(httpsPort), nil))
		lns = append(lns, rl)
	}
	if a := s.opts.Config.Metrics; a != "" {
		ml, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return fmt.Errorf("console: listen %s: %w", a, err)
		}
		servers = append(servers, s.server(s.metrics.handler(), nil))
		lns = append(lns, ml)
	}
	s.mu.Lock()
	s.addr = ln.Addr()
	s.extra = map[string]net.Addr{}
	if len(lns) > 1 && s.opts.Config.Redirect != "" {
		s.extra["redirect"] = lns[1].Addr()
	}
	if s.opts.Config.Metrics != "" {
		s.extra["metrics"] = lns[len(lns)-1].Addr()
	}
	s.healthy = services.Health{OK: true, Detail: "https://" + ln.Addr().String()}
	s.mu.Unlock()
	close(s.ready)
	s.log.Info("console listening", "addr", ln.Addr().String())

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if i == 0 {
				// ServeTLS with the config's certificate (and HTTP/2).
				errc <- srv.ServeTLS(lns[i], "", "")
				return
			}
			errc <- srv.Serve(lns[i])
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		runErr = fmt.Errorf("console: serve: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		srv.Shutdown(sctx)
	}
	return runErr
}

func (s *Service) server(h http.Handler, tcfg *tls.Config) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         tcfg,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// redirectHandler sends plain-HTTP visitors to the HTTPS console on the
// same host. It never serves content over plain HTTP.
func redirectHandler(httpsPort string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" {
			http.Error(w, "use https", http.StatusBadRequest)
			return
		}
		if net.ParseIP(host) != nil && net.ParseIP(host).To4() == nil {
			host = "[" + host + "]"
		}
		if httpsPort != "443" {
			host += ":" + httpsPort
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
}
