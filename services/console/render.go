package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type pageTemplate struct{ t *template.Template }

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"dur":   humanDuration,
	"bytes": humanBytes,
	"pct": func(a, b uint64) int {
		if b == 0 {
			return 0
		}
		return int(a * 100 / b)
	},
	"initial": func(s string) string {
		for _, r := range strings.ToUpper(s) {
			return string(r)
		}
		return "?"
	},
	"eq": func(a, b string) bool { return a == b },
	"ibytes": func(n int64) string {
		if n < 0 {
			return "—"
		}
		return humanBytes(uint64(n))
	},
}

// parsePages parses every page together with the layout, once, at start.
func parsePages() (map[string]*pageTemplate, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	out := map[string]*pageTemplate{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", base, err)
		}
		out[strings.TrimSuffix(base, ".html")] = &pageTemplate{t: t}
	}
	return out, nil
}

// pageData is what every page gets; Data is the page's own.
type pageData struct {
	Title           string
	Nav             string // which sidebar entry is current; "" hides the sidebar
	User            *Person
	CSRF            string
	Flash           string
	Error           string
	Domain          string
	RecoveryPending bool
	Data            any
}

// flashes are the messages a redirect may ask for by key (?ok=key), so no
// text from the URL ever reaches the page.
var flashes = map[string]string{
	"added":      "Person added. Send them their set-password link.",
	"updated":    "Saved.",
	"deleted":    "Deleted.",
	"invited":    "Invite created.",
	"revoked":    "Invite revoked.",
	"cert":       "Certificate installed. New connections use it now.",
	"password":   "Password changed. Other sessions were signed out.",
	"totp-on":    "Two-step sign-in is on.",
	"totp-off":   "Two-step sign-in is off.",
	"confirmed":  "Recovery code confirmed. Keep the emergency kit somewhere safe.",
	"rebooting":  "The box is restarting. This page will work again in a minute.",
	"signedout":  "You are signed out.",
	"everywhere": "Signed out everywhere else.",
	"applying":   "Applying the update: verifying, then writing the inactive system.",
}

func (s *Service) render(w http.ResponseWriter, r *http.Request, c *call, status int, name string, d pageData) {
	p, ok := s.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	if c != nil {
		d.CSRF = c.csrf
		if c.sess != nil && c.sess.mfaOK {
			u := c.sess.user
			d.User = &u
		}
	}
	if d.Flash == "" {
		d.Flash = flashes[r.URL.Query().Get("ok")]
	}
	d.Domain = s.opts.Domain
	if d.User != nil && d.User.Role == RoleAdmin {
		d.RecoveryPending = s.box.Status(r.Context()).RecoveryPending
	}
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "page failed to render", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func humanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days := int(d.Hours()) / 24
	h := int(d.Hours()) % 24
	m := int(d.Minutes()) % 60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh %dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

func humanBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
