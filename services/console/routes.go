package console

import (
	"io/fs"
	"net"
	"net/http"
	"strings"
)

// access says who may use a route.
type access int

const (
	public access = iota // anyone (sign-in, invite pages, reset links)
	self                 // any signed-in admin or user
	admin                // signed-in admins only
)

// call is what a handler knows about the request beyond http.Request.
type call struct {
	sess   *session
	csrf   string
	origin string // client address, for the audit log
}

func (c *call) who() string {
	if c.sess == nil {
		return ""
	}
	return c.sess.user.Username
}

type route struct {
	pattern string // a ServeMux pattern with method
	access  access
	h       func(w http.ResponseWriter, r *http.Request, c *call)
}

// routeTable is every route of the console. The mux is built from it and
// the tests walk it, so a new page cannot forget its access check.
func (s *Service) routeTable() []route {
	return []route{
		{"GET /setup", public, s.getSetup},
		{"POST /setup", public, s.postSetup},
		{"GET /login", public, s.getLogin},
		{"POST /login", public, s.postLogin},
		{"GET /login/totp", public, s.getLoginTOTP},
		{"POST /login/totp", public, s.postLoginTOTP},
		{"GET /reset/{token}", public, s.getReset},
		{"POST /reset/{token}", public, s.postReset},
		{"GET /invite/{token}", public, s.getInvitePage},
		{"GET /invite/{token}/qr.png", public, s.getInviteQR},
		{"POST /invite/{token}", public, s.postInviteRegister},

		{"POST /logout", self, s.postLogout},
		{"POST /logout/everywhere", self, s.postLogoutEverywhere},
		{"GET /account", self, s.getAccount},
		{"POST /account/password", self, s.postAccountPassword},
		{"POST /account/totp/start", self, s.postTOTPStart},
		{"GET /account/totp/qr.png", self, s.getTOTPQR},
		{"POST /account/totp/confirm", self, s.postTOTPConfirm},
		{"POST /account/totp/disable", self, s.postTOTPDisable},

		{"GET /{$}", admin, s.getDashboard},
		{"GET /setup/kit", admin, s.getKit},
		{"GET /setup/kit.txt", admin, s.getKitText},
		{"POST /setup/kit", admin, s.postKit},
		{"GET /people", admin, s.getPeople},
		{"POST /people", admin, s.postPeople},
		{"POST /people/{user}/role", admin, s.postPersonRole},
		{"POST /people/{user}/disable", admin, s.postPersonDisable},
		{"POST /people/{user}/enable", admin, s.postPersonEnable},
		{"POST /people/{user}/delete", admin, s.postPersonDelete},
		{"POST /people/{user}/reset", admin, s.postPersonReset},
		{"GET /invites", admin, s.getInvites},
		{"POST /invites", admin, s.postInvites},
		{"POST /invites/{token}/revoke", admin, s.postInviteRevoke},
		{"GET /certificates", admin, s.getCertificates},
		{"GET /certificates/box.pem", admin, s.getCertificatePEM},
		{"POST /certificates", admin, s.postCertificates},
		{"GET /audit", admin, s.getAudit},
		{"GET /logs", admin, s.getLogs},
		{"GET /logs/diagnostics.zip", admin, s.getDiagnostics},
		{"GET /system", admin, s.getSystem},
		{"POST /system/reboot", admin, s.postReboot},
		{"POST /system/factory-reset", admin, s.postFactoryReset},
		{"GET /metrics", admin, s.getMetrics},
		{"GET /updates", admin, s.getUpdates},
		{"GET /updates/status.json", admin, s.getUpdateStatus},
		{"POST /updates/uploads", admin, s.postUploadBegin},
		{"GET /updates/uploads/{id}", admin, s.getUpload},
		{"POST /updates/uploads/{id}", admin, s.postUploadChunk},
		{"POST /updates/uploads/{id}/apply", admin, s.postUploadApply},
		{"POST /updates/offers/{id}/apply", admin, s.postOfferApply},
	}
}

func (s *Service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	}))
	for _, rt := range s.routeTable() {
		mux.Handle(rt.pattern, s.guard(rt))
	}
	return mux
}

// guard runs the checks every route needs, in order: box claimed (else to
// /setup), signed in with the right role, CSRF on POST.
func (s *Service) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		limit := int64(1 << 20)
		if rt.pattern == "POST /updates/uploads/{id}" {
			limit = maxChunk // firmware chunks; the route is admin-only
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		st := s.box.Status(ctx)
		isSetup := rt.pattern == "GET /setup" || rt.pattern == "POST /setup"
		if !st.Claimed && !isSetup {
			http.Redirect(w, r, "/setup", http.StatusSeeOther)
			return
		}
		sess, err := s.session(r)
		if err != nil {
			s.log.Error("console: session", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		c := &call{sess: sess, origin: clientIP(r)}
		if rt.access != public {
			if sess == nil || !sess.mfaOK {
				if r.Method == http.MethodGet {
					http.Redirect(w, r, "/login", http.StatusSeeOther)
				} else {
					http.Error(w, "sign in first", http.StatusUnauthorized)
				}
				s.metrics.denied.Inc()
				return
			}
			if rt.access == admin && sess.user.Role != RoleAdmin {
				if rt.pattern == "GET /{$}" {
					http.Redirect(w, r, "/account", http.StatusSeeOther)
					return
				}
				http.Error(w, "admins only", http.StatusForbidden)
				s.metrics.denied.Inc()
				return
			}
		}
		if r.Method == http.MethodPost {
			// Defence in depth next to the token: a browser's Origin, when
			// sent, must be this console.
			if o := r.Header.Get("Origin"); o != "" && o != "https://"+r.Host {
				s.metrics.csrf.Inc()
				http.Error(w, "cross-site request refused", http.StatusForbidden)
				return
			}
			if !s.csrfOK(r, sess) {
				s.metrics.csrf.Inc()
				http.Error(w, "the form expired or came from another site: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		c.csrf = s.csrfToken(w, r, sess)
		rt.h(w, r, c)
	})
}

// secure sets the headers every answer carries.
func (s *Service) secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Strict-Transport-Security", "max-age=63072000")
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: with no-referrer Chromium sends
		// "Origin: null" on form posts, which the Origin check must refuse.
		// Invite and reset tokens in URLs still never leave the box.
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		h.ServeHTTP(rec, r)
		s.metrics.requests.WithLabelValues(statusClass(rec.status)).Inc()
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func statusClass(code int) string {
	return string(rune('0'+code/100)) + "xx"
}

// clientIP is the peer address. The console is reached directly on the LAN,
// so forwarding headers are not trusted (anyone could set them).
func clientIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// seeOther redirects after a successful POST, with an optional flash key.
func seeOther(w http.ResponseWriter, r *http.Request, path, ok string) {
	if ok != "" {
		path += "?ok=" + ok
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
