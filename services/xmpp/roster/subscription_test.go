package roster

import "testing"

// TestRoundTrip walks a full subscription between alice and bob through
// both sides' items, as the router applies them.
func TestRoundTrip(t *testing.T) {
	alice := Item{JID: "bob@x", Sub: None} // alice's item for bob
	bob := Item{JID: "alice@x", Sub: None} // bob's item for alice

	// alice subscribes to bob.
	if ch, fw := OutSubscribe(&alice); !ch || !fw || !alice.Ask || !alice.InRoster {
		t.Fatalf("out subscribe: %+v", alice)
	}
	if _, deliver, auto := InSubscribe(&bob); !deliver || auto || !bob.PendingIn || bob.InRoster {
		t.Fatalf("in subscribe: %+v", bob)
	}
	// bob approves.
	if ch, fw := OutSubscribed(&bob); !ch || !fw || bob.Sub != From || bob.PendingIn {
		t.Fatalf("out subscribed: %+v", bob)
	}
	if ch, d := InSubscribed(&alice); !ch || !d || alice.Sub != To || alice.Ask {
		t.Fatalf("in subscribed: %+v", alice)
	}
	// bob subscribes back; alice's server auto-approves? No: alice has
	// only "to", so the request is delivered.
	OutSubscribe(&bob)
	if _, d, auto := InSubscribe(&alice); !d || auto {
		t.Fatalf("second request: %+v", alice)
	}
	OutSubscribed(&alice)
	InSubscribed(&bob)
	if alice.Sub != Both || bob.Sub != Both {
		t.Fatalf("not both: %s %s", alice.Sub, bob.Sub)
	}
	// A repeated subscribe to someone already allowed is auto-answered.
	if _, d, auto := InSubscribe(&alice); d || !auto {
		t.Fatal("no auto reply")
	}
	// alice unsubscribes from bob's presence.
	OutUnsubscribe(&alice)
	InUnsubscribe(&bob)
	if alice.Sub != From || bob.Sub != To {
		t.Fatalf("after unsubscribe: %s %s", alice.Sub, bob.Sub)
	}
	// bob cancels alice's... alice cancels bob's subscription to her.
	OutUnsubscribed(&alice)
	InUnsubscribed(&bob)
	if alice.Sub != None || bob.Sub != None {
		t.Fatalf("after unsubscribed: %s %s", alice.Sub, bob.Sub)
	}
}

func TestDeny(t *testing.T) {
	alice := Item{JID: "bob@x", Sub: None}
	bob := Item{JID: "alice@x", Sub: None}
	OutSubscribe(&alice)
	InSubscribe(&bob)
	if _, fw := OutUnsubscribed(&bob); !fw || bob.PendingIn {
		t.Fatalf("deny: %+v", bob)
	}
	if _, d := InUnsubscribed(&alice); !d || alice.Ask || alice.Sub != None {
		t.Fatalf("denied: %+v", alice)
	}
	// An unsolicited subscribed changes nothing.
	if ch, d := InSubscribed(&alice); ch || d {
		t.Fatal("unsolicited subscribed accepted")
	}
}
