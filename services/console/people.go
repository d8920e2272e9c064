package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/chatsecure/box/services/invites"
)

type peoplePage struct {
	People    []Person
	Roles     []string
	Form      struct{ Username, DisplayName, Role string }
	ResetFor  string
	ResetLink string
	Me        string
}

func (s *Service) peoplePage(ctx context.Context) (peoplePage, error) {
	ps, err := s.people(ctx)
	return peoplePage{People: ps, Roles: roles}, err
}

func (s *Service) getPeople(w http.ResponseWriter, r *http.Request, c *call) {
	d, err := s.peoplePage(r.Context())
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	d.Me = c.who()
	d.Form.Role = RoleUser
	s.render(w, r, c, 200, "people", pageData{Title: "People", Nav: "people", Data: d})
}

// baseURL is where links handed out by this page point: the address the
// admin reached the console on, which is how others on the LAN reach it too.
func baseURL(r *http.Request) string {
	return "https://" + r.Host
}

// postPeople adds a person: a chat account with a random password nobody
// knows, and a set-password link the admin passes on.
func (s *Service) postPeople(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	d, _ := s.peoplePage(ctx)
	d.Me = c.who()
	d.Form.Username = strings.TrimSpace(r.PostFormValue("username"))
	d.Form.DisplayName = strings.TrimSpace(r.PostFormValue("display_name"))
	d.Form.Role = r.PostFormValue("role")
	fail := func(msg string) {
		s.render(w, r, c, 400, "people", pageData{Title: "People", Nav: "people", Error: msg, Data: d})
	}
	if err := invites.ValidLocalpart(d.Form.Username); err != nil {
		fail("Username: use 1 to 64 lower-case letters, digits, '.', '_' or '-'.")
		return
	}
	if err := checkDisplayName(d.Form.DisplayName); err != nil {
		fail("Display name: " + err.Error())
		return
	}
	if !validRole(d.Form.Role) {
		fail("Pick a role.")
		return
	}
	if d.Form.DisplayName == "" {
		d.Form.DisplayName = d.Form.Username
	}
	if _, err := s.person(ctx, d.Form.Username); err == nil {
		fail(d.Form.Username + " is already taken.")
		return
	}
	pw, err := randomToken()
	if err != nil {
		fail(err.Error())
		return
	}
	if err := s.accounts.Create(ctx, d.Form.Username, pw); err != nil {
		fail("The chat account could not be made: " + err.Error())
		return
	}
	if err := s.insertPerson(ctx, d.Form.Username, d.Form.DisplayName, d.Form.Role, ""); err != nil {
		s.accounts.Delete(ctx, d.Form.Username)
		fail(err.Error())
		return
	}
	s.audit(ctx, c, "person-added", fmt.Sprintf("%s (%s)", d.Form.Username, d.Form.Role))
	link, err := s.newResetLink(ctx, d.Form.Username)
	if err != nil {
		fail(err.Error())
		return
	}
	d, _ = s.peoplePage(ctx)
	d.Me = c.who()
	d.Form.Role = RoleUser
	d.ResetFor, d.ResetLink = r.PostFormValue("username"), baseURL(r)+link
	s.render(w, r, c, 200, "people", pageData{Title: "People", Nav: "people", Flash: flashes["added"], Data: d})
}

func (s *Service) newResetLink(ctx context.Context, username string) (string, error) {
	s.db.ExecContext(ctx, `DELETE FROM console_resets WHERE expires_at < ?`, s.now().UnixNano())
	tok, err := randomToken()
	if err != nil {
		return "", err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO console_resets(token_hash, username, expires_at) VALUES(?, ?, ?)`,
		hashToken(tok), username, s.now().Add(resetTTL).UnixNano())
	if err != nil {
		return "", fmt.Errorf("console: reset link: %w", err)
	}
	return "/reset/" + url.PathEscape(tok), nil
}

// personAction loads the person named in the path and refuses to act on
// the signed-in admin's own account where that would lock them out.
func (s *Service) personAction(w http.ResponseWriter, r *http.Request, c *call, selfOK bool) (Person, bool) {
	p, err := s.person(r.Context(), r.PathValue("user"))
	if errors.Is(err, errNoPerson) {
		http.Error(w, "no such person", http.StatusNotFound)
		return p, false
	}
	if err != nil {
		http.Error(w, err.Error(), 500)
		return p, false
	}
	if !selfOK && p.Username == c.who() {
		http.Error(w, "you cannot do that to your own account here", http.StatusBadRequest)
		return p, false
	}
	return p, true
}

func (s *Service) lastAdmin(ctx context.Context, p Person) bool {
	if p.Role != RoleAdmin || p.Disabled {
		return false
	}
	n, err := s.adminCount(ctx)
	return err != nil || n <= 1
}

func (s *Service) postPersonRole(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	p, ok := s.personAction(w, r, c, false)
	if !ok {
		return
	}
	role := r.PostFormValue("role")
	if !validRole(role) {
		http.Error(w, "no such role", 400)
		return
	}
	if role != RoleAdmin && s.lastAdmin(ctx, p) {
		http.Error(w, "the box needs at least one admin", 400)
		return
	}
	if err := s.exec(ctx, "role", `UPDATE console_users SET role = ? WHERE username = ?`, role, p.Username); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	if role == RoleLimited {
		s.endAllSessions(ctx, p.Username)
	}
	s.audit(ctx, c, "person-role", fmt.Sprintf("%s: %s -> %s", p.Username, p.Role, role))
	seeOther(w, r, "/people", "updated")
}

func (s *Service) setDisabled(w http.ResponseWriter, r *http.Request, c *call, disabled bool) {
	ctx := r.Context()
	p, ok := s.personAction(w, r, c, false)
	if !ok {
		return
	}
	if disabled && s.lastAdmin(ctx, p) {
		http.Error(w, "the box needs at least one admin", 400)
		return
	}
	if err := s.accounts.SetDisabled(ctx, p.Username, disabled); err != nil {
		http.Error(w, "chat account: "+err.Error(), 500)
		return
	}
	if err := s.exec(ctx, "disable", `UPDATE console_users SET disabled = ? WHERE username = ?`, disabled, p.Username); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	action := "person-enabled"
	if disabled {
		action = "person-disabled"
		s.endAllSessions(ctx, p.Username)
	}
	s.audit(ctx, c, action, p.Username)
	seeOther(w, r, "/people", "updated")
}

func (s *Service) postPersonDisable(w http.ResponseWriter, r *http.Request, c *call) {
	s.setDisabled(w, r, c, true)
}

func (s *Service) postPersonEnable(w http.ResponseWriter, r *http.Request, c *call) {
	s.setDisabled(w, r, c, false)
}

func (s *Service) postPersonDelete(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	p, ok := s.personAction(w, r, c, false)
	if !ok {
		return
	}
	if s.lastAdmin(ctx, p) {
		http.Error(w, "the box needs at least one admin", 400)
		return
	}
	if err := s.accounts.Delete(ctx, p.Username); err != nil {
		http.Error(w, "chat account: "+err.Error(), 500)
		return
	}
	if err := s.exec(ctx, "delete", `DELETE FROM console_users WHERE username = ?`, p.Username); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	s.audit(ctx, c, "person-deleted", p.Username)
	seeOther(w, r, "/people", "deleted")
}

func (s *Service) postPersonReset(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	p, ok := s.personAction(w, r, c, true)
	if !ok {
		return
	}
	link, err := s.newResetLink(ctx, p.Username)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	s.audit(ctx, c, "person-reset-link", p.Username)
	d, _ := s.peoplePage(ctx)
	d.Me = c.who()
	d.Form.Role = RoleUser
	d.ResetFor, d.ResetLink = p.Username, baseURL(r)+link
	s.render(w, r, c, 200, "people", pageData{Title: "People", Nav: "people",
		Flash: "Set-password link made for " + p.Username + "; it works once, for " + resetTTL.String() + ".", Data: d})
}

// inviteAccounts is how an invite makes an account: the chat account, and
// the person in the console's list (role user) with the same password.
type inviteAccounts struct{ s *Service }

func (a inviteAccounts) Create(ctx context.Context, localpart, password string) error {
	s := a.s
	if err := checkPassword(password); err != nil {
		return err
	}
	if _, err := s.person(ctx, localpart); err == nil {
		return fmt.Errorf("%s is already taken", localpart)
	}
	h, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	if err := s.accounts.Create(ctx, localpart, password); err != nil {
		return err
	}
	if err := s.insertPerson(ctx, localpart, localpart, RoleUser, h); err != nil {
		s.accounts.Delete(ctx, localpart)
		return err
	}
	return nil
}
