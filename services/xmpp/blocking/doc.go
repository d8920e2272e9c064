// Package blocking keeps each user's block list (XEP-0191: Blocking
// Command) in the store, with an in-memory copy per user so that checking
// every routed stanza costs no query. It answers the blocklist IQs and
// builds the pushes; the router asks Blocked before delivering.
//
// It imports database/sql, elem and mellium.im/xmpp/jid.
package blocking
