// Command xmppload generates XMPP client load against a server on loopback
// and measures it: logins/s and login latency, server memory per held
// session, delivered messages/s, message latency and server CPU per
// message. bench/ runs it side by side against the box, Prosody and
// ejabberd. All the work is in package load; main only wires a logger and
// signals. It may import load and the standard library.
package main
