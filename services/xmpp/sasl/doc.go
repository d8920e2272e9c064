// Package sasl is the server side of SASL for XMPP (RFC 6120 §6): SCRAM-SHA-1
// and SCRAM-SHA-256 (RFC 5802, RFC 7677) with their -PLUS variants bound to
// tls-exporter (RFC 9266) or tls-server-end-point (RFC 5929), and PLAIN
// (RFC 4616), which the caller must offer only inside TLS.
//
// Only salted SCRAM keys are kept (StoredKey and ServerKey for SHA-1 and
// SHA-256, one salt, ≥ 4096 PBKDF2 iterations); PLAIN is checked by
// deriving the SHA-256 keys again. mellium.im/xmpp's SASLServer cannot do
// the server side of SCRAM, hence this package.
//
// It imports the standard library and golang.org/x/text/secure/precis.
package sasl
