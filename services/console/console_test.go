package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestUnclaimedBoxSendsEveryoneToSetup(t *testing.T) {
	env := newEnv(t, nil)
	b := newBrowser(t, env)
	for _, p := range []string{"/", "/login", "/people", "/invite/abc"} {
		rec := b.get(p)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/setup" {
			t.Errorf("GET %s on an unclaimed box: %d %q", p, rec.Code, rec.Header().Get("Location"))
		}
	}
	rec := b.get("/setup")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "setup code") {
		t.Fatalf("setup page: %d", rec.Code)
	}
}

func TestClaimWithSetupCodeThenEmergencyKit(t *testing.T) {
	env := newEnv(t, nil)
	b := newBrowser(t, env)
	form := url.Values{"code": {"AAAA-BBBB-CCCC-DDDD"}, "username": {"ada"}, "password": {adminPassword}, "password2": {adminPassword}}
	if rec := b.post("/setup", "/setup", form); rec.Code != http.StatusForbidden {
		t.Fatalf("wrong setup code: %d", rec.Code)
	}
	if env.Box.Claimed() != "" {
		t.Fatal("claimed with a wrong code")
	}
	form.Set("code", strings.ToLower(env.Box.SetupCode()))
	rec := b.post("/setup", "/setup", form)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("claim: %d\n%s", rec.Code, rec.Body)
	}
	if env.Box.Claimed() != "ada" {
		t.Fatalf("claimed by %q", env.Box.Claimed())
	}
	if pw, ok := env.Accounts.Password("ada"); !ok || pw != adminPassword {
		t.Fatal("the first admin has no chat account")
	}
	kit := b.get("/setup/kit").Body.String()
	if !strings.Contains(kit, env.Box.RecoveryCode()) {
		t.Fatal("emergency kit lacks the recovery code")
	}
	txt := b.get("/setup/kit.txt")
	if !strings.Contains(txt.Body.String(), env.Box.RecoveryCode()) || !strings.Contains(txt.Header().Get("Content-Disposition"), "attachment") {
		t.Fatal("kit download lacks the code")
	}
	// Not ticking the box is refused; ticking it confirms.
	if rec := b.post("/setup/kit", "/setup/kit", url.Values{}); rec.Code != 400 {
		t.Fatalf("unticked confirm: %d", rec.Code)
	}
	if rec := b.post("/setup/kit", "/setup/kit", url.Values{"saved": {"yes"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", rec.Code)
	}
	if strings.Contains(b.get("/setup/kit").Body.String(), env.Box.RecoveryCode()) {
		t.Fatal("the recovery code is still shown after confirmation")
	}
	// The setup code is spent: a second claim goes nowhere.
	other := newBrowser(t, env)
	rec = other.get("/setup")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("setup after claim: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	acts := env.Box.Actions()
	for _, a := range []string{"box-claimed", "emergency-kit-downloaded", "recovery-code-confirmed"} {
		if !contains(acts, a) {
			t.Errorf("audit lacks %s: %v", a, acts)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	env := newEnv(t, nil)
	rec := newBrowser(t, env).get("/setup")
	h := rec.Header()
	want := map[string]string{
		"Strict-Transport-Security": "max-age=",
		"Content-Security-Policy":   "default-src 'self'",
		"X-Frame-Options":           "DENY",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "same-origin",
	}
	for k, v := range want {
		if !strings.Contains(h.Get(k), v) {
			t.Errorf("%s = %q, want it to contain %q", k, h.Get(k), v)
		}
	}
	if strings.Contains(h.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("CSP allows inline script or style")
	}
	body := rec.Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || strings.Contains(body, "http://") {
		t.Error("page has inline script, inline style or a plain-http reference")
	}
	for _, c := range rec.Result().Cookies() {
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s: secure=%v httponly=%v samesite=%v", c.Name, c.Secure, c.HttpOnly, c.SameSite)
		}
	}
}
