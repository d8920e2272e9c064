package xmpp

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/chatsecure/box/services/xmpp/accounts"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/sasl"
)

// bindings are the channel bindings of this TLS connection, worked out
// once: the features, the mechanism check and the SASL server all ask.
func (c *conn) bindings() map[string][]byte {
	if c.tls == nil {
		return nil
	}
	if c.cb == nil {
		c.cb = sasl.Bindings(c.tls.ConnectionState(), c.s.cert)
	}
	return c.cb
}

func (c *conn) mechanisms() []string {
	return sasl.Mechanisms(c.secure(), c.bindings())
}

// saslFailure sends <failure/> with a condition (RFC 6120 §6.5).
func (c *conn) saslFailure(cond, text string) error {
	f := elem.New(nsSASL, "failure").Add(elem.New(nsSASL, cond))
	if text != "" {
		f.Add(elem.New(nsSASL, "text").AddText(text))
	}
	return c.write(f.Append(nil, "jabber:client"))
}

func decodeSASL(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// auth runs one SASL exchange starting with an <auth/> element. On
// success the stream restarts; on failure the client may try again, up to
// maxAuthFails times. Failures count against the account and the address.
func (c *conn) auth(ctx context.Context, el *elem.Element) error {
	mech := el.Get("mechanism")
	ipKey := "ip:" + c.ip
	if w := c.s.ipLim.Wait(ipKey); w > 0 {
		return c.authFailed("temporary-auth-failure", "too many failed logins from your address, wait", "")
	}
	if !contains(c.mechanisms(), mech) {
		return c.authFailed("invalid-mechanism", "", "")
	}
	srv, err := sasl.NewServer(mech, sasl.Config{
		Lookup: func(u string) (sasl.Credentials, bool, error) {
			if accounts.IsReserved(u) {
				// Never an account: the box's own health login or nothing.
				creds, ok := c.s.takeHealthLogin(u, sameMachine(c.raw))
				return creds, ok, nil
			}
			return c.s.acc.Credentials(ctx, u)
		},
		Bindings:     c.bindings(),
		Secret:       c.s.secret,
		AllowClientY: !c.s.StrictChannelBinding || c.cbUnsupported,
	})
	if err != nil {
		return c.authFailed("invalid-mechanism", "", "")
	}
	in, err := decodeSASL(el.Text())
	if err != nil {
		return c.authFailed("incorrect-encoding", "", "")
	}
	if strings.TrimSpace(el.Text()) == "" {
		// No initial response: ask for it with an empty challenge.
		if err := c.write([]byte("<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")); err != nil {
			return err
		}
		if in, err = c.saslResponse(); err != nil || in == nil {
			return err
		}
	}
	for step := 0; ; step++ {
		out, done, err := srv.Step(in)
		if u := srv.Username(); u != "" && step == 0 {
			if w := c.s.acctLim.Wait("acct:" + u); w > 0 {
				return c.authFailed("temporary-auth-failure", "too many failed logins for this account, wait", "")
			}
		}
		if errors.Is(err, sasl.ErrUnsupportedBinding) {
			c.cbUnsupported = true
		}
		if err != nil {
			cond := "not-authorized"
			switch {
			case errors.Is(err, sasl.ErrMalformed), errors.Is(err, sasl.ErrChannelBinding), errors.Is(err, sasl.ErrDowngrade):
				cond = "malformed-request"
				if !errors.Is(err, sasl.ErrMalformed) {
					cond = "not-authorized"
				}
			case errors.Is(err, sasl.ErrTemporary):
				c.s.log.Warn("xmpp: sasl", "err", err)
				return c.authFailed("temporary-auth-failure", "", "")
			}
			c.s.log.Debug("xmpp: sasl failed", "mech", mech, "user", srv.Username(), "ip", c.ip, "err", err)
			if !errors.Is(err, sasl.ErrNotAuthorized) {
				// Not a password guess (a client that cannot bind the
				// channel, a broken message): no backoff.
				return c.authFailed(cond, "", "")
			}
			return c.authFailed(cond, "", srv.Username())
		}
		if done {
			if z := srv.Authzid(); z != "" && z != srv.Username()+"@"+c.s.cfg.Domain && z != srv.Username() {
				return c.authFailed("invalid-authzid", "", srv.Username())
			}
			if off, err := c.s.acc.Disabled(ctx, srv.Username()); err != nil || off {
				// A disabled account is refused like a wrong password
				// (not-authorized, no hint), after the full exchange.
				if err != nil {
					c.s.log.Warn("xmpp: sasl", "err", err)
					return c.authFailed("temporary-auth-failure", "", "")
				}
				c.s.log.Debug("xmpp: sasl refused: account disabled", "user", srv.Username(), "ip", c.ip)
				return c.authFailed("not-authorized", "", "")
			}
			c.s.acctLim.Succeed("acct:" + srv.Username())
			s := elem.New(nsSASL, "success")
			if len(out) > 0 {
				s.AddText(base64.StdEncoding.EncodeToString(out))
			}
			if err := c.write(s.Append(nil, "jabber:client")); err != nil {
				return err
			}
			c.authed, c.user = true, srv.Username()
			c.cb = nil // not needed again; a held session should not keep it
			c.s.log.Debug("xmpp: authenticated", "user", c.user, "mech", mech, "ip", c.ip)
			return c.openStream()
		}
		ch := elem.New(nsSASL, "challenge").AddText(base64.StdEncoding.EncodeToString(out))
		if err := c.write(ch.Append(nil, "jabber:client")); err != nil {
			return err
		}
		if in, err = c.saslResponse(); err != nil || in == nil {
			return err
		}
	}
}

// saslResponse reads the client's <response/>; nil, nil after an abort.
func (c *conn) saslResponse() ([]byte, error) {
	el, err := c.next()
	if err != nil {
		return nil, err
	}
	if el.Name.Space != nsSASL {
		return nil, &streamError{"not-authorized", ""}
	}
	switch el.Name.Local {
	case "abort":
		return nil, c.saslFailure("aborted", "")
	case "response":
		b, err := decodeSASL(el.Text())
		if err != nil {
			return nil, c.authFailed("incorrect-encoding", "", "")
		}
		return b, nil
	}
	return nil, &streamError{"not-authorized", ""}
}

// authFailed answers a failure and counts it; too many on one stream end
// it.
// Only failures with a username (wrong password, unknown user, refused
// authzid) count toward the backoff.
func (c *conn) authFailed(cond, text, user string) error {
	if user != "" {
		c.s.ipLim.Fail("ip:" + c.ip)
		c.s.acctLim.Fail("acct:" + user)
	}
	if err := c.saslFailure(cond, text); err != nil {
		return err
	}
	c.authFails++
	if c.authFails >= maxAuthFails {
		return &streamError{"policy-violation", "too many failed authentication attempts"}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
