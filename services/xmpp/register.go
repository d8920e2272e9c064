package xmpp

import (
	"context"
	"errors"
	"strings"

	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/elem"
)

// Namespaces of invite-only in-band registration.
const (
	nsRegister   = "jabber:iq:register"                     // XEP-0077
	nsRegFeature = "http://jabber.org/features/iq-register" // XEP-0077 stream feature
	nsIBRToken   = "urn:xmpp:ibr-token:0"                   // XEP-0445 stream feature
	nsPARS       = "urn:xmpp:pars:0"                        // XEP-0379/0445 <preauth/>
	// nsInviteOld is the feature name from before XEP-0445 had its own
	// namespace; older Conversations releases look for it.
	nsInviteOld = "urn:xmpp:invite"
)

// registrationFeatures are advertised after TLS and before SASL when the
// box takes invites: XEP-0445 says a token is needed, XEP-0077 that
// registration exists at all.
func registrationFeatures(f *elem.Element) {
	f.Add(elem.New(nsInviteOld, "register"))
	f.Add(elem.New(nsIBRToken, "register"))
	f.Add(elem.New(nsRegFeature, "register"))
}

// preauthIQ reports whether el is a stanza registration handles before
// authentication.
func preauthIQ(el *elem.Element) bool {
	if !el.IsStanza() || el.Name.Local != "iq" {
		return false
	}
	p := el.FirstElement()
	return p != nil && (p.Name.Space == nsPARS && p.Name.Local == "preauth" ||
		p.Name.Space == nsRegister && p.Name.Local == "query")
}

// register answers one IQ of invite-only in-band registration on an
// unauthenticated stream: first <preauth/> with the invite's token
// (XEP-0445 §4), then the XEP-0077 form get and the set that creates the
// account through the invite store. Without an accepted token the
// registration is refused with not-allowed. The new user and the inviter
// become contacts with subscription both (XEP-0401 §5.4). Refused
// tokens count like failed logins.
func (c *conn) register(ctx context.Context, el *elem.Element) error {
	inv := c.s.getInvites()
	// No identity yet: whatever "from" the client wrote means nothing,
	// and the server answers for its domain.
	el.SetAttr("from", "")
	if to := el.Get("to"); to != "" && !strings.EqualFold(to, c.s.cfg.Domain) {
		return c.Send(elem.ErrorReply(el, elem.Cancel, "service-unavailable"))
	}
	el.SetAttr("to", c.s.cfg.Domain)
	typ := el.Type()
	if typ != "get" && typ != "set" {
		return nil // results and errors to nobody
	}
	if inv == nil {
		return c.Send(regError(el, elem.Cancel, "not-allowed", "this server has no in-band registration"))
	}
	p := el.FirstElement()
	if p.Name.Space == nsPARS {
		return c.preauth(ctx, inv, el, p)
	}
	if c.preauthToken == "" {
		return c.Send(regError(el, elem.Cancel, "not-allowed", "registration needs an invite: open the invite link from your administrator"))
	}
	if typ == "get" {
		q := elem.New(nsRegister, "query").
			Add(elem.New(nsRegister, "instructions").AddText("Choose a username and a password.")).
			Add(elem.New(nsRegister, "username")).
			Add(elem.New(nsRegister, "password"))
		return c.Send(elem.Result(el).Add(q))
	}
	if p.Child(nsRegister, "remove") != nil {
		return c.Send(regError(el, elem.Cancel, "not-allowed", "log in to cancel a registration"))
	}
	var user, pass string
	if u := p.Child(nsRegister, "username"); u != nil {
		user = strings.TrimSpace(u.Text())
	}
	if pw := p.Child(nsRegister, "password"); pw != nil {
		pass = pw.Text()
	}
	if user == "" || pass == "" {
		return c.Send(regError(el, elem.Modify, "not-acceptable", "a username and a password are required"))
	}
	local, err := c.s.acc.Normalize(user)
	if err != nil {
		return c.Send(regError(el, elem.Modify, "not-acceptable", "that username is not valid here"))
	}
	inviter, err := inv.Redeem(ctx, c.preauthToken, local, pass)
	switch {
	case err == nil:
	case errors.Is(err, ErrInviteInvalid):
		c.preauthToken = ""
		return c.Send(regError(el, elem.Cancel, "not-allowed", reason(err, ErrInviteInvalid)))
	case errors.Is(err, accounts.ErrExists):
		return c.Send(regError(el, elem.Cancel, "conflict", "that username is taken"))
	case errors.Is(err, ErrNotAcceptable):
		return c.Send(regError(el, elem.Modify, "not-acceptable", reason(err, ErrNotAcceptable)))
	default:
		c.s.log.Warn("xmpp: registration", "user", local, "ip", c.ip, "err", err)
		return c.Send(regError(el, elem.Wait, "internal-server-error", ""))
	}
	// One account per accepted token and stream.
	c.preauthToken = ""
	c.s.log.Info("xmpp: account registered through an invite", "user", local, "inviter", inviter, "ip", c.ip)
	if inviter != "" && inviter != local {
		// The invite store may have done this already; AddMutual then
		// changes nothing.
		if err := c.s.AddMutual(ctx, inviter, local); err != nil {
			c.s.log.Warn("xmpp: registration: contacts", "user", local, "inviter", inviter, "err", err)
		}
	}
	return c.Send(elem.Result(el))
}

// preauth checks an invite token (XEP-0445 §4). The use is not taken
// here: only a registration that succeeds uses the invite.
func (c *conn) preauth(ctx context.Context, inv Invites, el, p *elem.Element) error {
	if el.Type() != "set" {
		return c.Send(elem.ErrorReply(el, elem.Modify, "bad-request"))
	}
	ipKey := "ip:" + c.ip
	if c.s.ipLim.Wait(ipKey) > 0 {
		return c.Send(regError(el, elem.Wait, "resource-constraint", "too many failed attempts from your address, wait"))
	}
	token := p.Get("token")
	err := errors.New("empty token")
	if token != "" {
		err = inv.Check(ctx, token)
	}
	if err != nil {
		c.preauthToken = ""
		if token != "" && !errors.Is(err, ErrInviteInvalid) {
			c.s.log.Warn("xmpp: preauth", "ip", c.ip, "err", err)
			return c.Send(regError(el, elem.Wait, "internal-server-error", ""))
		}
		c.s.ipLim.Fail(ipKey)
		text := "the invite is not valid"
		if errors.Is(err, ErrInviteInvalid) {
			text = reason(err, ErrInviteInvalid)
		}
		if err := c.Send(regError(el, elem.Cancel, "item-not-found", text)); err != nil {
			return err
		}
		c.authFails++
		if c.authFails >= maxAuthFails {
			return &streamError{"policy-violation", "too many failed attempts"}
		}
		return nil
	}
	c.preauthToken = token
	return c.Send(elem.Result(el))
}

// regError is an IQ error with a human-readable text (RFC 6120 §8.3.2).
func regError(iq *elem.Element, typ, cond, text string) *elem.Element {
	r := elem.ErrorReply(iq, typ, cond)
	if text != "" {
		r.FirstElement().Add(elem.New(elem.NSStanzas, "text").AddText(text))
	}
	return r
}

// reason is the user-facing part of an error wrapping sentinel:
// "xmpp: invite not valid: this invite has expired" → "this invite has
// expired".
func reason(err, sentinel error) string {
	s := err.Error()
	if i := strings.Index(s, sentinel.Error()+": "); i >= 0 {
		return s[i+len(sentinel.Error())+2:]
	}
	return "the request was refused"
}
