package console_test

import (
	"archive/zip"
	"bytes"
	"crypto/tls"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/services/console/consoletest"
)

func inviteToken(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`data-token="([a-z0-9]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no invite on the page")
	}
	return m[1]
}

func multipartCert(t *testing.T, csrf string, cert, key []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("csrf", csrf)
	f, _ := w.CreateFormFile("cert", "cert.pem")
	f.Write(cert)
	f, _ = w.CreateFormFile("key", "key.pem")
	f.Write(key)
	w.Close()
	return &buf, w.FormDataContentType()
}

func (b *browser) upload(page, path string, cert, key []byte) *httptest.ResponseRecorder {
	body, ct := multipartCert(b.t, b.csrf(page), cert, key)
	req := httptest.NewRequest("POST", "https://box.test"+path, body)
	req.Header.Set("Content-Type", ct)
	req.RemoteAddr = b.ip + ":1"
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	return rec
}

// TestAuditEntryForEachAdminAction does every admin action once and looks
// for its line in the audit log, with who and from where.
func TestAuditEntryForEachAdminAction(t *testing.T) {
	env, a := claimed(t, nil)
	steps := []struct {
		action string
		do     func()
	}{
		{"person-added", func() { a.post("/people", "/people", url.Values{"username": {"bob"}, "role": {"user"}}) }},
		{"person-role", func() { a.post("/people", "/people/bob/role", url.Values{"role": {"limited"}}) }},
		{"person-reset-link", func() { a.post("/people", "/people/bob/reset", nil) }},
		{"person-disabled", func() { a.post("/people", "/people/bob/disable", nil) }},
		{"person-enabled", func() { a.post("/people", "/people/bob/enable", nil) }},
		{"person-deleted", func() { a.post("/people", "/people/bob/delete", nil) }},
		{"invite-created", func() { a.post("/invites", "/invites", url.Values{"kind": {"single"}, "expiry": {"24h"}}) }},
		{"invite-revoked", func() { a.post("/invites", "/invites/"+inviteToken(t, a.get("/invites").Body.String())+"/revoke", nil) }},
		{"certificate-installed", func() {
			c, k, _ := consoletest.SelfSigned(time.Now())
			a.upload("/certificates", "/certificates", c, k)
		}},
		{"diagnostics-downloaded", func() { a.get("/logs/diagnostics.zip") }},
		{"reboot", func() { a.post("/system", "/system/reboot", nil) }},
		{"totp-enabled", nil}, // covered by TestTOTPEnrolAndSignIn
		{"password-changed", func() {
			a.post("/account", "/account/password", url.Values{"current": {adminPassword}, "password": {"a new long password"}, "password2": {"a new long password"}})
		}},
		{"factory-reset-refused", func() {
			a.post("/system", "/system/factory-reset", url.Values{"password": {"wrong one!!"}, "confirm": {"erase"}})
		}},
		{"factory-reset", func() {
			a.post("/system", "/system/factory-reset", url.Values{"password": {"a new long password"}, "confirm": {"erase"}})
		}},
		{"logout", nil}, // the session ended with the factory reset; see TestLogoutAndLogoutEverywhere
	}
	for _, s := range steps {
		if s.do == nil {
			continue
		}
		before := len(env.Box.Actions())
		s.do()
		acts := env.Box.Actions()[before:]
		if !contains(acts, s.action) {
			t.Errorf("%s: audit got %v", s.action, acts)
		}
	}
	log, _ := env.Box.AuditLog(t.Context(), 100)
	for _, e := range log {
		if e.Who == "" && e.Action != "login-locked" {
			t.Errorf("audit entry %s without who", e.Action)
		}
		if e.Origin != "192.0.2.10" {
			t.Errorf("audit entry %s from %q", e.Action, e.Origin)
		}
	}
	if env.Box.Reboots() != 1 || env.Box.Resets() != 1 {
		t.Fatalf("reboots %d resets %d", env.Box.Reboots(), env.Box.Resets())
	}
}

func TestFactoryResetNeedsPasswordAndErase(t *testing.T) {
	env, a := claimed(t, nil)
	for _, f := range []url.Values{
		{"password": {adminPassword}, "confirm": {"yes"}},
		{"password": {"not it at all"}, "confirm": {"erase"}},
		{"confirm": {"erase"}},
	} {
		if rec := a.post("/system", "/system/factory-reset", f); rec.Code == 200 {
			t.Fatalf("%v: 200", f)
		}
	}
	if env.Box.Resets() != 0 {
		t.Fatal("erased without both confirmations")
	}
	if rec := a.post("/system", "/system/factory-reset", url.Values{"password": {adminPassword}, "confirm": {"erase"}}); rec.Code != 200 {
		t.Fatalf("reset: %d", rec.Code)
	}
	if env.Box.Resets() != 1 {
		t.Fatal("not erased")
	}
}

func TestWebRegistrationThroughInvite(t *testing.T) {
	clk := newClock()
	env, a := claimed(t, clk)
	a.post("/invites", "/invites", url.Values{"kind": {"group"}, "uses": {"2"}, "expiry": {"24h"}, "note": {"team"}})
	tok := inviteToken(t, a.get("/invites").Body.String())
	v := newBrowser(t, env)
	page := v.get("/invite/" + tok).Body.String()
	for _, want := range []string{"xmpp:ada@box.test?roster;preauth=" + tok + ";ibr=y", "https://box.test/invite/" + tok, "Ada Admin"} {
		if !strings.Contains(page, want) {
			t.Errorf("invite page lacks %q", want)
		}
	}
	if rec := v.get("/invite/" + tok + "/qr.png"); rec.Code != 200 || !bytes.HasPrefix(rec.Body.Bytes(), []byte("\x89PNG")) {
		t.Fatalf("qr: %d", rec.Code)
	}
	reg := func(b *browser, name string) *httptest.ResponseRecorder {
		// The token comes from /login: a used-up invite's page has no form.
		return b.post("/login", "/invite/"+tok, url.Values{"username": {name}, "password": {"long enough pw"}, "password2": {"long enough pw"}})
	}
	if rec := reg(v, "carol"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "carol@box.test") {
		t.Fatalf("register: %d", rec.Code)
	}
	if pw, ok := env.Accounts.Password("carol"); !ok || pw != "long enough pw" {
		t.Fatal("no chat account")
	}
	if !env.Rosters.Contacts("ada", "carol") {
		t.Fatal("not contacts")
	}
	login(t, env, "carol", "long enough pw") // invitees are users: they may manage their account
	if rec := reg(newBrowser(t, env), "carol"); rec.Code != 400 {
		t.Fatalf("taken name: %d", rec.Code)
	}
	reg(newBrowser(t, env), "dave")
	if rec := reg(newBrowser(t, env), "erin"); rec.Code != http.StatusGone {
		t.Fatalf("third use of a 2-use invite: %d", rec.Code)
	}
	if !strings.Contains(a.get("/invites").Body.String(), "2 of 2 used") {
		t.Fatal("use count not shown")
	}
	// Expired and revoked invites say so.
	clk.add(time.Minute) // newest first: make the order certain
	a.post("/invites", "/invites", url.Values{"kind": {"single"}, "expiry": {"1h"}})
	tok2 := inviteToken(t, a.get("/invites").Body.String())
	clk.add(2 * time.Hour)
	if rec := newBrowser(t, env).get("/invite/" + tok2); rec.Code != 404 || !strings.Contains(rec.Body.String(), "expired") {
		t.Fatalf("expired invite page: %d", rec.Code)
	}
	a2 := login(t, env, "ada", adminPassword)
	clk.add(time.Minute)
	a2.post("/invites", "/invites", url.Values{"kind": {"single"}, "expiry": {"1h"}})
	tok3 := inviteToken(t, a2.get("/invites").Body.String())
	a2.post("/invites", "/invites/"+tok3+"/revoke", nil)
	if rec := reg(newBrowser(t, env), "frank"); rec.Code != http.StatusGone {
		t.Fatalf("used-up: %d", rec.Code)
	}
	if rec := newBrowser(t, env).get("/invite/" + tok3); !strings.Contains(rec.Body.String(), "withdrawn") {
		t.Fatal("revoked invite page does not say so")
	}
}

func TestCertificateUploadChecksThePair(t *testing.T) {
	env, a := claimed(t, nil)
	c1, k1, _ := consoletest.SelfSigned(time.Now())
	_, k2, _ := consoletest.SelfSigned(time.Now())
	if rec := a.upload("/certificates", "/certificates", c1, k2); rec.Code != 400 || !strings.Contains(rec.Body.String(), "do not form a pair") {
		t.Fatalf("mismatched pair: %d", rec.Code)
	}
	if rec := a.upload("/certificates", "/certificates", []byte("junk"), k1); rec.Code != 400 {
		t.Fatalf("junk: %d", rec.Code)
	}
	old, _, _ := consoletest.SelfSigned(time.Now().AddDate(-2, 0, 0))
	if _, err := console.CheckKeyPair(old, k1, time.Now()); err == nil {
		t.Fatal("expired/mismatched accepted")
	}
	if rec := a.upload("/certificates", "/certificates", c1, k1); rec.Code != 200 {
		t.Fatalf("good pair: %d", rec.Code)
	}
	got, _ := env.Box.Certificate(t.Context())
	if !bytes.Equal(got, c1) {
		t.Fatal("box did not get the certificate")
	}
	if rec := a.get("/certificates/box.pem"); !bytes.Equal(rec.Body.Bytes(), c1) {
		t.Fatal("download is not the installed certificate")
	}
}

func TestDiagnosticsBundleHasNoSecrets(t *testing.T) {
	env, a := claimed(t, nil)
	a.post("/invites", "/invites", url.Values{"kind": {"single"}, "expiry": {"24h"}})
	tok := inviteToken(t, a.get("/invites").Body.String())
	env.Box.AddLog("level=INFO msg=redeem preauth=" + tok + " password=hunter2hunter2")
	rec := a.get("/logs/diagnostics.zip")
	zr, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		all.Write(b)
	}
	if !names["status.json"] || !names["logs.txt"] {
		t.Fatalf("bundle files %v", names)
	}
	s := all.String()
	for _, secret := range []string{env.Box.SetupCode(), env.Box.RecoveryCode(), tok, "hunter2", "abcdef123456", "argon2id"} {
		if strings.Contains(s, secret) {
			t.Errorf("bundle contains %q", secret)
		}
	}
	if !strings.Contains(s, `"state": "running"`) || !strings.Contains(s, "boxd starting") {
		t.Fatal("bundle lacks status or logs")
	}
	if strings.Contains(a.get("/logs").Body.String(), "hunter2") {
		t.Fatal("logs page shows a password")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"token=abc def":         "token=[redacted] def",
		`"password": "x1"`:      `"password": "[redacted]"`,
		"setup_code=ABCD-EFGH":  "setup_code=[redacted]",
		"msg=hello user=bob":    "msg=hello user=bob",
		"session_id=1234, next": "session_id=[redacted], next",
	} {
		if got := console.Redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMetrics(t *testing.T) {
	env, a := claimed(t, nil)
	if rec := newBrowser(t, env).get("/metrics"); rec.Code != http.StatusSeeOther {
		t.Fatalf("anonymous metrics: %d", rec.Code)
	}
	body := a.get("/metrics").Body.String()
	for _, want := range []string{`box_subsystem_up{subsystem="store"} 1`, `box_state{state="running"} 1`, "box_console_logins_total", "box_xmpp_sessions 3", `box_console_people{role="admin"} 1`, "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestServesHTTPSWithRedirectAndMetricsListeners runs the real listeners
// on 127.0.0.1.
func TestServesHTTPSWithRedirectAndMetricsListeners(t *testing.T) {
	env := consoletest.New(t, func(o *console.Options) {
		o.Config.Redirect = "127.0.0.1:0"
		o.Config.Metrics = "127.0.0.1:0"
	})
	base := env.Start(t)
	cl := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := cl.Get(base + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" || resp.TLS == nil {
		t.Fatalf("https: %d", resp.StatusCode)
	}
	// Plain HTTP on the HTTPS port is not served.
	if r, err := cl.Get(strings.Replace(base, "https:", "http:", 1) + "/setup"); err == nil {
		if r.StatusCode == 200 {
			t.Fatal("plain HTTP served a page")
		}
		r.Body.Close()
	}
	if !env.Console.Health().OK {
		t.Fatal("unhealthy while serving")
	}
	// Port 80's job: redirect to HTTPS, nothing else.
	r, err := cl.Get("http://" + env.Console.ListenerAddr("redirect").String() + "/people?x=1")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != base+"/people?x=1" {
		t.Fatalf("redirect listener: %d %s (want %s)", r.StatusCode, r.Header.Get("Location"), base+"/people?x=1")
	}
	// The separate metrics listener needs no session.
	r, err = cl.Get("http://" + env.Console.ListenerAddr("metrics").String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(body), "box_subsystem_up") {
		t.Fatalf("metrics listener: %d", r.StatusCode)
	}
}

func TestDashboardShowsTemperatureWhenTheBoardHasOne(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "thermal_zone0"), 0o755)
	os.WriteFile(filepath.Join(dir, "thermal_zone0", "temp"), []byte("47312\n"), 0o644)
	env := consoletest.New(t, func(o *console.Options) { o.ThermalGlob = filepath.Join(dir, "thermal_zone*", "temp") })
	b := newBrowser(t, env)
	b.post("/setup", "/setup", url.Values{"code": {env.Box.SetupCode()}, "username": {"ada"}, "password": {adminPassword}, "password2": {adminPassword}})
	page := b.get("/").Body.String()
	if !strings.Contains(page, "47 °C") {
		t.Fatal("temperature not shown")
	}
	if !strings.Contains(page, "Disk") {
		t.Fatal("disk not shown")
	}
	if !strings.Contains(b.get("/metrics").Body.String(), "box_cpu_temperature_celsius 47.312") {
		t.Fatal("temperature not in metrics")
	}
}

func TestRedirectHandler(t *testing.T) {
	h := console.RedirectHandler("8443")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://box.lan/people?x=1", nil))
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "https://box.lan:8443/people?x=1" {
		t.Fatalf("%d %s", rec.Code, rec.Header().Get("Location"))
	}
	rec = httptest.NewRecorder()
	console.RedirectHandler("443").ServeHTTP(rec, httptest.NewRequest("GET", "http://192.168.1.5:80/", nil))
	if rec.Header().Get("Location") != "https://192.168.1.5/" {
		t.Fatal(rec.Header().Get("Location"))
	}
}
