// Package loadtest is the in-memory twin of a real XMPP server for the load
// tool's tests: a small c2s server on 127.0.0.1 with STARTTLS (self-signed
// ECDSA certificate), SASL SCRAM-SHA-1, SCRAM-SHA-256 and PLAIN, resource
// binding and message routing to full and bare JIDs. It counts logins and
// routed messages so tests can check what the tool claims.
//
// It is a test fixture, not a server to measure, and imports only the
// standard library (never package load, which its tests exercise).
package loadtest
