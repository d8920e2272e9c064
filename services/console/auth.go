package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chatsecure/box/services/invites"
)

// audit records an admin action; a failure to record is logged loudly but
// does not undo the action (it already happened).
func (s *Service) audit(ctx context.Context, c *call, action, detail string) {
	if err := s.box.Audit(ctx, c.who(), c.origin, action, detail); err != nil {
		s.log.Error("console: audit", "action", action, "err", err)
	}
}

// hashPassword runs argon2id under the concurrency bound.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.hashing }()
	return s.argon.hash(pw)
}

func (s *Service) checkPasswordHash(ctx context.Context, phc, pw string) bool {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	defer func() { <-s.hashing }()
	ok, err := verifyPassword(phc, pw)
	if err != nil {
		s.log.Warn("console: password hash", "err", err)
	}
	return ok
}

// dummyHash keeps a sign-in for an unknown name as slow as one for a known
// name, so timing does not tell which names exist.
func (s *Service) dummyVerify(ctx context.Context, pw string) {
	h, err := s.hashPassword(ctx, "not-a-password-anyone-has")
	if err == nil {
		s.checkPasswordHash(ctx, h, pw)
	}
}

type setupForm struct {
	Code, Username, DisplayName string
}

func (s *Service) getSetup(w http.ResponseWriter, r *http.Request, c *call) {
	if s.box.Status(r.Context()).Claimed {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, c, 200, "setup", pageData{Title: "Set up your box", Data: struct {
		Form        setupForm
		Fingerprint string
	}{Fingerprint: s.box.Status(r.Context()).CertFingerprint}})
}

func (s *Service) postSetup(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	st := s.box.Status(ctx)
	if st.Claimed {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	f := setupForm{
		Code:        strings.ToUpper(strings.TrimSpace(r.PostFormValue("code"))),
		Username:    strings.TrimSpace(r.PostFormValue("username")),
		DisplayName: strings.TrimSpace(r.PostFormValue("display_name")),
	}
	fail := func(status int, msg string) {
		f.Code = ""
		s.render(w, r, c, status, "setup", pageData{Title: "Set up your box", Error: msg, Data: struct {
			Form        setupForm
			Fingerprint string
		}{f, st.CertFingerprint}})
	}
	// The setup code is 80 bits, but guessing is still throttled per address.
	ipKey := "ip:" + c.origin
	if wait, err := s.throttle.wait(ctx, ipKey); err != nil || wait > 0 {
		s.metrics.logins.WithLabelValues("throttled").Inc()
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many attempts. Try again in %s.", roundUp(wait)))
		return
	}
	pw := r.PostFormValue("password")
	if err := invites.ValidLocalpart(f.Username); err != nil {
		fail(400, "Username: use 1 to 64 lower-case letters, digits, '.', '_' or '-'.")
		return
	}
	if err := checkDisplayName(f.DisplayName); err != nil {
		fail(400, "Display name: "+err.Error())
		return
	}
	if err := checkPassword(pw); err != nil {
		fail(400, "Password: "+err.Error()+".")
		return
	}
	if pw != r.PostFormValue("password2") {
		fail(400, "The two passwords differ.")
		return
	}
	hash, err := s.hashPassword(ctx, pw)
	if err != nil {
		fail(500, "Could not store the password.")
		return
	}
	if err := s.box.Claim(ctx, f.Code, f.Username, c.origin); err != nil {
		if errors.Is(err, ErrBadSetupCode) {
			s.throttle.fail(ctx, ipKey)
			fail(http.StatusForbidden, "That setup code is not right. It is on the label of the box and shown by boxctl status.")
			return
		}
		s.log.Error("console: claim", "err", err)
		fail(500, "The box could not be claimed: "+err.Error())
		return
	}
	if f.DisplayName == "" {
		f.DisplayName = f.Username
	}
	if err := s.insertPerson(ctx, f.Username, f.DisplayName, RoleAdmin, hash); err != nil {
		fail(500, err.Error())
		return
	}
	if err := s.accounts.Create(ctx, f.Username, pw); err != nil {
		s.log.Error("console: chat account for the first admin", "err", err)
	}
	c.sess = &session{user: Person{Username: f.Username}}
	s.audit(ctx, c, "box-claimed", "first admin "+f.Username)
	if err := s.startSession(ctx, w, r, f.Username, true); err != nil {
		fail(500, err.Error())
		return
	}
	http.Redirect(w, r, "/setup/kit", http.StatusSeeOther)
}

func roundUp(d time.Duration) string {
	if d < time.Second {
		d = time.Second
	}
	return d.Round(time.Second).String()
}

func (s *Service) getLogin(w http.ResponseWriter, r *http.Request, c *call) {
	if c.sess != nil && c.sess.mfaOK {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, c, 200, "login", pageData{Title: "Sign in"})
}

// postLogin checks the throttle for both the name and the address before
// looking at the password, so a locked account costs an attacker nothing
// to ask about but teaches nothing either.
func (s *Service) postLogin(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	username := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	if len(username) > 64 {
		username = username[:64] // no name is longer; keeps throttle keys small
	}
	pw := r.PostFormValue("password")
	fail := func(status int, msg string) {
		s.render(w, r, c, status, "login", pageData{Title: "Sign in", Error: msg, Data: username})
	}
	userKey, ipKey := "user:"+username, "ip:"+c.origin
	var wait time.Duration
	for _, k := range []string{userKey, ipKey} {
		d, err := s.throttle.wait(ctx, k)
		if err != nil {
			fail(500, "Sign-in is unavailable.")
			return
		}
		wait = max(wait, d)
	}
	if wait > 0 {
		s.metrics.logins.WithLabelValues("throttled").Inc()
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed attempts. Try again in %s.", roundUp(wait)))
		return
	}
	p, err := s.person(ctx, username)
	ok := false
	if err == nil && p.HasPassword {
		ok = s.checkPasswordHash(ctx, p.pwHash, pw)
	} else {
		s.dummyVerify(ctx, pw)
	}
	if !ok || p.Disabled || p.Role == RoleLimited {
		n, _ := s.throttle.fail(ctx, userKey)
		s.throttle.fail(ctx, ipKey)
		s.metrics.logins.WithLabelValues("failed").Inc()
		if n >= lockoutFailures {
			s.box.Audit(ctx, username, c.origin, "login-locked", fmt.Sprintf("%d failed attempts", n))
		}
		fail(http.StatusUnauthorized, "Wrong username or password, or this account may not use the console.")
		return
	}
	s.throttle.clear(ctx, userKey)
	if err := s.startSession(ctx, w, r, p.Username, !p.TOTP); err != nil {
		fail(500, "Sign-in is unavailable.")
		return
	}
	if p.TOTP {
		http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	c.sess = &session{user: p}
	s.audit(ctx, c, "login", "")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Service) getLoginTOTP(w http.ResponseWriter, r *http.Request, c *call) {
	if c.sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, c, 200, "totp", pageData{Title: "Two-step sign-in"})
}

// postLoginTOTP finishes a two-step sign-in; the half-signed-in session is
// replaced by a new one, so its id never carries full rights.
func (s *Service) postLoginTOTP(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	if c.sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	p := c.sess.user
	userKey := "user:" + p.Username
	if wait, err := s.throttle.wait(ctx, userKey); err != nil || wait > 0 {
		s.render(w, r, c, http.StatusTooManyRequests, "totp", pageData{Title: "Two-step sign-in", Error: fmt.Sprintf("Too many attempts. Try again in %s.", roundUp(wait))})
		return
	}
	step, ok := verifyTOTP(p.totpSecret, r.PostFormValue("code"), s.now(), p.totpLast)
	if !ok {
		s.throttle.fail(ctx, userKey)
		s.metrics.logins.WithLabelValues("failed").Inc()
		s.render(w, r, c, http.StatusUnauthorized, "totp", pageData{Title: "Two-step sign-in", Error: "That code is not right (or was already used). Wait for the next one."})
		return
	}
	s.db.ExecContext(ctx, `UPDATE console_users SET totp_last = ? WHERE username = ?`, step, p.Username)
	s.throttle.clear(ctx, userKey)
	if err := s.startSession(ctx, w, r, p.Username, true); err != nil {
		http.Error(w, "sign-in is unavailable", 500)
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.audit(ctx, c, "login", "with second factor")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Service) postLogout(w http.ResponseWriter, r *http.Request, c *call) {
	s.audit(r.Context(), c, "logout", "")
	s.endSession(r.Context(), w, c.sess)
	seeOther(w, r, "/login", "signedout")
}

func (s *Service) postLogoutEverywhere(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	if err := s.endAllSessions(ctx, c.who()); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	s.audit(ctx, c, "logout-everywhere", "")
	setCookie(w, sessionCookie, "", -1)
	seeOther(w, r, "/login", "signedout")
}

// Password reset links: made by an admin for one person, valid a day, used once.
const resetTTL = 24 * time.Hour

func (s *Service) resetPerson(ctx context.Context, token string) (Person, error) {
	var username string
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT username, expires_at FROM console_resets WHERE token_hash = ?`, hashToken(token)).Scan(&username, &exp)
	if err != nil || !s.now().Before(time.Unix(0, exp)) {
		return Person{}, errors.New("this link is not valid (it may have been used or expired); ask an admin for a new one")
	}
	return s.person(ctx, username)
}

func (s *Service) getReset(w http.ResponseWriter, r *http.Request, c *call) {
	p, err := s.resetPerson(r.Context(), r.PathValue("token"))
	if err != nil {
		s.render(w, r, c, 404, "reset", pageData{Title: "Set your password", Error: err.Error()})
		return
	}
	s.render(w, r, c, 200, "reset", pageData{Title: "Set your password", Data: p})
}

func (s *Service) postReset(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	tok := r.PathValue("token")
	p, err := s.resetPerson(ctx, tok)
	if err != nil {
		s.render(w, r, c, 404, "reset", pageData{Title: "Set your password", Error: err.Error()})
		return
	}
	pw := r.PostFormValue("password")
	msg := ""
	if err := checkPassword(pw); err != nil {
		msg = err.Error()
	} else if pw != r.PostFormValue("password2") {
		msg = "The two passwords differ."
	}
	if msg != "" {
		s.render(w, r, c, 400, "reset", pageData{Title: "Set your password", Error: msg, Data: p})
		return
	}
	if err := s.setPassword(ctx, p.Username, pw); err != nil {
		s.render(w, r, c, 500, "reset", pageData{Title: "Set your password", Error: err.Error(), Data: p})
		return
	}
	s.db.ExecContext(ctx, `DELETE FROM console_resets WHERE username = ?`, p.Username)
	s.box.Audit(ctx, p.Username, c.origin, "password-set", "through a reset link")
	s.render(w, r, c, 200, "reset", pageData{Title: "Password set", Flash: "Your password is set. You can now sign in to your chat app as " + p.Username + "@" + s.opts.Domain + ".", Data: nil})
}

// setPassword changes the console password and the chat account's, then
// signs the person out everywhere.
func (s *Service) setPassword(ctx context.Context, username, pw string) error {
	h, err := s.hashPassword(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.accounts.SetPassword(ctx, username, pw); err != nil {
		return fmt.Errorf("console: chat account password: %w", err)
	}
	if err := s.exec(ctx, "set password", `UPDATE console_users SET pw_hash = ? WHERE username = ?`, h, username); err != nil {
		return err
	}
	return s.endAllSessions(ctx, username)
}
