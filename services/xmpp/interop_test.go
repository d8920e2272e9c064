//go:build interop

// The interop harness (services/xmpp/interop) lives on the xmppload
// branch; drop this build tag once it is on main.

package xmpp

import (
	"testing"

	"github.com/chatsecure/box/services/xmpp/interop"
)

// TestInteropSlixmpp runs the slixmpp script (a client nobody here wrote)
// against this server on 127.0.0.1: SCRAM over STARTTLS, roster,
// subscription, presence, messages to full and bare JIDs, carbons,
// blocking and offline delivery.
func TestInteropSlixmpp(t *testing.T) {
	s := startServer(t, nil)
	interop.Run(t, interop.Config{
		Addr: s.c2s, Domain: "localhost",
		User1: "alice", Password1: "pencil",
		User2: "bob", Password2: "pencil",
	})
}
