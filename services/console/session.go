package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Cookie names carry the __Host- prefix: the browser then insists on
// Secure, Path=/ and no Domain, so no other host can plant them.
const (
	sessionCookie = "__Host-box-session"
	preCookie     = "__Host-box-pre" // anonymous CSRF binding before sign-in
)

// Sessions end after idleTimeout without a request and maxAge after sign-in.
const (
	idleTimeout = time.Hour
	maxAge      = 12 * time.Hour
)

type session struct {
	idHash string
	user   Person
	mfaOK  bool
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("console: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// startSession always makes a new id (never reuses one the browser sent:
// that would let a planted cookie ride along into the signed-in session)
// and deletes the session the request came with.
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, username string, mfaOK bool) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, hashToken(c.Value))
	}
	// Sweep sessions that ended by time, so the table does not grow.
	s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE last_seen < ? OR created_at < ?`,
		s.now().Add(-idleTimeout).UnixNano(), s.now().Add(-maxAge).UnixNano())
	id, err := randomToken()
	if err != nil {
		return err
	}
	now := s.now().UnixNano()
	_, err = s.db.ExecContext(ctx, `INSERT INTO console_sessions(id_hash, username, mfa_ok, created_at, last_seen, origin) VALUES(?, ?, ?, ?, ?, ?)`,
		hashToken(id), username, mfaOK, now, now, clientIP(r))
	if err != nil {
		return fmt.Errorf("console: start session: %w", err)
	}
	setCookie(w, sessionCookie, id, int(maxAge/time.Second))
	return nil
}

// session returns the request's session, or nil. Expired sessions and
// sessions of disabled people are deleted on sight.
func (s *Service) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	ctx := r.Context()
	h := hashToken(c.Value)
	var username string
	var mfaOK bool
	var created, seen int64
	err = s.db.QueryRowContext(ctx, `SELECT username, mfa_ok, created_at, last_seen FROM console_sessions WHERE id_hash = ?`, h).
		Scan(&username, &mfaOK, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console: session: %w", err)
	}
	now := s.now()
	p, err := s.person(ctx, username)
	if now.Sub(time.Unix(0, seen)) > idleTimeout || now.Sub(time.Unix(0, created)) > maxAge || err != nil || p.Disabled || p.Role == RoleLimited {
		s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, h)
		return nil, nil
	}
	// Touch at most once a minute: a page view should not always write.
	if now.Sub(time.Unix(0, seen)) > time.Minute {
		s.db.ExecContext(ctx, `UPDATE console_sessions SET last_seen = ? WHERE id_hash = ?`, now.UnixNano(), h)
	}
	return &session{idHash: h, user: p, mfaOK: mfaOK}, nil
}

func (s *Service) endSession(ctx context.Context, w http.ResponseWriter, sess *session) {
	if sess != nil {
		s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, sess.idHash)
	}
	setCookie(w, sessionCookie, "", -1)
}

// endAllSessions signs username out everywhere.
func (s *Service) endAllSessions(ctx context.Context, username string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE username = ?`, username); err != nil {
		return fmt.Errorf("console: end sessions: %w", err)
	}
	return nil
}

func (s *Service) sessionCount(ctx context.Context, username string) int {
	var n int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM console_sessions WHERE username = ?`, username).Scan(&n)
	return n
}

// CSRF: each form carries a token that is an HMAC of the session id (or,
// before sign-in, of a random pre-session cookie) under a key kept in the
// store. Together with SameSite=Strict cookies this defeats cross-site
// form posts; a POST without a valid token is 403.
func (s *Service) csrfFor(binding string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfToken returns the token for this request's forms, setting the
// pre-session cookie when there is no session yet.
func (s *Service) csrfToken(w http.ResponseWriter, r *http.Request, sess *session) string {
	if sess != nil {
		return s.csrfFor("s:" + sess.idHash)
	}
	if c, err := r.Cookie(preCookie); err == nil && len(c.Value) >= 32 {
		return s.csrfFor("a:" + c.Value)
	}
	v, err := randomToken()
	if err != nil {
		return ""
	}
	setCookie(w, preCookie, v, 0)
	// Later reads in this request (the same page) see the new value.
	r.AddCookie(&http.Cookie{Name: preCookie, Value: v})
	return s.csrfFor("a:" + v)
}

// csrfOK checks the form's token against the session, or the pre-session
// cookie when there is no session.
func (s *Service) csrfOK(r *http.Request, sess *session) bool {
	got := r.PostFormValue("csrf")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	if got == "" {
		return false
	}
	var want string
	if sess != nil {
		want = s.csrfFor("s:" + sess.idHash)
	} else if c, err := r.Cookie(preCookie); err == nil && len(c.Value) >= 32 {
		want = s.csrfFor("a:" + c.Value)
	} else {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
