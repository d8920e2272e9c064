package xmpp

import (
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// waitParked waits until n sessions are parked. Parking follows reading
// asynchronously; the test's own deadline bounds the wait.
func waitParked(t *testing.T, s *testServer, n int64) {
	t.Helper()
	for s.parked.Load() != n {
		time.Sleep(time.Millisecond)
	}
}

// TestParkedSessions: an idle bound session parks (no reader goroutine in
// the decoder), and whatever arrives wakes it: whitespace keepalives,
// stanzas split across writes, several stanzas and whitespace in one
// write, and the end of the stream.
func TestParkedSessions(t *testing.T) {
	// No grace: every wait parks at once. A short grace:
	// a session first waits in place, and parks once the grace runs out.
	for _, grace := range []time.Duration{0, 20 * time.Millisecond} {
		t.Run(grace.String(), func(t *testing.T) { testParkedSessions(t, grace) })
	}
}

func testParkedSessions(t *testing.T, grace time.Duration) {
	s := startServer(t, nil, func(s *Server) { s.parkGrace = grace })
	alice := login(t, s, "alice", "a")
	bob := login(t, s, "bob", "b")
	waitParked(t, s, 2)
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/b'/>")
	waitParked(t, s, 2)

	// Whitespace keepalives are consumed without waking the decoder.
	alice.send(" \n\t ")
	waitParked(t, s, 2)
	alice.send("  ")
	waitParked(t, s, 2)

	// A stanza split across writes: the second half arrives while the
	// reader is in the decoder.
	alice.send(" <message to='bob@localhost' type='chat' id='m1'><bo")
	time.Sleep(10 * time.Millisecond)
	alice.send("dy>one</body></message>")
	bob.expect("<message to='bob@localhost' type='chat' id='m1' from='alice@localhost/a'><body>one</body></message>")
	waitParked(t, s, 2)

	// Several stanzas with whitespace between them in one write, then in
	// many small writes.
	alice.send("<message to='bob@localhost' type='chat' id='m2'><body>two</body></message>\n <message to='bob@localhost' type='chat' id='m3'><body>three</body></message> ")
	bob.expect("<message to='bob@localhost' type='chat' id='m2' from='alice@localhost/a'><body>two</body></message>")
	bob.expect("<message to='bob@localhost' type='chat' id='m3' from='alice@localhost/a'><body>three</body></message>")
	for i := 4; i < 40; i++ {
		alice.send(" <message to='bob@localhost' type='chat'><body>" + strings.Repeat("x", i*50) + "</body></message>")
	}
	for i := 4; i < 40; i++ {
		if got := bob.next().Child("", "body").Text(); len(got) != i*50 {
			t.Fatalf("message %d: body of %d bytes", i, len(got))
		}
	}
	waitParked(t, s, 2)

	// A parked session still ends cleanly: the client closes its stream.
	alice.send("</stream:stream>")
	for s.router.Sessions() != 1 {
		time.Sleep(time.Millisecond)
	}
	waitParked(t, s, 1)
}

// sessionGoroutines counts the goroutines running a connection's code.
func sessionGoroutines(t *testing.T) int {
	t.Helper()
	var b strings.Builder
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(g, "services/xmpp.(*conn)") {
			n++
		}
	}
	return n
}

// TestParkedSessionsHoldNoGoroutine: parked sessions are watched by the
// poller, not by a goroutine each; input, the idle deadline (a ping) and
// a Close from elsewhere (an admin kick) still wake them.
func TestParkedSessionsHoldNoGoroutine(t *testing.T) {
	s := startServer(t, nil, func(s *Server) { s.parkGrace = 0 })
	if s.poller == nil {
		t.Skip("no epoll here")
	}
	var cs []*client
	for i := range 20 {
		u := "user" + strconv.Itoa(i)
		if err := s.acc.Create(t.Context(), u, "pencil"); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, login(t, s, u, "r"))
	}
	bob := login(t, s, "bob", "b")
	waitParked(t, s, 21)
	waitNoSessionGoroutines(t)

	// Input wakes a session; it parks again.
	cs[0].send("<message to='bob@localhost/b' type='chat' id='m1'><body>hi</body></message>")
	bob.expect("<message to='bob@localhost/b' type='chat' id='m1' from='user0@localhost/r'><body>hi</body></message>")
	waitParked(t, s, 21)

	// A kick closes a parked session from another goroutine: it ends.
	s.router.Kick("user1", "reset")
	if cond := cs[1].expectStreamError(); cond != "reset" {
		t.Fatalf("kicked: %s", cond)
	}
	for s.router.Sessions() != 20 {
		time.Sleep(time.Millisecond)
	}
	waitParked(t, s, 20)

	// The idle deadline wakes a parked session to ping its peer.
	s.mu.Lock()
	var c *conn
	for k := range s.conns {
		if k.rc != nil && k.user == "user2" {
			c = k
		}
	}
	s.mu.Unlock()
	if c == nil {
		t.Fatal("user2's conn not found")
	}
	// A timer that fires before the deadline (one left from an earlier
	// park) wakes the session, which parks again without a ping.
	deadline := c.deadline
	c.wake(wakeTimer)
	if n := s.parked.Load(); n != 19 {
		t.Fatalf("%d parked after the timer", n)
	}
	waitParked(t, s, 20)
	if !c.deadline.Equal(deadline) || c.pingID != "" {
		t.Fatalf("an early timer moved the deadline (%v -> %v) or pinged (%q)", deadline, c.deadline, c.pingID)
	}
	waitNoSessionGoroutines(t)
}

// waitNoSessionGoroutines waits until no goroutine runs a connection's
// code: a session that just parked may still be returning.
func waitNoSessionGoroutines(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		n := sessionGoroutines(t)
		if n == 0 {
			return
		}
		if i == 500 {
			t.Fatalf("%d goroutines still serve parked sessions", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestParkedDecoderRemade: a parked session's decoder is remade from the
// client's own stream header, so prefixes it declared there still resolve
// and its closing tag (with its prefix for the streams namespace) still
// matches. No grace: the session parks before every stanza.
func TestParkedDecoderRemade(t *testing.T) {
	s := startServer(t, nil, func(s *Server) { s.parkGrace = 0 })
	bob := login(t, s, "bob", "b")
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/b'/>")

	c := dial(t, s.c2s)
	c.open("")
	c.starttls()
	c.open("")
	if e := c.plain("alice", "pencil"); e.Name.Local != "success" {
		t.Fatalf("login: %s", e)
	}
	c.send("<x:stream xmlns:x='http://etherx.jabber.org/streams' xmlns='jabber:client' xmlns:foo='urn:foo' to='localhost' version='1.0'>")
	if f := c.next(); f.Name.Local != "features" {
		t.Fatalf("want features, got %s", f)
	}
	c.bind("a")
	waitParked(t, s, 2)
	c.send("<message to='bob@localhost' type='chat' id='p1'><foo:bar foo:x='1'/><body>one</body></message>")
	bob.expect("<message to='bob@localhost' type='chat' id='p1' from='alice@localhost/a'><bar xmlns='urn:foo' xmlns:ns1='urn:foo' ns1:x='1'/><body>one</body></message>")
	waitParked(t, s, 2)
	c.send("<message to='bob@localhost' type='chat' id='p2'><body>two</body></message>")
	bob.expect("<message to='bob@localhost' type='chat' id='p2' from='alice@localhost/a'><body>two</body></message>")
	waitParked(t, s, 2)
	c.send("</x:stream>")
	// The server answers the close with its own, not a stream error.
	for {
		e, err := c.tryNext()
		if err != nil {
			break
		}
		if e.Name.Local == "error" {
			t.Fatalf("stream error after a clean close: %s", e)
		}
	}
	for s.router.Sessions() != 1 {
		time.Sleep(time.Millisecond)
	}
}

// TestBurstOrder: stanzas that arrive together are delivered in order per
// sender, also while another sender writes to the same recipient (inline
// writes and the writer goroutine's batches interleave).
func TestBurstOrder(t *testing.T) {
	s := startServer(t, nil)
	alice := login(t, s, "alice", "a")
	carol := login(t, s, "carol", "c")
	bob := login(t, s, "bob", "b")
	bob.send("<presence/>")
	bob.expect("<presence from='bob@localhost/b'/>")
	burst := func(id string) string {
		var b strings.Builder
		for i := 0; i < 50; i++ {
			b.WriteString("<message to='bob@localhost' type='chat' id='" + id + strconv.Itoa(i) + "'><body>x</body></message>")
		}
		return b.String()
	}
	alice.send(burst("a"))
	carol.send(burst("c"))
	next := map[string]int{}
	for n := 0; n < 100; n++ {
		id := bob.next().Get("id")
		k := id[:1]
		if want := k + strconv.Itoa(next[k]); id != want {
			t.Fatalf("got %s, want %s", id, want)
		}
		next[k]++
	}
}
