package xmpp

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services/xmpp/disco"
	"github.com/chatsecure/box/services/xmpp/elem"
	"github.com/chatsecure/box/services/xmpp/offline"
)

// bytesConn is a net.Conn that reads from a buffer and discards writes.
type bytesConn struct {
	r io.Reader
}

func (c *bytesConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *bytesConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *bytesConn) Close() error                     { return nil }
func (c *bytesConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *bytesConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *bytesConn) SetDeadline(time.Time) error      { return nil }
func (c *bytesConn) SetReadDeadline(time.Time) error  { return nil }
func (c *bytesConn) SetWriteDeadline(time.Time) error { return nil }

const fuzzHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

// FuzzStanzaReader runs the server's own stream reader (guard, decoder,
// element reader) over arbitrary input: it must never panic, never hand
// out an element larger than the stanza limit, and every element it reads
// must survive being written and read again unchanged (what the offline
// store and carbons rely on).
func FuzzStanzaReader(f *testing.F) {
	for _, s := range []string{
		fuzzHeader + "<message to='a@localhost'><body>hi &amp; bye</body></message><presence/>",
		fuzzHeader + "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>",
		fuzzHeader + "<message><x:y xmlns:x='urn:x' x:a='1' xml:lang='en'>t</x:y></message>",
		fuzzHeader + "<message><body><![CDATA[<b>]]></body></message>",
		fuzzHeader + "<!DOCTYPE x>",
		fuzzHeader + "<message><body>&lol;</body></message>",
		fuzzHeader + "<a>" + strings.Repeat("<b>", 60),
		"<stream:stream xmlns='jabber:client'>",
	} {
		f.Add(s)
	}
	const max = 2048
	srv := &Server{cfg: config.XMPP{Domain: "localhost", MaxStanzaBytes: max}, caps: disco.Info{}.Caps(), now: time.Now}
	f.Fuzz(func(t *testing.T, in string) {
		c := &conn{s: srv}
		c.raw = newRawConn(&bytesConn{r: strings.NewReader(in)})
		c.nc = c.raw
		if err := c.openStream(); err != nil {
			return
		}
		for {
			e, err := c.next()
			if err != nil {
				return
			}
			out := e.Append(nil, elem.NSClient)
			if len(out) > 2*max {
				t.Fatalf("element of %d bytes passed a %d limit", len(out), max)
			}
			again, err := offline.Parse(string(out))
			if err != nil {
				t.Fatalf("re-read %q: %v", out, err)
			}
			if out2 := again.Append(nil, elem.NSClient); !bytes.Equal(out, out2) {
				t.Fatalf("not stable:\n%s\n%s", out, out2)
			}
		}
	})
}
