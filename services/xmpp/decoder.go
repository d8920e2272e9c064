package xmpp

import (
	"encoding/xml"
	"strings"

	"github.com/chatsecure/box/services/xmpp/xmlguard"
)

// A parked session drops its XML decoder (about 1 KiB with its namespace
// map and token buffers, which keep the size of the largest text seen)
// and makes a new one when input comes. The new decoder first reads a
// copy of the client's stream header made of the header's namespace
// declarations only, so that prefixes and the default namespace resolve
// as on the original stream, and the closing stream tag still matches.

// streamHeader is the stream start tag to prime a new decoder with, or ""
// if the header gives no prefix for the streams namespace.
func streamHeader(start xml.StartElement) string {
	var prefix string
	var b strings.Builder
	for _, a := range start.Attr {
		switch {
		case a.Name.Space == "xmlns":
			if a.Value == nsStream && prefix == "" {
				prefix = a.Name.Local
			}
			b.WriteString(" xmlns:" + a.Name.Local + "='" + escapeAttr(a.Value) + "'")
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			b.WriteString(" xmlns='" + escapeAttr(a.Value) + "'")
		}
	}
	if prefix == "" || start.Name.Space != nsStream || start.Name.Local != "stream" {
		return ""
	}
	return "<" + prefix + ":stream" + b.String() + ">"
}

// primed reads a stream header from a string, then the guard.
type primed struct {
	hdr string
	i   int
	g   *xmlguard.Guard
}

func (p *primed) ReadByte() (byte, error) {
	if p.i < len(p.hdr) {
		p.i++
		return p.hdr[p.i-1], nil
	}
	return p.g.ReadByte()
}

func (p *primed) Read(b []byte) (int, error) {
	if p.i < len(p.hdr) {
		n := copy(b, p.hdr[p.i:])
		p.i += n
		return n, nil
	}
	return p.g.Read(b)
}

// dropDecoder lets a parked session's decoder go, when it can be remade.
func (c *conn) dropDecoder() {
	if c.hdr != "" {
		c.dec = nil
	}
}

// decoder remakes the decoder dropped by dropDecoder.
func (c *conn) decoder() error {
	if c.dec != nil {
		return nil
	}
	d := xml.NewDecoder(&primed{hdr: c.hdr, g: c.guard})
	d.Strict = true
	if _, err := d.Token(); err != nil {
		return err
	}
	c.dec = d
	c.decOff = int64(len(c.hdr)) - int64(c.consumed())
	return nil
}

// consumed is how many bytes the guard handed to the decoder.
func (c *conn) consumed() uint64 {
	g := c.guard
	return g.Total - uint64(g.Buffered()) - g.Skipped
}
