package disco

import "testing"

// TestVerExample checks the XEP-0115 §5.2 simple example.
func TestVerExample(t *testing.T) {
	in := Info{
		Identities: []Identity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}},
		Features: []string{"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
			"http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps"},
	}
	if got, want := in.Ver(), "QgayPKawpkPSDYmwT/WM94uAlu0="; got != want {
		t.Fatalf("ver %s, want %s", got, want)
	}
}
