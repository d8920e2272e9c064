package xmpp

import (
	"testing"

	"github.com/chatsecure/box/services/xmpp/interop"
)

// TestInteropSlixmpp runs the slixmpp script (a client nobody here wrote)
// against this server on 127.0.0.1: SCRAM over STARTTLS, roster,
// subscription, presence, messages to full and bare JIDs, carbons,
// blocking and offline delivery; once with slixmpp's choice of SCRAM and
// once held to SCRAM-SHA-1.
func TestInteropSlixmpp(t *testing.T) {
	for _, mech := range []string{"", "SCRAM-SHA-1"} {
		t.Run("mech="+mech, func(t *testing.T) {
			s := startServer(t, nil)
			interop.Run(t, interop.Config{
				Addr: s.c2s, Domain: "localhost",
				User1: "alice", Password1: "pencil",
				User2: "bob", Password2: "pencil",
				Mech: mech,
			})
		})
	}
}
