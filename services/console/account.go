package console

import (
	"net/http"
)

type accountPage struct {
	Me          Person
	Sessions    int
	TOTPPending string // secret being enrolled, shown for manual entry
}

func (s *Service) accountPage(w http.ResponseWriter, r *http.Request, c *call, status int, msg, flash string) {
	ctx := r.Context()
	p, err := s.person(ctx, c.who())
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	d := accountPage{Me: p, Sessions: s.sessionCount(ctx, p.Username), TOTPPending: p.totpPending}
	s.render(w, r, c, status, "account", pageData{Title: "Your account", Nav: "account", Error: msg, Flash: flash, Data: d})
}

func (s *Service) getAccount(w http.ResponseWriter, r *http.Request, c *call) {
	s.accountPage(w, r, c, 200, "", "")
}

func (s *Service) postAccountPassword(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	if !s.checkPasswordHash(ctx, c.sess.user.pwHash, r.PostFormValue("current")) {
		s.throttle.fail(ctx, "user:"+c.who())
		s.accountPage(w, r, c, 403, "Your current password is not right.", "")
		return
	}
	pw := r.PostFormValue("password")
	if err := checkPassword(pw); err != nil {
		s.accountPage(w, r, c, 400, "New password: "+err.Error()+".", "")
		return
	}
	if pw != r.PostFormValue("password2") {
		s.accountPage(w, r, c, 400, "The two new passwords differ.", "")
		return
	}
	if err := s.setPassword(ctx, c.who(), pw); err != nil {
		s.accountPage(w, r, c, 500, err.Error(), "")
		return
	}
	s.audit(ctx, c, "password-changed", "")
	// setPassword ended every session, this one included: start afresh.
	if err := s.startSession(ctx, w, r, c.who(), true); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	seeOther(w, r, "/account", "password")
}

func (s *Service) postTOTPStart(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	secret, err := newTOTPSecret()
	if err == nil {
		err = s.exec(ctx, "totp", `UPDATE console_users SET totp_pending = ? WHERE username = ?`, secret, c.who())
	}
	if err != nil {
		s.accountPage(w, r, c, 500, err.Error(), "")
		return
	}
	http.Redirect(w, r, "/account", http.StatusSeeOther)
}

func (s *Service) getTOTPQR(w http.ResponseWriter, r *http.Request, c *call) {
	p, err := s.person(r.Context(), c.who())
	if err != nil || p.totpPending == "" {
		http.NotFound(w, r)
		return
	}
	png, err := qrPNG(otpauthURI("ChatSecure Box", p.Username+"@"+s.opts.Domain, p.totpPending), 256)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(png)
}

func (s *Service) postTOTPConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	p, err := s.person(ctx, c.who())
	if err != nil || p.totpPending == "" {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	step, ok := verifyTOTP(p.totpPending, r.PostFormValue("code"), s.now(), 0)
	if !ok {
		s.accountPage(w, r, c, 400, "That code is not right. Check the phone's clock and try the next code.", "")
		return
	}
	if err := s.exec(ctx, "totp", `UPDATE console_users SET totp_secret = totp_pending, totp_pending = '', totp_last = ? WHERE username = ?`, step, c.who()); err != nil {
		s.accountPage(w, r, c, 500, err.Error(), "")
		return
	}
	s.audit(ctx, c, "totp-enabled", "")
	seeOther(w, r, "/account", "totp-on")
}

func (s *Service) postTOTPDisable(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	if !s.checkPasswordHash(ctx, c.sess.user.pwHash, r.PostFormValue("password")) {
		s.throttle.fail(ctx, "user:"+c.who())
		s.accountPage(w, r, c, 403, "Your password is not right.", "")
		return
	}
	if err := s.exec(ctx, "totp", `UPDATE console_users SET totp_secret = '', totp_pending = '' WHERE username = ?`, c.who()); err != nil {
		s.accountPage(w, r, c, 500, err.Error(), "")
		return
	}
	s.audit(ctx, c, "totp-disabled", "")
	seeOther(w, r, "/account", "totp-off")
}
