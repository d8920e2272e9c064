package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/chatsecure/box/services/invites"
)

type inviteRow struct {
	invites.Invite
	Link   string
	URI    template.URL
	Status string
	Active bool
	Used   []string
}

type invitesPage struct {
	Invites []inviteRow
	Expiry  []expiryChoice
}

type expiryChoice struct {
	Value, Label string
}

var expiries = []expiryChoice{{"1h", "1 hour"}, {"24h", "1 day"}, {"168h", "1 week"}, {"720h", "30 days"}}

func (s *Service) inviteLink(r *http.Request, token string) string {
	return baseURL(r) + "/invite/" + url.PathEscape(token)
}

func statusText(err error) string {
	switch {
	case err == nil:
		return "active"
	case errors.Is(err, invites.ErrExpired):
		return "expired"
	case errors.Is(err, invites.ErrRevoked):
		return "revoked"
	case errors.Is(err, invites.ErrUsedUp):
		return "used"
	}
	return "unknown"
}

func (s *Service) invitesPage(ctx context.Context, r *http.Request) (invitesPage, error) {
	list, err := s.invites.List(ctx)
	if err != nil {
		return invitesPage{}, err
	}
	now := s.now()
	d := invitesPage{Expiry: expiries}
	for _, i := range list {
		st := i.Status(now)
		row := inviteRow{Invite: i, Link: s.inviteLink(r, i.Token), URI: template.URL(invites.URI(s.opts.Domain, i)), Status: statusText(st), Active: st == nil}
		rs, _ := s.invites.Redemptions(ctx, i.Token)
		for _, x := range rs {
			row.Used = append(row.Used, x.Localpart)
		}
		d.Invites = append(d.Invites, row)
	}
	return d, nil
}

func (s *Service) getInvites(w http.ResponseWriter, r *http.Request, c *call) {
	d, err := s.invitesPage(r.Context(), r)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	s.render(w, r, c, 200, "invites", pageData{Title: "Invites", Nav: "invites", Data: d})
}

func (s *Service) postInvites(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	ttl, err := time.ParseDuration(r.PostFormValue("expiry"))
	uses := 1
	if r.PostFormValue("kind") == "group" {
		uses, err = strconv.Atoi(strings.TrimSpace(r.PostFormValue("uses")))
		if err != nil {
			uses = 0
		}
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	var inv invites.Invite
	if err == nil {
		inv, err = s.invites.Create(ctx, c.who(), note, ttl, uses)
	}
	if err != nil {
		d, _ := s.invitesPage(ctx, r)
		msg := strings.TrimPrefix(err.Error(), "invites: ")
		s.render(w, r, c, 400, "invites", pageData{Title: "Invites", Nav: "invites", Error: "The invite was not made: " + msg + ".", Data: d})
		return
	}
	s.audit(ctx, c, "invite-created", fmt.Sprintf("%s, %d use(s), expires %s, note %q", inv.Token[:6]+"…", inv.MaxUses, inv.ExpiresAt.UTC().Format(time.RFC3339), note))
	seeOther(w, r, "/invites", "invited")
}

func (s *Service) postInviteRevoke(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	tok := r.PathValue("token")
	if err := s.invites.Revoke(ctx, tok); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	s.audit(ctx, c, "invite-revoked", tok[:min(6, len(tok))]+"…")
	seeOther(w, r, "/invites", "revoked")
}

// The public invite page. It answers the same "not valid" for unknown,
// expired, revoked and used-up tokens' QR codes, but tells a person
// holding a real link why it stopped working.
type invitePage struct {
	Token       string
	Link        string
	URI         template.URL // built by invites.URI from checked parts
	Inviter     string       // display name
	InviterJID  string
	Group       bool
	Localpart   string
	Registered  string // the new JID after web registration
	Contacts    bool   // inviter was added to the new user's roster
	Unavailable string
}

func (s *Service) invitePage(r *http.Request) (invitePage, invites.Invite, error) {
	ctx := r.Context()
	tok := r.PathValue("token")
	inv, err := s.invites.Check(ctx, tok)
	d := invitePage{Token: tok, Link: s.inviteLink(r, tok)}
	if err != nil {
		return d, inv, err
	}
	d.URI = template.URL(invites.URI(s.opts.Domain, inv))
	d.Group = inv.Group()
	if inv.CreatedBy != "" {
		d.InviterJID = inv.CreatedBy + "@" + s.opts.Domain
		d.Inviter = inv.CreatedBy
		if p, err := s.person(ctx, inv.CreatedBy); err == nil {
			d.Inviter = p.DisplayName
		}
	}
	return d, inv, nil
}

func inviteError(err error) string {
	switch {
	case errors.Is(err, invites.ErrExpired):
		return "This invite has expired. Ask for a new one."
	case errors.Is(err, invites.ErrRevoked):
		return "This invite was withdrawn. Ask for a new one."
	case errors.Is(err, invites.ErrUsedUp):
		return "This invite has already been used. Ask for a new one."
	}
	return "This invite link is not valid. Check that you copied all of it."
}

func (s *Service) getInvitePage(w http.ResponseWriter, r *http.Request, c *call) {
	d, _, err := s.invitePage(r)
	if err != nil {
		d.Unavailable = inviteError(err)
		s.render(w, r, c, http.StatusNotFound, "invite", pageData{Title: "Invitation", Data: d})
		return
	}
	s.render(w, r, c, 200, "invite", pageData{Title: "You are invited", Data: d})
}

// getInviteQR is the QR code of the invite's https link: scanned by a phone
// camera it opens this page, which hands over to the chat app.
func (s *Service) getInviteQR(w http.ResponseWriter, r *http.Request, c *call) {
	tok := r.PathValue("token")
	if _, err := s.invites.Get(r.Context(), tok); err != nil {
		http.NotFound(w, r)
		return
	}
	png, err := qrPNG(s.inviteLink(r, tok), 320)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(png)
}

// postInviteRegister is the web registration fallback for people whose
// app cannot use the xmpp: link.
func (s *Service) postInviteRegister(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	d, _, err := s.invitePage(r)
	if err != nil {
		d.Unavailable = inviteError(err)
		s.render(w, r, c, http.StatusGone, "invite", pageData{Title: "Invitation", Data: d})
		return
	}
	d.Localpart = strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	fail := func(status int, msg string) {
		s.render(w, r, c, status, "invite", pageData{Title: "You are invited", Error: msg, Data: d})
	}
	ipKey := "ip:" + c.origin
	if wait, err := s.throttle.wait(ctx, ipKey); err != nil || wait > 0 {
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many attempts. Try again in %s.", roundUp(wait)))
		return
	}
	pw := r.PostFormValue("password")
	if err := invites.ValidLocalpart(d.Localpart); err != nil {
		fail(400, "Username: use 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.")
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
	inv, err := s.invites.Redeem(ctx, r.PathValue("token"), d.Localpart, pw)
	if err != nil && inv.Token == "" {
		if errors.Is(err, invites.ErrExpired) || errors.Is(err, invites.ErrRevoked) || errors.Is(err, invites.ErrUsedUp) || errors.Is(err, invites.ErrNotFound) {
			s.throttle.fail(ctx, ipKey)
			fail(http.StatusGone, inviteError(err))
			return
		}
		fail(400, "The account was not made: "+strings.TrimPrefix(err.Error(), "invites: redeem: ")+".")
		return
	}
	if err != nil {
		s.log.Warn("console: invite roster", "err", err)
	}
	d.Contacts = err == nil && s.opts.Rosters != nil && inv.CreatedBy != ""
	s.metrics.redeemed.Inc()
	s.box.Audit(ctx, d.Localpart, c.origin, "invite-redeemed", fmt.Sprintf("invited by %s", inv.CreatedBy))
	d.Registered = d.Localpart + "@" + s.opts.Domain
	s.render(w, r, c, 200, "invite", pageData{Title: "Welcome", Data: d})
}
