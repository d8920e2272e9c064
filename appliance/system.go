package appliance

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/gpio"
	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/services/store"
	"github.com/chatsecure/box/tpm"
	"github.com/chatsecure/box/tpm/recovery"
	"github.com/chatsecure/box/updates"
)

// ServiceEnv is what a service gets from the box when it is made.
type ServiceEnv struct {
	Config config.Config
	Store  *store.Store
	TLS    *tls.Config
	Logger *slog.Logger
	// Box is the System as the console sees it.
	Box console.Box
	// Made holds the services made so far, by name (the console uses the
	// XMPP service's accounts).
	Made map[string]services.Service
	// SetSessions tells the System how to count client sessions.
	SetSessions func(func() int)
	// SetMessagesPerMinute tells the System how to count messages.
	SetMessagesPerMinute func(func() int)
}

// A ServiceFactory makes one service once the store is open. Name labels
// the service in the health report even when New fails.
type ServiceFactory struct {
	Name string
	New  func(env ServiceEnv) (services.Service, error)
}

// Options are what cmd/boxd decided before the System exists.
type Options struct {
	Config config.Config
	// ConfigErr, when set, puts the box in fault with this reason (the
	// admin API still answers so boxctl can say what is wrong).
	ConfigErr error
	Logger    *slog.Logger
	// Sealer seals the database key; when SealerErr is set instead, the
	// box stays in fault (e.g. "no TPM") and never falls back.
	Sealer    tpm.Sealer
	SealerErr error
	Services  []ServiceFactory
	Version   string
	// RecoveryParams are argon2id's costs (tests make them cheap).
	RecoveryParams recovery.Params
	// OnState is called on every state change (the status LED).
	OnState func(State)
	// Reboot restarts the machine after the store is closed; nil in dev
	// mode, where a reboot request is only logged.
	Reboot func() error
	// LogRing, when set, is what the console's log page shows.
	LogRing *LogRing
	// Console is where boxd speaks to the person at the box (stderr in
	// dev mode, the serial console on the image): the recovery code at
	// first start. Nil: nowhere.
	Console io.Writer
}

// System is the whole box.
type System struct {
	cfg            config.Config
	configErr      error
	log            *slog.Logger
	sealer         tpm.Sealer
	sealerErr      error
	factories      []ServiceFactory
	version        string
	recoveryParams recovery.Params
	onState        func(State)
	console        io.Writer
	reboot         func() error
	logRing        *LogRing
	sessions       func() int
	msgsPerMinute  func() int
	gpio           *gpio.Devices
	gpioErr        error
	started        time.Time

	// snap is the state as last set, readable while a long step (boot,
	// unlock, erase) holds mu, so boxctl status always answers.
	snap  atomic.Pointer[machine]
	ready chan struct{} // closed when boot has settled

	mu       sync.Mutex // guards everything below
	m        machine
	store    *store.Store
	cert     tls.Certificate
	svcs     []services.Service
	svcStop  context.CancelFunc
	svcWG    sync.WaitGroup
	svcErrs  map[string]error
	svcMux   atomic.Pointer[http.ServeMux] // admin routes of the running services
	firstRun string                        // recovery code made at this first start

	updater      *updates.Updater
	updatesAdmin services.AdminHandler
	updatesErr   error
	trial        bool  // this boot is an uncommitted update on trial
	slotsBooted  bool  // Updater.Boot ran in this process
	beforeUpdate State // state to return to after an apply

	// updCenter applies from every source and holds USB and feed offers.
	updCenter *updateCenter
}

// New makes a System; Run starts it.
func New(opts Options) *System {
	s := &System{
		cfg:            opts.Config,
		configErr:      opts.ConfigErr,
		log:            opts.Logger,
		sealer:         opts.Sealer,
		sealerErr:      opts.SealerErr,
		factories:      opts.Services,
		version:        opts.Version,
		recoveryParams: opts.RecoveryParams,
		onState:        opts.OnState,
		console:        opts.Console,
		reboot:         opts.Reboot,
		logRing:        opts.LogRing,
		m:              machine{state: StateBoot},
		svcErrs:        map[string]error{},
		ready:          make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.recoveryParams == (recovery.Params{}) {
		s.recoveryParams = recovery.Default
	}
	s.svcMux.Store(http.NewServeMux())
	s.snap.Store(&machine{state: StateBoot})
	return s
}

// State returns the current state and its reason.
func (s *System) State() (State, string) {
	m := s.snap.Load()
	return m.state, m.reason
}

// Ready is closed once boot has settled in a state other than boot.
func (s *System) Ready() <-chan struct{} { return s.ready }

// setState moves the machine; s.mu must be held.
func (s *System) setState(next State, reason string) {
	prev := s.m.state
	if err := s.m.to(next, reason); err != nil {
		// A refused transition is a bug in the caller: say so loudly and
		// stay where we are rather than lie about the state.
		s.log.Error("refused state change", "from", prev, "to", next, "err", err)
		return
	}
	m := s.m
	s.snap.Store(&m)
	if reason != "" {
		s.log.Info("state", "from", prev, "to", next, "reason", reason)
	} else {
		s.log.Info("state", "from", prev, "to", next)
	}
	s.showState(next)
	if s.onState != nil {
		s.onState(next)
	}
}

// Run boots the box, serves the admin API, and blocks until ctx is done;
// then it stops the services and closes the store.
func (s *System) Run(ctx context.Context) error {
	s.started = time.Now()
	if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("appliance: data dir: %w", err)
	}
	closeAdmin, err := s.serveAdmin()
	if err != nil {
		return err
	}
	defer closeAdmin()

	s.mu.Lock()
	s.boot(ctx)
	state, reason := s.m.state, s.m.reason
	s.mu.Unlock()
	close(s.ready)
	s.log.Info("ready", "state", state, "reason", reason, "took", time.Since(s.started).Round(time.Millisecond))

	<-ctx.Done()
	s.log.Info("shutting down")
	s.stopUpdateApplies()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopServices()
	return s.closeStore()
}

// boot walks boot → unclaimed | running | locked | fault. s.mu held.
func (s *System) boot(ctx context.Context) {
	if s.configErr != nil {
		s.setState(StateFault, s.configErr.Error())
		return
	}
	if s.sealerErr != nil {
		reason := s.sealerErr.Error()
		if errors.Is(s.sealerErr, tpm.ErrNoTPM) {
			reason = "no TPM: " + reason
		}
		s.setState(StateFault, reason)
		return
	}
	if exists(s.path(fileReset)) {
		// A power cut interrupted a factory reset: finish it before
		// anything can read old data.
		s.log.Warn("finishing an interrupted factory reset")
		s.setState(StateFactoryReset, "finishing an interrupted factory reset")
		if err := s.erase(); err != nil {
			s.setState(StateFault, err.Error())
			return
		}
	}
	var st *store.Store
	var err error
	if !exists(s.path(fileDB)) && !exists(s.path(fileDB+"-wal")) {
		var code string
		st, code, err = s.firstStart(ctx)
		if err == nil {
			s.firstRun = code
		}
	} else {
		st, err = s.openWithSealedKey(ctx)
	}
	var locked *errLocked
	switch {
	case errors.As(err, &locked):
		s.toFrom(StateLocked, locked.reason)
		return
	case errors.Is(err, tpm.ErrNoTPM):
		s.toFrom(StateFault, "no TPM: "+err.Error())
		return
	case err != nil:
		s.toFrom(StateFault, err.Error())
		return
	}
	s.opened(ctx, st)
}

// toFrom sets the state, passing through factory-reset's exit when needed.
func (s *System) toFrom(next State, reason string) {
	if s.m.state == StateFactoryReset && next == StateLocked {
		next = StateFault // an erased box has nothing to unlock
	}
	s.setState(next, reason)
}

// opened takes an open store: migrations, lock, TLS, services, state. s.mu held.
func (s *System) opened(ctx context.Context, st *store.Store) {
	s.store = st
	if l, ok := s.sealer.(tpm.Locker); ok {
		if err := l.Lock(); err != nil {
			s.log.Error("cannot lock the sealed key for this boot", "err", err)
		}
	}
	if err := st.Migrate(ctx, "appliance", migrations); err != nil {
		s.setState(StateFault, err.Error())
		return
	}
	if s.firstRun != "" {
		if err := s.setMeta(ctx, metaRecoveryPending, s.firstRun); err != nil {
			s.setState(StateFault, err.Error())
			return
		}
		if s.console != nil {
			fmt.Fprintf(s.console, "\n  RECOVERY CODE (shown once; boxctl recovery shows it until confirmed):\n    %s\n\n", s.firstRun)
		}
		s.firstRun = ""
	}
	cert, err := s.loadTLS(ctx)
	if err != nil {
		s.setState(StateFault, err.Error())
		return
	}
	s.cert = cert
	claimed, err := s.getMeta(ctx, metaClaimedAt)
	if err != nil {
		s.setState(StateFault, err.Error())
		return
	}
	s.updatesAdmin, s.updatesErr = s.setupUpdates(ctx)
	if s.updatesErr != nil {
		s.log.Warn("updates unavailable", "err", s.updatesErr)
	}
	s.startServices()
	s.commitTrial(ctx)
	if claimed != "" {
		s.setState(StateRunning, "")
		return
	}
	if _, err := s.ensureSetupCode(ctx); err != nil {
		s.setState(StateFault, err.Error())
		return
	}
	s.setState(StateUnclaimed, "waiting for the first admin (setup code: boxctl status)")
}

// startServices makes and runs every service. s.mu held.
func (s *System) startServices() {
	env := ServiceEnv{
		Config: s.cfg,
		Store:  s.store,
		TLS: &tls.Config{
			Certificates: []tls.Certificate{s.cert},
			MinVersion:   tls.VersionTLS12,
		},
		Logger:               s.log,
		Box:                  consoleBox{s},
		Made:                 map[string]services.Service{},
		SetSessions:          func(f func() int) { s.sessions = f },
		SetMessagesPerMinute: func(f func() int) { s.msgsPerMinute = f },
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.svcStop = cancel
	mux := http.NewServeMux()
	if s.updatesAdmin != nil {
		s.updatesAdmin.RegisterAdmin(mux)
	}
	s.runUpdateSources(ctx)
	s.svcErrs = map[string]error{}
	for _, f := range s.factories {
		svc, err := f.New(env)
		if err != nil {
			s.log.Error("service not started", "service", f.Name, "err", err)
			s.svcErrs[f.Name] = err
			continue
		}
		env.Made[svc.Name()] = svc
		if a, ok := svc.(services.AdminHandler); ok {
			a.RegisterAdmin(mux)
		}
		s.svcs = append(s.svcs, svc)
		s.svcWG.Add(1)
		go func() {
			defer s.svcWG.Done()
			err := svc.Run(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Error("service stopped", "service", svc.Name(), "err", err)
				s.mu.Lock()
				s.svcErrs[svc.Name()] = err
				s.mu.Unlock()
			}
		}()
	}
	s.svcMux.Store(mux)
}

// stopServices cancels them and waits (bounded). s.mu held; it is released
// while waiting so a service's last error can be recorded.
func (s *System) stopServices() {
	if s.svcStop == nil {
		return
	}
	s.svcStop()
	s.svcStop = nil
	done := make(chan struct{})
	go func() { s.svcWG.Wait(); close(done) }()
	s.mu.Unlock()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.log.Error("services did not stop within 10s")
	}
	s.mu.Lock()
	s.svcs = nil
	s.svcMux.Store(http.NewServeMux())
}

func (s *System) closeStore() error {
	if s.store == nil {
		return nil
	}
	err := s.store.Close()
	s.store = nil
	return err
}

// Unlock opens a locked box with its recovery code.
func (s *System) Unlock(ctx context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.state != StateLocked {
		return fmt.Errorf("box is %s, not locked", s.m.state)
	}
	st, err := s.openWithRecoveryCode(ctx, code)
	if err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	s.opened(ctx, st)
	if s.store != nil {
		s.Audit(ctx, "boxctl", "local", "unlock", "opened with the recovery code and re-sealed")
	}
	return nil
}
