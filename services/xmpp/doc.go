// Package xmpp is the box's XMPP server core (RFC 6120, RFC 6121): the c2s
// listeners (STARTTLS required on one, direct TLS per XEP-0368 with ALPN
// xmpp-client on the other, TLS 1.2+), stream negotiation with our own SASL
// feature (package sasl), resource binding where the SASL identity is the
// only identity, stream limits, and the admin API for accounts. Stanzas go
// to package router; each feature lives in its own subpackage whose doc
// comment names its RFC or XEP.
//
// Stream parsing is encoding/xml behind xmlguard, not mellium.im/xmpp's
// Session: mellium v0.22.0 cannot run server-side SCRAM, takes the bound
// identity from the stream header's "from", spawns a goroutine per Send for
// deadlines and wraps STARTTLS around the raw conn where the byte limits
// could not see the plaintext. mellium.im/xmpp/jid does the JID rules and
// mellium's client is used in the tests as a client nobody here wrote.
//
// Each connection has one reader goroutine. Output to a session is sealed
// and written at once on the sender's goroutine with a non-blocking socket
// write when nothing is queued (outq.go); what the socket does not take,
// and what comes while a write is under way, is written by a goroutine
// that exists only while there is output, so a slow reader never stalls
// its senders (it is dropped past 1 MiB queued). A bound session with
// nothing left to read waits in place for a second, then parks
// (session.go, park.go): one epoll instance for the whole server watches
// its socket and a timer its idle deadline, and its goroutine returns
// with the stack it grew in TLS and the decoder. A parked session holds
// no goroutine, no read buffer and no XML decoder (decoder.go); input, the
// deadline or a close wakes it on a new goroutine. Where epoll is not
// available a parked session waits on a minimum-size goroutine instead.
// Unauthenticated streams must bind within AuthTimeout; bound sessions
// idle for 4 minutes get an XEP-0199 ping and are dropped if nothing
// arrives within a minute.
//
// Accounts are created only by the admin API, the console, or in-band
// registration (XEP-0077) that is allowed only through an invite: the
// client sends the token with <preauth xmlns='urn:xmpp:pars:0'/> (XEP-0445,
// advertised as the urn:xmpp:ibr-token:0 stream feature) before the
// register IQ, and the invite store (SetInvites, InviteStore) creates the
// account and records the inviter, who becomes a mutual contact
// (AddMutual). Without a token that is valid, unexpired, unrevoked and not
// used up, registration is refused. Disabled accounts (SetDisabled on the
// account table) fail SASL like a wrong password and their sessions end.
//
// HealthLogin issues a one-shot login for the box's own health check
// (package selfcheck, run on a trial boot): a localpart with
// accounts.ReservedPrefix, which no account can have, and a random
// password whose SCRAM keys stay in memory. It works once, for a minute,
// and only from a peer on this machine; nothing is written to the store.
//
// It imports the subpackages, services, services/store, services/invites
// (for InviteStore), config and mellium.im/xmpp/jid.
//
// # Admin API
//
// RegisterAdmin adds, under /v1/xmpp/ (JSON in and out; errors are
// {"error": "..."} with 400 for bad input, 404 for an unknown account, 409
// for an existing one):
//
//	POST   /v1/xmpp/users         {"jid": "alice@domain", "password": "..."} → 201 {"jid": ...}
//	GET    /v1/xmpp/users         → 200 {"users": ["alice@domain", ...]}
//	POST   /v1/xmpp/users/passwd  {"jid": ..., "password": ...} → 200 {"jid": ...}; the user's sessions end
//	DELETE /v1/xmpp/users/{jid}   → 200 {"jid": ...}; sessions end, the roster, offline messages,
//	                              block list, vCard and private XML go with the account
//
// A "jid" may be a bare localpart ("alice"); the domain is the server's.
package xmpp
