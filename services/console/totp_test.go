package console_test

import (
	"encoding/base32"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/services/console"
)

// RFC 6238 appendix B, SHA-1 rows, cut to the 6 digits apps use.
func TestTOTPVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
	for _, v := range []struct {
		unix int64
		code string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		if got := console.Hotp(key, uint64(v.unix/30)); got != v.code {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.code)
		}
		at := time.Unix(v.unix, 0)
		if _, ok := console.VerifyTOTP(secret, v.code, at, 0); !ok {
			t.Errorf("T=%d: verify refused the right code", v.unix)
		}
		if _, ok := console.VerifyTOTP(secret, v.code, at.Add(90*time.Second), 0); ok {
			t.Errorf("T=%d: accepted a code three steps old", v.unix)
		}
		step, _ := console.VerifyTOTP(secret, v.code, at, 0)
		if _, ok := console.VerifyTOTP(secret, v.code, at, step); ok {
			t.Errorf("T=%d: accepted a replay of the same step", v.unix)
		}
	}
}

func FuzzParseTOTPCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", " 000000 ", "12345", "1234567", "12a456", "١٢٣٤٥٦"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := console.ParseTOTPCode(s)
		if err != nil {
			return
		}
		if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("%q parsed to %q", s, c)
		}
	})
}

func TestTOTPEnrolAndSignIn(t *testing.T) {
	clk := newClock()
	env, a := claimed(t, clk)
	a.post("/account", "/account/totp/start", nil)
	page := a.get("/account").Body.String()
	m := regexp.MustCompile(`<code class="break">([A-Z2-7]+)</code>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no secret shown for enrolment")
	}
	if rec := a.get("/account/totp/qr.png"); rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("totp qr: %d", rec.Code)
	}
	key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(m[1])
	code := func() string { return console.Hotp(key, uint64(clk.now().Unix()/30)) }
	if rec := a.post("/account", "/account/totp/confirm", url.Values{"code": {"000000"}}); rec.Code != 400 && code() != "000000" {
		t.Fatalf("wrong enrolment code: %d", rec.Code)
	}
	if rec := a.post("/account", "/account/totp/confirm", url.Values{"code": {code()}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("enrol: %d", rec.Code)
	}
	if !contains(env.Box.Actions(), "totp-enabled") {
		t.Fatal("enrolment not audited")
	}
	clk.add(30 * time.Second)
	b := newBrowser(t, env)
	if rec := b.post("/login", "/login", url.Values{"username": {"ada"}, "password": {adminPassword}}); rec.Header().Get("Location") != "/login/totp" {
		t.Fatalf("password step: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	half := b.cookies["__Host-box-session"]
	if rec := b.get("/people"); rec.Code != http.StatusSeeOther {
		t.Fatal("half-signed-in session reached an admin page")
	}
	if rec := b.post("/login/totp", "/login/totp", url.Values{"code": {"12345x"}}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("bad code: %d", rec.Code)
	}
	if rec := b.post("/login/totp", "/login/totp", url.Values{"code": {code()}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("code step: %d", rec.Code)
	}
	if b.cookies["__Host-box-session"] == half {
		t.Fatal("session id kept across the second factor")
	}
	if rec := b.get("/people"); rec.Code != 200 {
		t.Fatalf("after two steps: %d", rec.Code)
	}
	// The same code again (same step) is a replay.
	c := newBrowser(t, env)
	c.post("/login", "/login", url.Values{"username": {"ada"}, "password": {adminPassword}})
	if rec := c.post("/login/totp", "/login/totp", url.Values{"code": {code()}}); rec.Code != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d", rec.Code)
	}
}
