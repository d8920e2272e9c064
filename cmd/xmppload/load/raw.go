package load

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
)

// The hot path after login skips encoding/xml: a message round trip is a
// few dozen microseconds of syscalls and TLS, and a full tokenizer would
// add as much again on the tool's side of a 2-core machine. rawReader only
// finds where each top-level element ends; the rare element that needs a
// real look (stream errors, server IQs) is parsed with encoding/xml.

// maxRawElem bounds one top-level element (the box's default stanza limit).
const maxRawElem = 256 << 10

// rawElem is one top-level element as sent by the server.
type rawElem []byte

// readRaw returns the next top-level element of the stream.
func readRaw(br *bufio.Reader, buf []byte) (rawElem, error) {
	buf = buf[:0]
	depth := 0
	for {
		// Character data (or inter-stanza whitespace) up to the next tag.
		for {
			b, err := br.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("xmpp: read: %w", err)
			}
			if b == '<' {
				break
			}
			if depth == 0 {
				if b != ' ' && b != '\n' && b != '\r' && b != '\t' {
					return nil, errors.New("xmpp: read: character data at stream level")
				}
				continue
			}
			buf = append(buf, b)
			if len(buf) > maxRawElem {
				return nil, errors.New("xmpp: read: element too large")
			}
		}
		start := len(buf)
		buf = append(buf, '<')
		var quote byte
		for {
			b, err := br.ReadByte()
			if err != nil {
				return nil, fmt.Errorf("xmpp: read: %w", err)
			}
			buf = append(buf, b)
			if len(buf) > maxRawElem {
				return nil, errors.New("xmpp: read: element too large")
			}
			if quote != 0 {
				if b == quote {
					quote = 0
				}
				continue
			}
			if b == '\'' || b == '"' {
				quote = b
			} else if b == '>' {
				break
			}
		}
		tag := buf[start:]
		switch {
		case len(tag) < 3:
			return nil, fmt.Errorf("xmpp: read: malformed tag %q", tag)
		case tag[1] == '?' || tag[1] == '!':
			return nil, fmt.Errorf("xmpp: read: unexpected %q", tag)
		case tag[1] == '/':
			if depth == 0 {
				return nil, errStreamClosed
			}
			depth--
		case tag[len(tag)-2] == '/':
			// self-closing: depth unchanged
		default:
			depth++
		}
		if depth == 0 {
			return rawElem(buf), nil
		}
		if depth > maxElemDepth {
			return nil, errors.New("xmpp: read: element nesting too deep")
		}
	}
}

// name is the element's qualified name as written, e.g. "message" or
// "stream:error".
func (r rawElem) name() string {
	end := bytes.IndexAny(r, " \t\r\n/>")
	if end < 1 {
		return ""
	}
	return string(r[1:end])
}

// topAttr returns the raw (still escaped) value of an attribute of the
// top-level start tag.
func (r rawElem) topAttr(name string) []byte {
	// The start tag ends at the first '>' outside quotes.
	var quote byte
	end := len(r)
	for i, b := range r {
		if quote != 0 {
			if b == quote {
				quote = 0
			}
			continue
		}
		if b == '\'' || b == '"' {
			quote = b
		} else if b == '>' {
			end = i
			break
		}
	}
	tag := r[:end]
	for i := 0; i < len(tag); {
		j := bytes.Index(tag[i:], []byte(name+"="))
		if j < 0 {
			return nil
		}
		j += i
		i = j + len(name) + 1
		if j == 0 || (tag[j-1] != ' ' && tag[j-1] != '\t' && tag[j-1] != '\n' && tag[j-1] != '\r') || i >= len(tag) {
			continue
		}
		q := tag[i]
		if q != '\'' && q != '"' {
			continue
		}
		k := bytes.IndexByte(tag[i+1:], q)
		if k < 0 {
			return nil
		}
		return tag[i+1 : i+1+k]
	}
	return nil
}

// childText returns the character data of the first child element named
// local (e.g. "body") whose content has no markup, or nil.
func (r rawElem) childText(local string) []byte {
	open := []byte("<" + local)
	for i := 0; ; {
		j := bytes.Index(r[i:], open)
		if j < 0 {
			return nil
		}
		j += i
		i = j + len(open)
		if i >= len(r) {
			return nil
		}
		switch r[i] {
		case '>':
		case ' ', '\t', '\n', '\r':
			k := bytes.IndexByte(r[i:], '>')
			if k < 0 || r[i+k-1] == '/' {
				continue
			}
			i += k
		default:
			continue // e.g. <bodyx>
		}
		rest := r[i+1:]
		k := bytes.IndexByte(rest, '<')
		if k < 0 {
			return nil
		}
		return rest[:k]
	}
}

// parse builds the full tree for the rare element that needs it.
func (r rawElem) parse() (*elem, error) {
	// Wrap it so that the stream prefix and default namespace resolve.
	d := xml.NewDecoder(bytes.NewReader(append(append([]byte(
		"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"), r...),
		"</stream:stream>"...)))
	if _, err := readStreamStart(d); err != nil {
		return nil, err
	}
	return readElem(d)
}

// ReadRaw returns the next stanza without parsing it, answering server IQs
// and turning a stream error into a *StreamError on the way. Use it only
// after login, and not together with Read.
func (c *Conn) ReadRaw() (rawElem, error) {
	for {
		r, err := readRaw(c.br, c.rawBuf[:0])
		if err != nil {
			return nil, err
		}
		if cap(r) > cap(c.rawBuf) {
			c.rawBuf = r[:0]
		}
		switch r.name() {
		case "stream:error", "iq":
			if r.name() == "iq" {
				if t := string(r.topAttr("type")); t != "get" && t != "set" {
					return r, nil
				}
			}
			e, err := r.parse()
			if err != nil {
				return nil, err
			}
			if err := c.answerIQ(e); err != nil {
				return nil, err
			}
			continue
		}
		return r, nil
	}
}
