// Package interop checks an XMPP server against slixmpp, a client nobody on
// this project wrote: testdata/slixmpp_interop.py logs two accounts in with
// SCRAM over STARTTLS and goes through roster, subscription, presence,
// messages to full and bare JIDs, carbons (XEP-0280), blocking (XEP-0191)
// and offline delivery (XEP-0160), printing PASS/FAIL per step.
//
// Run(t, Config) is the harness any server's test calls with an address, a
// domain and two accounts; Exec is the same without testing. It needs
// Debian's /usr/bin/python3 with python3-slixmpp and installs nothing: it
// skips when slixmpp is missing, except under CI=true, where it fails.
// prosody_test.go (build tag prosody) validates the script against Prosody.
//
// A server package's test points it at its own listener:
//
//	interop.Run(t, interop.Config{Addr: "127.0.0.1:5222", Domain: "localhost",
//		User1: "alice", Password1: "a-pw", User2: "bob", Password2: "b-pw",
//		CAFile: certPEM}) // or no CAFile: the self-signed cert is accepted
//
// It imports only the standard library; no box package, so that it judges
// the box from outside.
package interop
