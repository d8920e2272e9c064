package xmpp

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	msasl "mellium.im/sasl"
)

// quickLogin is a lean client: STARTTLS, SCRAM-SHA-1 (mellium's client)
// or PLAIN, bind. It reads raw bytes instead of parsing, so that most of
// the CPU in the benchmark is the server's.
func quickLogin(addr, user string, scram bool) (net.Conn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (net.Conn, error) { nc.Close(); return nil, err }
	open := "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
	br := bufio.NewReader(nc)
	readUntil := func(r *bufio.Reader, s string) (string, error) {
		var b strings.Builder
		for !strings.HasSuffix(b.String(), s) {
			c, err := r.ReadByte()
			if err != nil {
				return b.String(), err
			}
			b.WriteByte(c)
		}
		return b.String(), nil
	}
	nc.Write([]byte(open + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"))
	if _, err := readUntil(br, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"); err != nil {
		return fail(err)
	}
	tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	tr := bufio.NewReader(tc)
	tc.Write([]byte(open))
	if _, err := readUntil(tr, "</stream:features>"); err != nil {
		return fail(err)
	}
	if scram {
		cl := msasl.NewClient(msasl.ScramSha1, msasl.Credentials(func() ([]byte, []byte, []byte) {
			return []byte(user), []byte("pencil"), nil
		}))
		_, first, _ := cl.Step(nil)
		tc.Write([]byte("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>" + base64.StdEncoding.EncodeToString(first) + "</auth>"))
		s, err := readUntil(tr, "</challenge>")
		if err != nil {
			return fail(err)
		}
		ch, _ := base64.StdEncoding.DecodeString(s[strings.Index(s, ">")+1 : len(s)-len("</challenge>")])
		_, final, err := cl.Step(ch)
		if err != nil {
			return fail(err)
		}
		tc.Write([]byte("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + base64.StdEncoding.EncodeToString(final) + "</response>"))
	} else {
		tc.Write([]byte("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00pencil")) + "</auth>"))
	}
	if s, err := readUntil(tr, ">"); err != nil || !strings.HasPrefix(s, "<success") {
		return fail(fmt.Errorf("auth: %q %v", s, err))
	}
	tc.Write([]byte(open + "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>"))
	if _, err := readUntil(tr, "</iq>"); err != nil {
		return fail(err)
	}
	return tc, nil
}

// BenchmarkLoginSCRAMSHA1 is one full login per op: TCP, STARTTLS (TLS
// 1.3, ECDSA P-256), SCRAM-SHA-1, bind, close. Client and server share
// the machine, so logins/s here is a lower bound for the server alone.
func BenchmarkLoginSCRAMSHA1(b *testing.B) {
	s := startServer(b, func(c *config.XMPP) { c.ConnsPerIP = 100000; c.SessionsPerAccount = 100000 })
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := quickLogin(s.c2s, "alice", true)
			if err != nil {
				b.Error(err)
				return
			}
			c.Close()
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}

// TestHoldClientsHelper is not a test: BenchmarkHeldSessions runs the
// test binary again with XMPP_HOLD set so that the clients live in
// another process and the heap measured is the server's alone.
func TestHoldClientsHelper(t *testing.T) {
	spec := os.Getenv("XMPP_HOLD")
	if spec == "" {
		t.Skip("helper process only")
	}
	addr, nStr, _ := strings.Cut(spec, ",")
	n, _ := strconv.Atoi(nStr)
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := quickLogin(addr, "user"+strconv.Itoa(i%50), false)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	fmt.Println("held")
	// Hold until the parent closes stdin.
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// BenchmarkHeldSessions reports the server's heap and goroutine stacks per
// held, bound TLS session (clients in a child process).
func BenchmarkHeldSessions(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				s := startServer(b, func(c *config.XMPP) { c.ConnsPerIP = 100000; c.SessionsPerAccount = 100000 })
				for u := 0; u < 50; u++ {
					s.acc.Create(b.Context(), "user"+strconv.Itoa(u), "pencil")
				}
				before, beforeStack := memNow(), stackNow()
				cmd := exec.Command(os.Args[0], "-test.run=^TestHoldClientsHelper$")
				cmd.Env = append(os.Environ(), "XMPP_HOLD="+s.c2s+","+strconv.Itoa(n))
				stdin, _ := cmd.StdinPipe()
				out, _ := cmd.StdoutPipe()
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				line, _ := bufio.NewReader(out).ReadString('\n')
				if !strings.Contains(line, "held") {
					b.Fatalf("helper: %q", line)
				}
				// Held sessions settle: each parks once idle for the
				// park grace (xmppload's hold waits 3 s before sampling).
				for s.router.Sessions() < n || s.parked.Load() < int64(n) {
					time.Sleep(time.Millisecond)
				}
				after := memNow()
				if f := os.Getenv("XMPP_HEAPPROFILE"); f != "" {
					w, _ := os.Create(f)
					pprof.Lookup("heap").WriteTo(w, 0)
					w.Close()
				}
				b.ReportMetric(float64(after-before)/float64(n)/1024, "KiB/session")
				b.ReportMetric((float64(stackNow())-float64(beforeStack))/float64(n)/1024, "stack-KiB/session")
				stdin.Close()
				cmd.Wait()
			}
		})
	}
}

func memNow() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func stackNow() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}

// BenchmarkMessages: one op is a chat message from alice to bob's bare
// JID, routed and read by bob (both clients in this process). Reports
// delivered msg/s through one pair.
func BenchmarkMessages(b *testing.B) {
	s := startServer(b, nil)
	alice, err := quickLogin(s.c2s, "alice", false)
	if err != nil {
		b.Fatal(err)
	}
	defer alice.Close()
	bob, err := quickLogin(s.c2s, "bob", false)
	if err != nil {
		b.Fatal(err)
	}
	defer bob.Close()
	bob.Write([]byte("<presence/>"))
	br := bufio.NewReader(bob)
	// Own presence back: bob is available.
	if _, err := br.ReadString('>'); err != nil {
		b.Fatal(err)
	}
	msg := []byte("<message to='bob@localhost' type='chat'><body>hello there, this is a typical short chat message</body></message>")
	done := make(chan error, 1)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuNow()
	go func() {
		// Count closing message tags.
		seen := 0
		tail := "</message>"
		match := 0
		for seen < b.N {
			c, err := br.ReadByte()
			if err != nil {
				done <- err
				return
			}
			if c == tail[match] {
				match++
				if match == len(tail) {
					seen++
					match = 0
				}
			} else if c == tail[0] {
				match = 1
			} else {
				match = 0
			}
		}
		done <- nil
	}()
	for i := 0; i < b.N; i++ {
		if _, err := alice.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
	b.ReportMetric(float64((cpuNow()-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
}

// BenchmarkMessagesPaced: one op is a chat message from alice to bob's
// bare JID and bob's reply, one at a time, so each stanza finds the
// receiving session idle (parked) as paced clients do, unlike the
// back-to-back stream of BenchmarkMessages. Reports µs per delivered
// message (two per op).
func BenchmarkMessagesPaced(b *testing.B) {
	s := startServer(b, nil)
	alice, err := quickLogin(s.c2s, "alice", false)
	if err != nil {
		b.Fatal(err)
	}
	defer alice.Close()
	bob, err := quickLogin(s.c2s, "bob", false)
	if err != nil {
		b.Fatal(err)
	}
	defer bob.Close()
	for _, c := range []net.Conn{alice, bob} {
		c.Write([]byte("<presence/>"))
	}
	ar, br := bufio.NewReader(alice), bufio.NewReader(bob)
	for _, r := range []*bufio.Reader{ar, br} {
		if _, err := r.ReadString('>'); err != nil {
			b.Fatal(err)
		}
	}
	toBob := []byte("<message to='bob@localhost' type='chat'><body>hello there, this is a typical short chat message</body></message>")
	toAlice := []byte("<message to='alice@localhost' type='chat'><body>and this is the answer to it, just as short</body></message>")
	readMsg := func(r *bufio.Reader) error {
		for {
			s, err := r.ReadString('>')
			if err != nil {
				return err
			}
			if strings.HasSuffix(s, "</message>") {
				return nil
			}
		}
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuNow()
	for i := 0; i < b.N; i++ {
		alice.Write(toBob)
		if err := readMsg(br); err != nil {
			b.Fatal(err)
		}
		bob.Write(toAlice)
		if err := readMsg(ar); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(2*b.N), "µs/msg")
	b.ReportMetric(float64((cpuNow()-cpu0).Microseconds())/float64(2*b.N), "cpu-µs/msg")
}

// cpuNow is the process's user+system CPU time: clients and server
// together, which on a loaded machine varies less than wall time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
