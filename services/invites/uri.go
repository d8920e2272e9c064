package invites

import "net/url"

// URI is the invite's xmpp: link for Conversations, Monal and the like
// (XEP-0401 over XEP-0379): with an inviter it is
// xmpp:inviter@domain?roster;preauth=TOKEN;ibr=y — "add this contact, and
// you may register an account with this token" — and without one
// xmpp:domain?register;preauth=TOKEN.
func URI(domain string, i Invite) string {
	tok := url.QueryEscape(i.Token)
	if i.CreatedBy != "" {
		return "xmpp:" + i.CreatedBy + "@" + domain + "?roster;preauth=" + tok + ";ibr=y"
	}
	return "xmpp:" + domain + "?register;preauth=" + tok
}
