package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/services/console"
)

// concrete turns a route pattern into a path that matches it.
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.ReplaceAll(path, "{$}", "")
	path = regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(path, "x")
	return method, path
}

func TestEveryRouteRefusesUnauthenticated(t *testing.T) {
	env, _ := claimed(t, nil)
	anon := newBrowser(t, env)
	token := anon.csrf("/login") // a valid anonymous token: the refusal must not be only CSRF's
	checked := 0
	for pattern, acc := range env.Console.RouteAccess() {
		if acc == "public" {
			continue
		}
		method, path := concrete(pattern)
		var rec = anon.do(method, path, url.Values{"csrf": {token}})
		switch method {
		case "GET":
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
				t.Errorf("%s: %d %q, want redirect to /login", pattern, rec.Code, rec.Header().Get("Location"))
			}
		default:
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401", pattern, rec.Code)
			}
		}
		checked++
	}
	if checked < 30 {
		t.Fatalf("only %d protected routes checked", checked)
	}
}

func TestAdminRoutesRefuseUsers(t *testing.T) {
	env, admin := claimed(t, nil)
	admin.post("/people", "/people", url.Values{"username": {"bob"}, "role": {"user"}})
	link := regexp.MustCompile(`/reset/[A-Za-z0-9_-]+`).FindString(admin.post("/people", "/people/bob/reset", nil).Body.String())
	if link == "" {
		t.Fatal("no reset link")
	}
	u := newBrowser(t, env)
	u.post(link, link, url.Values{"password": {"bobs password 1"}, "password2": {"bobs password 1"}})
	bob := login(t, env, "bob", "bobs password 1")
	token := bob.csrf("/account")
	for pattern, acc := range env.Console.RouteAccess() {
		if acc != "admin" {
			continue // the self routes include signing out
		}
		method, path := concrete(pattern)
		rec := bob.do(method, path, url.Values{"csrf": {token}})
		switch {
		case acc == "admin" && pattern == "GET /{$}":
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/account" {
				t.Errorf("%s for a user: %d %s", pattern, rec.Code, rec.Header().Get("Location"))
			}
		case acc == "admin" && rec.Code != http.StatusForbidden:
			t.Errorf("%s for a user: %d, want 403", pattern, rec.Code)
		}
	}
	if rec := bob.get("/account"); rec.Code != 200 {
		t.Fatalf("user's own account page: %d", rec.Code)
	}
}

func TestPostWithoutCSRFIs403(t *testing.T) {
	env, admin := claimed(t, nil)
	other := login(t, env, "ada", adminPassword) // another session's token must not work either
	foreign := other.csrf("/account")
	n := 0
	for pattern := range env.Console.RouteAccess() {
		method, path := concrete(pattern)
		if method != "POST" {
			continue
		}
		if rec := admin.do("POST", path, url.Values{}); rec.Code != http.StatusForbidden {
			t.Errorf("%s without a token: %d, want 403", pattern, rec.Code)
		}
		if rec := admin.do("POST", path, url.Values{"csrf": {foreign}}); rec.Code != http.StatusForbidden {
			t.Errorf("%s with another session's token: %d, want 403", pattern, rec.Code)
		}
		n++
	}
	// Before sign-in too: login without the pre-session token.
	anon := newBrowser(t, env)
	if rec := anon.do("POST", "/login", url.Values{"username": {"ada"}, "password": {adminPassword}}); rec.Code != http.StatusForbidden {
		t.Errorf("login without token: %d", rec.Code)
	}
	if n < 20 {
		t.Fatalf("only %d POST routes", n)
	}
	if got := env.Box.Actions(); contains(got, "person-deleted") || contains(got, "factory-reset") || contains(got, "reboot") {
		t.Fatalf("a refused POST still acted: %v", got)
	}
}

func TestSessionIDChangesAtLogin(t *testing.T) {
	env, _ := claimed(t, nil)
	b := newBrowser(t, env)
	b.cookies["__Host-box-session"] = "planted-by-an-attacker"
	b.post("/login", "/login", url.Values{"username": {"ada"}, "password": {adminPassword}})
	first := b.cookies["__Host-box-session"]
	if first == "" || first == "planted-by-an-attacker" {
		t.Fatalf("session cookie after login: %q", first)
	}
	// Signed in, the login form is not shown; post it with the session's token.
	b.post("/account", "/login", url.Values{"username": {"ada"}, "password": {adminPassword}})
	second := b.cookies["__Host-box-session"]
	if second == "" || second == first {
		t.Fatalf("second login kept session id %q", second)
	}
	// The old id no longer works.
	old := newBrowser(t, env)
	old.cookies["__Host-box-session"] = first
	if rec := old.get("/people"); rec.Code != http.StatusSeeOther {
		t.Fatalf("old session id still works: %d", rec.Code)
	}
	if rec := b.get("/people"); rec.Code != 200 {
		t.Fatalf("new session: %d", rec.Code)
	}
}

func TestBruteForceHitsBackoffThenLockout(t *testing.T) {
	clk := newClock()
	env, _ := claimed(t, clk)
	try := func(pw string) int {
		return newBrowser(t, env).post("/login", "/login", url.Values{"username": {"ada"}, "password": {pw}}).Code
	}
	for i := 0; i < 3; i++ {
		if c := try("wrong password!"); c != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, c)
		}
	}
	// Now backed off: even the right password is not looked at.
	if c := try(adminPassword); c != http.StatusTooManyRequests {
		t.Fatalf("right password during backoff: %d, want 429", c)
	}
	clk.add(console.Backoff(3) + time.Millisecond)
	if c := try(adminPassword); c != http.StatusSeeOther {
		t.Fatalf("right password after the backoff: %d", c)
	}
	// Keep failing (waiting out each backoff) until the lockout.
	b2 := newBrowser(t, env)
	b2.ip = "192.0.2.99"
	for i := 1; i <= 10; i++ {
		clk.add(console.Backoff(i-1) + time.Millisecond)
		if c := b2.post("/login", "/login", url.Values{"username": {"ada"}, "password": {"nope nope nope"}}).Code; c != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, c)
		}
	}
	clk.add(10 * time.Minute)
	if c := try(adminPassword); c != http.StatusTooManyRequests {
		t.Fatalf("locked account 10 minutes later: %d", c)
	}
	clk.add(6 * time.Minute)
	if c := try(adminPassword); c != http.StatusSeeOther {
		t.Fatalf("after the lockout: %d", c)
	}
	if !contains(env.Box.Actions(), "login-locked") {
		t.Fatal("lockout not audited")
	}
}

func TestBackoffPerAddressAcrossNames(t *testing.T) {
	clk := newClock()
	env, _ := claimed(t, clk)
	b := newBrowser(t, env)
	for i, name := range []string{"a1", "a2", "a3"} {
		if c := b.post("/login", "/login", url.Values{"username": {name}, "password": {"x"}}).Code; c != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, c)
		}
	}
	if c := b.post("/login", "/login", url.Values{"username": {"a4"}, "password": {"x"}}).Code; c != http.StatusTooManyRequests {
		t.Fatalf("fourth name from one address: %d, want 429", c)
	}
}

func TestBackoffGrows(t *testing.T) {
	prev := time.Duration(0)
	for n := 0; n <= 12; n++ {
		d := console.Backoff(n)
		if d < prev {
			t.Fatalf("backoff(%d)=%v < backoff(%d)=%v", n, d, n-1, prev)
		}
		prev = d
	}
	if console.Backoff(2) != 0 || console.Backoff(3) == 0 || console.Backoff(10) != 15*time.Minute {
		t.Fatalf("backoff: 2=%v 3=%v 10=%v", console.Backoff(2), console.Backoff(3), console.Backoff(10))
	}
}

func TestScriptInDisplayNameIsEscapedEverywhere(t *testing.T) {
	env, admin := claimed(t, nil)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	admin.post("/people", "/people", url.Values{"username": {"mallory"}, "display_name": {evil}, "role": {"admin"}})
	link := regexp.MustCompile(`/reset/[A-Za-z0-9_-]+`).FindString(admin.post("/people", "/people/mallory/reset", nil).Body.String())
	m := newBrowser(t, env)
	m.post(link, link, url.Values{"password": {"mallory pass 1"}, "password2": {"mallory pass 1"}})
	mal := login(t, env, "mallory", "mallory pass 1")
	mal.post("/invites", "/invites", url.Values{"kind": {"single"}, "expiry": {"24h"}, "note": {evil}})
	tok := regexp.MustCompile(`data-token="([a-z0-9]+)"`).FindStringSubmatch(mal.get("/invites").Body.String())
	if tok == nil {
		t.Fatal("no invite")
	}
	pages := map[string]string{
		"people (admin)":     admin.get("/people").Body.String(),
		"dashboard (mal)":    mal.get("/").Body.String(),
		"account (mal)":      mal.get("/account").Body.String(),
		"invites (mal)":      mal.get("/invites").Body.String(),
		"invite page":        newBrowser(t, env).get("/invite/" + tok[1]).Body.String(),
		"audit (admin)":      admin.get("/audit").Body.String(),
		"reset page (admin)": admin.post("/people", "/people/mallory/reset", nil).Body.String(),
	}
	for name, body := range pages {
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: display name not escaped", name)
		}
	}
	for _, name := range []string{"people (admin)", "dashboard (mal)", "invite page", "invites (mal)"} {
		if !strings.Contains(pages[name], "&lt;script&gt;") {
			t.Errorf("%s: escaped name missing (the test would pass for the wrong reason)", name)
		}
	}
}

func TestLogoutAndLogoutEverywhere(t *testing.T) {
	env, a := claimed(t, nil)
	b := login(t, env, "ada", adminPassword)
	if rec := a.post("/account", "/logout", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	if rec := a.get("/people"); rec.Code != http.StatusSeeOther {
		t.Fatal("still signed in after logout")
	}
	if rec := b.get("/people"); rec.Code != 200 {
		t.Fatal("other session ended by a plain logout")
	}
	c := login(t, env, "ada", adminPassword)
	c.post("/account", "/logout/everywhere", nil)
	if rec := b.get("/people"); rec.Code != http.StatusSeeOther {
		t.Fatal("sign out everywhere left a session")
	}
}

func TestDisabledPersonCannotSignIn(t *testing.T) {
	env, admin := claimed(t, nil)
	admin.post("/people", "/people", url.Values{"username": {"bob"}, "role": {"admin"}})
	link := regexp.MustCompile(`/reset/[A-Za-z0-9_-]+`).FindString(admin.post("/people", "/people/bob/reset", nil).Body.String())
	newBrowser(t, env).post(link, link, url.Values{"password": {"bobs password 1"}, "password2": {"bobs password 1"}})
	bob := login(t, env, "bob", "bobs password 1")
	admin.post("/people", "/people/bob/disable", nil)
	if !env.Accounts.Disabled("bob") {
		t.Fatal("chat account not disabled")
	}
	if rec := bob.get("/people"); rec.Code != http.StatusSeeOther {
		t.Fatal("disabled person's session survives")
	}
	rec := newBrowser(t, env).post("/login", "/login", url.Values{"username": {"bob"}, "password": {"bobs password 1"}})
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("disabled login: %d", rec.Code)
	}
	// The reset link was used once and works no more.
	if rec := newBrowser(t, env).get(link); rec.Code != http.StatusNotFound {
		t.Fatalf("reused reset link: %d", rec.Code)
	}
}

func TestLastAdminCannotBeRemoved(t *testing.T) {
	env, admin := claimed(t, nil)
	admin.post("/people", "/people", url.Values{"username": {"bob"}, "role": {"admin"}})
	link := regexp.MustCompile(`/reset/[A-Za-z0-9_-]+`).FindString(admin.post("/people", "/people/bob/reset", nil).Body.String())
	newBrowser(t, env).post(link, link, url.Values{"password": {"bobs password 1"}, "password2": {"bobs password 1"}})
	bob := login(t, env, "bob", "bobs password 1")
	if rec := bob.post("/people", "/people/ada/delete", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete one of two admins: %d", rec.Code)
	}
	if rec := bob.post("/people", "/people/bob/role", url.Values{"role": {"user"}}); rec.Code != http.StatusBadRequest {
		t.Fatalf("demote self: %d", rec.Code)
	}
}
