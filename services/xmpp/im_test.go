package xmpp

import (
	"strings"
	"testing"
	"time"
)

// TestIM walks the RFC 6121 journey of two users with golden XML: roster,
// subscription round trip, presence, messages to bare and full JIDs,
// carbons, unavailable on disconnect, offline delivery and blocking.
func TestIM(t *testing.T) {
	s := startServer(t, nil)
	alice := login(t, s, "alice", "a1")
	bob := login(t, s, "bob", "b1")

	// Roster get, empty, with a version (§2.6).
	alice.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
	alice.expect("<iq type='result' id='r1' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='0'/></iq>")
	bob.send("<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>")
	bob.expect("<iq type='result' id='r1' to='bob@localhost/b1'><query xmlns='jabber:iq:roster' ver='0'/></iq>")

	// Initial presence comes back to the sender (§4.2.2).
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/b1'/>")
	alice.send("<presence><priority>1</priority></presence>")
	alice.expect("<presence from='alice@localhost/a1'><priority>1</priority></presence>")

	// Subscription round trip (§3.1).
	alice.send("<presence to='bob@localhost/b1' type='subscribe'/>")
	alice.expect("<iq type='set' id='push-*' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='1'><item jid='bob@localhost' subscription='none' ask='subscribe'/></query></iq>")
	bob.expect("<presence to='bob@localhost' type='subscribe' from='alice@localhost'/>")
	bob.send("<presence to='alice@localhost' type='subscribed'/>")
	bob.expect("<iq type='set' id='push-*' to='bob@localhost/b1'><query xmlns='jabber:iq:roster' ver='1'><item jid='alice@localhost' subscription='from'/></query></iq>")
	alice.expect("<iq type='set' id='push-*' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='2'><item jid='bob@localhost' subscription='to'/></query></iq>")
	alice.expect("<presence to='alice@localhost' type='subscribed' from='bob@localhost'/>")
	alice.expect("<presence from='bob@localhost/b1' to='alice@localhost/a1'/>")

	// Roster set with a name and group; the push comes before the result.
	alice.send("<iq type='set' id='r2'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' name='Bob'><group>Friends</group></item></query></iq>")
	alice.expect("<iq type='set' id='push-*' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='3'><item jid='bob@localhost' name='Bob' subscription='to'><group>Friends</group></item></query></iq>")
	alice.expect("<iq type='result' id='r2' to='alice@localhost/a1'/>")
	// Versioned get: unchanged → empty result; stale → full roster.
	alice.send("<iq type='get' id='r3'><query xmlns='jabber:iq:roster' ver='3'/></iq>")
	alice.expect("<iq type='result' id='r3' to='alice@localhost/a1'/>")
	alice.send("<iq type='get' id='r4'><query xmlns='jabber:iq:roster' ver='1'/></iq>")
	alice.expect("<iq type='result' id='r4' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='3'><item jid='bob@localhost' name='Bob' subscription='to'><group>Friends</group></item></query></iq>")

	// bob's presence changes reach alice, who is subscribed; alice's do
	// not reach bob, who is not.
	bob.send("<presence><show>away</show></presence>")
	alice.expect("<presence from='bob@localhost/b1' to='alice@localhost/a1'><show>away</show></presence>")
	bob.expect("<presence from='bob@localhost/b1'><show>away</show></presence>")

	// Messages to the bare and the full JID.
	alice.send("<message to='bob@localhost' type='chat' id='m1'><body>hi</body></message>")
	bob.expect("<message to='bob@localhost' type='chat' id='m1' from='alice@localhost/a1'><body>hi</body></message>")
	alice.send("<message to='bob@localhost/b1' type='chat' id='m2'><body>full</body></message>")
	bob.expect("<message to='bob@localhost/b1' type='chat' id='m2' from='alice@localhost/a1'><body>full</body></message>")
	// A full JID that is not online falls back to the bare JID (§8.5.3.2.1).
	alice.send("<message to='bob@localhost/gone' type='chat' id='m3'><body>fallback</body></message>")
	bob.expect("<message to='bob@localhost/gone' type='chat' id='m3' from='alice@localhost/a1'><body>fallback</body></message>")
	// IQ to an absent full JID: service-unavailable.
	alice.send("<iq type='get' id='q1' to='bob@localhost/gone'><ping xmlns='urn:xmpp:ping'/></iq>")
	alice.expect("<iq type='error' id='q1' from='bob@localhost/gone' to='alice@localhost/a1'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
	// IQ to a present full JID is routed; the answer comes back.
	alice.send("<iq type='get' id='q2' to='bob@localhost/b1'><ping xmlns='urn:xmpp:ping'/></iq>")
	bob.expect("<iq type='get' id='q2' to='bob@localhost/b1' from='alice@localhost/a1'><ping xmlns='urn:xmpp:ping'/></iq>")
	bob.send("<iq type='result' id='q2' to='alice@localhost/a1'/>")
	alice.expect("<iq type='result' id='q2' to='alice@localhost/a1' from='bob@localhost/b1'/>")

	// Carbons (XEP-0280): bob's second resource asks for copies.
	bob2 := login(t, s, "bob", "b2")
	bob2.send("<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
	bob2.expect("<iq type='result' id='c1' to='bob@localhost/b2'/>")
	alice.send("<message to='bob@localhost/b1' type='chat' id='m4'><body>carbon</body></message>")
	bob.expect("<message to='bob@localhost/b1' type='chat' id='m4' from='alice@localhost/a1'><body>carbon</body></message>")
	bob2.expect("<message from='bob@localhost' to='bob@localhost/b2' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='bob@localhost/b1' type='chat' id='m4' from='alice@localhost/a1'><body>carbon</body></message></forwarded></received></message>")
	bob.send("<message to='alice@localhost' type='chat' id='m5'><body>reply</body></message>")
	bob2.expect("<message from='bob@localhost' to='bob@localhost/b2' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='alice@localhost' type='chat' id='m5' from='bob@localhost/b1'><body>reply</body></message></forwarded></sent></message>")
	alice.expect("<message to='alice@localhost' type='chat' id='m5' from='bob@localhost/b1'><body>reply</body></message>")

	// Unavailable on disconnect reaches subscribers.
	bob.send("</stream:stream>")
	alice.expect("<presence from='bob@localhost/b1' type='unavailable' to='alice@localhost/a1'/>")

	// Offline storage (XEP-0160): carol is offline.
	alice.send("<message to='carol@localhost' type='chat' id='o1'><body>later</body></message>")
	// A message to an account that does not exist bounces.
	alice.send("<message to='nobody@localhost' type='chat' id='o2'><body>x</body></message>")
	alice.expect("<message type='error' id='o2' from='nobody@localhost' to='alice@localhost/a1'><body>x</body><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
	carol := login(t, s, "carol", "c1")
	carol.send("<presence/>")
	carol.expect("<presence from='carol@localhost/c1'/>")
	carol.expect("<message to='carol@localhost' type='chat' id='o1' from='alice@localhost/a1'><body>later</body><delay xmlns='urn:xmpp:delay' from='localhost' stamp='*'/></message>")

	// Blocking (XEP-0191): carol blocks alice.
	carol.send("<iq type='set' id='bl1'><block xmlns='urn:xmpp:blocking'><item jid='alice@localhost'/></block></iq>")
	carol.expect("<iq type='set' id='block-*' to='carol@localhost/c1'><block xmlns='urn:xmpp:blocking'><item jid='alice@localhost'/></block></iq>")
	carol.expect("<iq type='result' id='bl1' to='carol@localhost/c1'/>")
	carol.send("<iq type='get' id='bl2'><blocklist xmlns='urn:xmpp:blocking'/></iq>")
	carol.expect("<iq type='result' id='bl2' to='carol@localhost/c1'><blocklist xmlns='urn:xmpp:blocking'><item jid='alice@localhost'/></blocklist></iq>")
	alice.send("<message to='carol@localhost' type='chat' id='x1'><body>blocked?</body></message>")
	alice.expect("<message type='error' id='x1' from='carol@localhost' to='alice@localhost/a1'><body>blocked?</body><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>")
	// Nothing reached carol: her next stanza is the answer to her ping.
	carol.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
	carol.expect("<iq type='result' id='p1' to='carol@localhost/c1'/>")
	// carol writing to alice is refused with the blocked error.
	carol.send("<message to='alice@localhost' type='chat' id='x2'><body>hey</body></message>")
	carol.expect("<message type='error' id='x2' from='alice@localhost' to='carol@localhost/c1'><body>hey</body><error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><blocked xmlns='urn:xmpp:blocking:errors'/></error></message>")

	// Roster remove ends the subscription both ways and pushes remove.
	alice.send("<iq type='set' id='r5'><query xmlns='jabber:iq:roster'><item jid='bob@localhost' subscription='remove'/></query></iq>")
	alice.expect("<iq type='set' id='push-*' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='4'><item jid='bob@localhost' name='Bob' subscription='none'><group>Friends</group></item></query></iq>")
	alice.expect("<iq type='set' id='push-*' to='alice@localhost/a1'><query xmlns='jabber:iq:roster' ver='5'><item jid='bob@localhost' subscription='remove'/></query></iq>")
	alice.expect("<iq type='result' id='r5' to='alice@localhost/a1'/>")
}

// TestPriorities: a message to the bare JID goes to the highest
// non-negative priority only (RFC 6121 §8.5.2.1.1); with only negative
// priorities it is stored offline.
func TestPriorities(t *testing.T) {
	s := startServer(t, nil)
	bob := login(t, s, "bob", "b")
	a1 := login(t, s, "alice", "a1")
	a2 := login(t, s, "alice", "a2")
	a3 := login(t, s, "alice", "a3")
	for _, x := range []struct {
		c    *client
		prio string
	}{{a1, "5"}, {a2, "1"}, {a3, "-1"}} {
		x.c.send("<presence><priority>" + x.prio + "</priority></presence>")
		// Others' presence may come first: they race with ours.
		for x.c.next().Get("from") != x.c.jid {
		}
	}
	bob.send("<message to='alice@localhost' type='chat' id='1'><body>bare</body></message>")
	a1.expectSkippingPresence("<message to='alice@localhost' type='chat' id='1' from='bob@localhost/b'><body>bare</body></message>")
	bob.send("<message to='alice@localhost/a2' type='chat' id='2'><body>a2</body></message>")
	bob.send("<message to='alice@localhost/a3' type='chat' id='3'><body>a3</body></message>")
	// Their next message is the one to them: the bare one never came.
	a2.expectSkippingPresence("<message to='alice@localhost/a2' type='chat' id='2' from='bob@localhost/b'><body>a2</body></message>")
	a3.expectSkippingPresence("<message to='alice@localhost/a3' type='chat' id='3' from='bob@localhost/b'><body>a3</body></message>")
	a1.send("</stream:stream>")
	a2.send("</stream:stream>")
	// Only a3 (priority -1) is left: bare messages go offline.
	for gone := 0; gone < 2; {
		if p := a3.next(); p.Type() == "unavailable" && (p.Get("from") == "alice@localhost/a1" || p.Get("from") == "alice@localhost/a2") {
			gone++
		}
	}
	bob.send("<message to='alice@localhost' type='chat' id='4'><body>stored</body></message>")
	bob.send("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
	bob.expect("<iq type='result' id='p' to='bob@localhost/b'/>")
	a4 := login(t, s, "alice", "a4")
	a4.send("<presence/>")
	a4.expect("<presence from='alice@localhost/a4'/>")
	a4.expect("<message to='alice@localhost' type='chat' id='4' from='bob@localhost/b'><body>stored</body><delay xmlns='urn:xmpp:delay' from='localhost' stamp='*'/></message>")
}

// TestDirectedPresence: someone who got directed presence (not a
// subscriber) gets unavailable when the sender leaves (RFC 6121 §4.6.3).
func TestDirectedPresence(t *testing.T) {
	s := startServer(t, nil)
	alice := login(t, s, "alice", "a")
	bob := login(t, s, "bob", "b")
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/b'/>")
	alice.send("<presence/>")
	alice.expect("<presence from='alice@localhost/a'/>")
	alice.send("<presence to='bob@localhost'><show>chat</show></presence>")
	bob.expect("<presence to='bob@localhost' from='alice@localhost/a'><show>chat</show></presence>")
	alice.send("</stream:stream>")
	bob.expect("<presence from='alice@localhost/a' to='bob@localhost' type='unavailable'/>")
}

// TestOfflineSubscription: a request made while the contact is offline is
// delivered when they come online (RFC 6121 §3.1.3); once approved, the
// subscriber's next login sees the contact's presence at once (probe,
// §4.3) without the contact doing anything.
func TestOfflineSubscription(t *testing.T) {
	s := startServer(t, nil)
	alice := login(t, s, "alice", "a")
	alice.send("<presence to='bob@localhost' type='subscribe'/>")
	alice.send("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
	alice.expect("<iq type='result' id='p' to='alice@localhost/a'/>")

	bob := login(t, s, "bob", "b")
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/b'/>")
	bob.expect("<presence from='alice@localhost' to='bob@localhost' type='subscribe'/>")
	bob.send("<presence to='alice@localhost' type='subscribed'/>")
	bob.send("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
	bob.expect("<iq type='result' id='p' to='bob@localhost/b'/>")

	alice2 := login(t, s, "alice", "a2")
	alice2.send("<presence/>")
	alice2.expect("<presence from='alice@localhost/a2'/>")
	alice2.expect("<presence from='bob@localhost/b' to='alice@localhost/a2'/>")
	alice2.send("<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>")
	alice2.expect("<iq type='result' id='r' to='alice@localhost/a2'><query xmlns='jabber:iq:roster' ver='2'><item jid='bob@localhost' subscription='to'/></query></iq>")
}

// TestSlowReaderDoesNotBlockSenders: bob stops reading; alice's flood to
// him must not stall alice (her ping is answered) and bob is dropped once
// his queue is full.
func TestSlowReaderDoesNotBlockSenders(t *testing.T) {
	s := startServer(t, nil)
	alice := login(t, s, "alice", "a")
	bob := login(t, s, "bob", "b")
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/b'/>")
	// From here on bob reads nothing.
	body := strings.Repeat("x", 60<<10)
	for i := 0; i < 250; i++ {
		alice.send("<message to='bob@localhost/b' type='chat'><body>" + body + "</body></message>")
	}
	alice.send("<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>")
	alice.expect("<iq type='result' id='p' to='alice@localhost/a'/>")
	for s.router.Sessions() != 1 {
		time.Sleep(time.Millisecond)
	}
}
