package load

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// elem is the little tree the load tool needs from a top-level stanza or
// stream-level element: names, attributes, children and character data.
type elem struct {
	Name xml.Name
	Attr []xml.Attr
	Kids []*elem
	Text string
}

// attr returns the value of the unqualified attribute name.
func (e *elem) attr(name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name && (a.Name.Space == "" || a.Name.Space == "xml" && name == "lang") {
			return a.Value
		}
	}
	return ""
}

// kid returns the first child with the given local name and namespace
// (any namespace when space is empty).
func (e *elem) kid(local, space string) *elem {
	for _, k := range e.Kids {
		if k.Name.Local == local && (space == "" || k.Name.Space == space) {
			return k
		}
	}
	return nil
}

// errStreamClosed reports that the peer sent </stream:stream>.
var errStreamClosed = errors.New("xmpp: stream closed by peer")

// maxElemDepth and maxElemText bound what a misbehaving server can make us
// allocate.
const (
	maxElemDepth = 32
	maxElemText  = 1 << 20
)

// StreamError is a <stream:error/> sent by the server.
type StreamError struct{ Condition, Text string }

func (e *StreamError) Error() string {
	if e.Text != "" {
		return "xmpp: stream error: " + e.Condition + ": " + e.Text
	}
	return "xmpp: stream error: " + e.Condition
}

const (
	nsStream = "http://etherx.jabber.org/streams"
	nsClient = "jabber:client"
	nsTLS    = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL   = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind   = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSess   = "urn:ietf:params:xml:ns:xmpp-session"
	nsStanza = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// readStreamStart consumes tokens up to the server's <stream:stream> start tag.
func readStreamStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		t, err := d.Token()
		if err != nil {
			return xml.StartElement{}, fmt.Errorf("xmpp: read stream header: %w", err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Local != "stream" || t.Name.Space != nsStream {
				return xml.StartElement{}, fmt.Errorf("xmpp: want stream header, got <%s>", t.Name.Local)
			}
			return t.Copy(), nil
		case xml.ProcInst, xml.CharData, xml.Comment:
			continue
		default:
			return xml.StartElement{}, fmt.Errorf("xmpp: unexpected %T before stream header", t)
		}
	}
}

// readElem reads the next complete child of the stream. Whitespace between
// stanzas is skipped; </stream:stream> gives errStreamClosed and
// <stream:error> a *StreamError.
func readElem(d *xml.Decoder) (*elem, error) {
	for {
		t, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("xmpp: read: %w", io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("xmpp: read: %w", err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			e, err := buildElem(d, t, 1)
			if err != nil {
				return nil, err
			}
			if e.Name.Local == "error" && e.Name.Space == nsStream {
				se := &StreamError{}
				for _, k := range e.Kids {
					if k.Name.Local == "text" {
						se.Text = k.Text
					} else if se.Condition == "" {
						se.Condition = k.Name.Local
					}
				}
				return nil, se
			}
			return e, nil
		case xml.EndElement:
			return nil, errStreamClosed
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) != 0 {
				return nil, errors.New("xmpp: read: character data at stream level")
			}
		}
	}
}

func buildElem(d *xml.Decoder, start xml.StartElement, depth int) (*elem, error) {
	if depth > maxElemDepth {
		return nil, errors.New("xmpp: read: element nesting too deep")
	}
	e := &elem{Name: start.Name}
	if len(start.Attr) > 0 {
		e.Attr = make([]xml.Attr, len(start.Attr))
		copy(e.Attr, start.Attr)
	}
	var text []byte
	for {
		t, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("xmpp: read <%s>: %w", start.Name.Local, err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			k, err := buildElem(d, t, depth+1)
			if err != nil {
				return nil, err
			}
			e.Kids = append(e.Kids, k)
		case xml.CharData:
			if len(text)+len(t) > maxElemText {
				return nil, errors.New("xmpp: read: character data too long")
			}
			text = append(text, t...)
		case xml.EndElement:
			e.Text = string(text)
			return e, nil
		}
	}
}

// xmlEscape escapes s for use in character data or a quoted attribute.
func xmlEscape(s string) string {
	if !strings.ContainsAny(s, "<>&'\"") {
		return s
	}
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
