// Package load is the XMPP load generator behind cmd/xmppload: a minimal
// hand-rolled c2s client (STARTTLS, SASL SCRAM-SHA-1/256 or PLAIN, bind) and
// the measured modes — a login ramp, held sessions, paired messaging — plus
// the side-by-side report the bench prints (Box/Prosody, Box/ejabberd).
//
// It talks to any RFC 6120 server on loopback, so the same numbers come from
// the box, Prosody and ejabberd. It may import only the standard library; it
// must not import the box's own XMPP packages, so that it measures them from
// outside. loadtest holds a small in-process server for its tests.
package load
