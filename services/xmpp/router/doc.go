// Package router is the XMPP server's in-memory session table and its
// delivery rules (RFC 6121 §8 for messages, presence and IQs to bare and
// full JIDs with priorities), presence broadcast, initial-presence probes
// and unavailable on disconnect (§4), the subscription exchange (§3) over
// the roster package's state machine, roster get/set/remove/push with
// versioning (§2), offline delivery (XEP-0160), carbons (XEP-0280), block
// checks and the blocking command (XEP-0191), and CSI holding (XEP-0352).
//
// Only local users exist (no federation yet): stanzas for other domains
// bounce with remote-server-not-found. It imports the feature packages
// (roster, offline, blocking, carbons, csi, accounts, elem) and
// mellium.im/xmpp/jid; nothing imports it but the server.
package router
