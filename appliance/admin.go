package appliance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/chatsecure/box/appliance/adminapi"
	"github.com/chatsecure/box/services"
)

// serveAdmin listens on the admin socket (0600) and serves until the
// returned func closes it. That func closes the listener itself: Serve
// runs on a goroutine that may not have started yet, and a listening unix
// socket accepts connections into its backlog without anyone calling
// Accept, so the next boxd would take it for another one still running.
func (s *System) serveAdmin() (func(), error) {
	sock := s.path(adminapi.SocketName)
	if c, err := net.Dial("unix", sock); err == nil {
		c.Close()
		return nil, fmt.Errorf("appliance: another boxd answers on %s", sock)
	}
	os.Remove(sock) // stale from a crash
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("appliance: admin socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("appliance: admin socket: %w", err)
	}
	srv := &http.Server{Handler: s.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin API stopped", "err", err)
		}
	}()
	return func() {
		srv.Close()
		ln.Close()
	}, nil
}

func (s *System) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		adminapi.WriteJSON(w, http.StatusOK, s.Status(r.Context()))
	})
	mux.HandleFunc("POST /v1/unlock", func(w http.ResponseWriter, r *http.Request) {
		var req adminapi.UnlockRequest
		if err := adminapi.ReadJSON(r, &req); err != nil {
			adminapi.WriteError(w, http.StatusBadRequest, err)
			return
		}
		if err := s.Unlock(r.Context(), req.RecoveryCode); err != nil {
			adminapi.WriteError(w, http.StatusForbidden, err)
			return
		}
		adminapi.WriteJSON(w, http.StatusOK, s.Status(r.Context()))
	})
	mux.HandleFunc("POST /v1/check", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Check(r.Context()); err != nil {
			adminapi.WriteError(w, http.StatusConflict, err)
			return
		}
		adminapi.WriteJSON(w, http.StatusOK, map[string]string{"result": "ok"})
	})
	mux.HandleFunc("GET /v1/recovery", func(w http.ResponseWriter, r *http.Request) {
		code, err := s.PendingRecoveryCode(r.Context())
		if err != nil {
			adminapi.WriteError(w, http.StatusConflict, err)
			return
		}
		adminapi.WriteJSON(w, http.StatusOK, adminapi.RecoveryCode{Code: code})
	})
	mux.HandleFunc("POST /v1/recovery/confirm", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ConfirmRecoveryCode(r.Context(), "boxctl", "local"); err != nil {
			adminapi.WriteError(w, http.StatusConflict, err)
			return
		}
		adminapi.WriteJSON(w, http.StatusOK, map[string]string{"result": "confirmed"})
	})
	mux.HandleFunc("POST /v1/factory-reset", func(w http.ResponseWriter, r *http.Request) {
		var req adminapi.FactoryResetRequest
		if err := adminapi.ReadJSON(r, &req); err != nil {
			adminapi.WriteError(w, http.StatusBadRequest, err)
			return
		}
		if req.Confirm != "erase" {
			adminapi.WriteError(w, http.StatusBadRequest, errors.New(`factory reset needs confirm "erase"`))
			return
		}
		who := req.Who
		if who == "" {
			who = "boxctl"
		}
		if err := s.FactoryReset(r.Context(), who, "local"); err != nil {
			adminapi.WriteError(w, http.StatusInternalServerError, err)
			return
		}
		adminapi.WriteJSON(w, http.StatusOK, s.Status(r.Context()))
	})
	mux.HandleFunc("POST /v1/button", s.handleButton)
	// Everything else under /v1/ belongs to the running services.
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		s.svcMux.Load().ServeHTTP(w, r)
	})
	return mux
}

// Check runs the store's integrity check.
func (s *System) Check(ctx context.Context) error {
	s.mu.Lock()
	st := s.store
	s.mu.Unlock()
	if st == nil {
		state, _ := s.State()
		return fmt.Errorf("store is not open (box is %s)", state)
	}
	return st.Check(ctx)
}

// PendingRecoveryCode returns the recovery code until an admin confirms it.
func (s *System) PendingRecoveryCode(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return "", fmt.Errorf("store is not open (box is %s)", s.m.state)
	}
	code, err := s.getMeta(ctx, metaRecoveryPending)
	if err != nil {
		return "", err
	}
	if code == "" {
		return "", errors.New("the recovery code was already confirmed and is no longer shown")
	}
	return code, nil
}

// ConfirmRecoveryCode forgets the pending recovery code: from now on only the
// operator's copy exists.
func (s *System) ConfirmRecoveryCode(ctx context.Context, who, origin string) error {
	if _, err := s.PendingRecoveryCode(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.Audit(ctx, who, origin, "recovery-code-confirmed", ""); err != nil {
		return err
	}
	return s.deleteMeta(ctx, metaRecoveryPending)
}

// Status is the box's state and health, as boxctl status shows it.
func (s *System) Status(ctx context.Context) adminapi.Status {
	if !s.mu.TryLock() {
		// Busy booting, unlocking or erasing: say where it is.
		state, reason := s.State()
		return adminapi.Status{
			State: string(state), Reason: reason, Version: s.version, Dev: s.cfg.Dev,
			DataDir: s.cfg.DataDir, Uptime: time.Since(s.started).Round(time.Second).String(),
			Health: map[string]services.Health{"boxd": {OK: true, Detail: "busy: " + string(state)}},
		}
	}
	defer s.mu.Unlock()
	st := adminapi.Status{
		State:   string(s.m.state),
		Reason:  s.m.reason,
		Version: s.version,
		Dev:     s.cfg.Dev,
		DataDir: s.cfg.DataDir,
		Uptime:  time.Since(s.started).Round(time.Second).String(),
		Health:  s.health(),
	}
	if s.gpio != nil {
		st.LED = string(s.gpio.LED.Current())
	}
	if s.store != nil {
		if s.m.state == StateUnclaimed {
			st.SetupCode, _ = s.getMeta(ctx, metaSetupCode)
		}
		code, _ := s.getMeta(ctx, metaRecoveryPending)
		st.RecoveryPending = code != ""
		st.CertFingerprint = Fingerprint(s.cert)
	}
	return st
}

// health reports each subsystem. s.mu held.
func (s *System) health() map[string]services.Health {
	h := map[string]services.Health{}
	if s.configErr != nil {
		h["config"] = services.Health{OK: false, Detail: s.configErr.Error()}
	} else {
		h["config"] = services.Health{OK: true}
	}
	switch {
	case s.sealerErr != nil:
		h["key"] = services.Health{OK: false, Detail: s.sealerErr.Error()}
	case s.m.state == StateLocked:
		h["key"] = services.Health{OK: false, Detail: s.m.reason}
	default:
		h["key"] = services.Health{OK: s.store != nil, Detail: sealerName(s.sealer)}
	}
	switch {
	case s.gpioErr != nil:
		h["gpio"] = services.Health{OK: false, Detail: s.gpioErr.Error()}
	case s.gpio != nil:
		h["gpio"] = services.Health{OK: true, Detail: "LED " + string(s.gpio.LED.Current())}
	}
	switch {
	case s.updatesErr != nil:
		h["updates"] = services.Health{OK: true, Detail: "unavailable: " + s.updatesErr.Error()}
	case s.updater != nil:
		h["updates"] = services.Health{OK: true, Detail: "ready"}
	}
	if s.store != nil {
		h["store"] = services.Health{OK: true, Detail: s.store.Path()}
	} else {
		h["store"] = services.Health{OK: false, Detail: "not open"}
	}
	for _, svc := range s.svcs {
		hs := services.Health{OK: true, Detail: "running"}
		if r, ok := svc.(services.HealthReporter); ok {
			hs = r.Health()
		}
		if err := s.svcErrs[svc.Name()]; err != nil {
			hs = services.Health{OK: false, Detail: err.Error()}
		}
		h[svc.Name()] = hs
	}
	for name, err := range s.svcErrs {
		if _, ok := h[name]; !ok {
			h[name] = services.Health{OK: false, Detail: err.Error()}
		}
	}
	return h
}

func sealerName(x any) string {
	if n, ok := x.(interface{ Name() string }); ok {
		return n.Name()
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", x), "*")
}
