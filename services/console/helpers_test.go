package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/services/console/consoletest"
)

// clock is an injected clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// browser is a minimal cookie-keeping client talking to the handler in
// process (no sockets), from one client address.
type browser struct {
	t       *testing.T
	h       http.Handler
	ip      string
	cookies map[string]string
}

func newBrowser(t *testing.T, env *consoletest.Env) *browser {
	return &browser{t: t, h: env.Console.Handler(), ip: "192.0.2.10", cookies: map[string]string{}}
}

func (b *browser) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.doWithHeader(method, path, form, "", "")
}

func (b *browser) doWithHeader(method, path string, form url.Values, hk, hv string) *httptest.ResponseRecorder {
	b.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, "https://box.test"+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, "https://box.test"+path, nil)
	}
	req.RemoteAddr = b.ip + ":40000"
	if hk != "" {
		req.Header.Set(hk, hv)
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return rec
}

func (b *browser) get(path string) *httptest.ResponseRecorder { return b.do("GET", path, nil) }

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf loads page and returns the token of its forms.
func (b *browser) csrf(page string) string {
	b.t.Helper()
	rec := b.get(page)
	m := csrfRe.FindStringSubmatch(rec.Body.String())
	if m == nil {
		b.t.Fatalf("no csrf token on %s (status %d)", page, rec.Code)
	}
	return m[1]
}

// post submits form to path with the token from page.
func (b *browser) post(page, path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf(page))
	return b.do("POST", path, form)
}

const adminPassword = "correct horse battery"

func newEnv(t *testing.T, clk *clock) *consoletest.Env {
	return consoletest.New(t, func(o *console.Options) {
		if clk != nil {
			o.Now = clk.now
		}
	})
}

// claimed returns a box claimed by admin "ada", signed in, kit confirmed.
func claimed(t *testing.T, clk *clock) (*consoletest.Env, *browser) {
	t.Helper()
	env := newEnv(t, clk)
	b := newBrowser(t, env)
	rec := b.post("/setup", "/setup", url.Values{
		"code": {env.Box.SetupCode()}, "username": {"ada"}, "display_name": {"Ada Admin"},
		"password": {adminPassword}, "password2": {adminPassword},
	})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup/kit" {
		t.Fatalf("claim: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	rec = b.post("/setup/kit", "/setup/kit", url.Values{"saved": {"yes"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("confirm kit: %d\n%s", rec.Code, rec.Body)
	}
	return env, b
}

func login(t *testing.T, env *consoletest.Env, user, pw string) *browser {
	t.Helper()
	b := newBrowser(t, env)
	rec := b.post("/login", "/login", url.Values{"username": {user}, "password": {pw}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login %s: %d\n%s", user, rec.Code, rec.Body)
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
