package elem

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A Node is an *Element or a Text.
type Node interface{ node() }

// Text is character data.
type Text string

func (Text) node() {}

// An Element is an XML element with its attributes and children in order.
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []Node
}

func (*Element) node() {}

// New makes an element; attrs are local-name/value pairs.
func New(space, local string, attrs ...string) *Element {
	e := &Element{Name: xml.Name{Space: space, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.SetAttr(attrs[i], attrs[i+1])
	}
	return e
}

// Get returns the value of the un-namespaced attribute local, or "".
func (e *Element) Get(local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// SetAttr sets (or, with value "", removes) an un-namespaced attribute.
func (e *Element) SetAttr(local, value string) *Element {
	for i, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			if value == "" {
				e.Attr = append(e.Attr[:i:i], e.Attr[i+1:]...)
			} else {
				e.Attr[i].Value = value
			}
			return e
		}
	}
	if value != "" {
		e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: local}, Value: value})
	}
	return e
}

// Add appends children and returns e.
func (e *Element) Add(children ...Node) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// AddText appends character data and returns e.
func (e *Element) AddText(s string) *Element {
	if s != "" {
		e.Children = append(e.Children, Text(s))
	}
	return e
}

// Child returns the first child element with the name, or nil. An empty
// space matches any namespace.
func (e *Element) Child(space, local string) *Element {
	for _, c := range e.Children {
		if c, ok := c.(*Element); ok && c.Name.Local == local && (space == "" || c.Name.Space == space) {
			return c
		}
	}
	return nil
}

// Elements returns the child elements.
func (e *Element) Elements() []*Element {
	var out []*Element
	for _, c := range e.Children {
		if c, ok := c.(*Element); ok {
			out = append(out, c)
		}
	}
	return out
}

// FirstElement returns the first child element, or nil.
func (e *Element) FirstElement() *Element {
	for _, c := range e.Children {
		if c, ok := c.(*Element); ok {
			return c
		}
	}
	return nil
}

// RemoveChild removes child elements with the name and reports how many.
func (e *Element) RemoveChild(space, local string) int {
	n := 0
	out := e.Children[:0]
	for _, c := range e.Children {
		if c, ok := c.(*Element); ok && c.Name.Local == local && c.Name.Space == space {
			n++
			continue
		}
		out = append(out, c)
	}
	e.Children = out
	return n
}

// Text returns the element's own character data, concatenated.
func (e *Element) Text() string {
	var b strings.Builder
	for _, c := range e.Children {
		if t, ok := c.(Text); ok {
			b.WriteString(string(t))
		}
	}
	return b.String()
}

// Copy returns a deep copy.
func (e *Element) Copy() *Element {
	c := &Element{Name: e.Name, Attr: append([]xml.Attr(nil), e.Attr...)}
	c.Children = make([]Node, len(e.Children))
	for i, n := range e.Children {
		if el, ok := n.(*Element); ok {
			c.Children[i] = el.Copy()
		} else {
			c.Children[i] = n
		}
	}
	return c
}

// ErrUnexpectedEOF means the input ended inside an element.
var ErrUnexpectedEOF = errors.New("elem: unexpected end of input")

// TokenReader is what Read needs from an xml.Decoder.
type TokenReader interface {
	Token() (xml.Token, error)
}

// Read reads the rest of the element that start opened.
func Read(d TokenReader, start xml.StartElement) (*Element, error) {
	root := &Element{Name: start.Name, Attr: cleanAttr(start.Attr)}
	stack := []*Element{root}
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, ErrUnexpectedEOF
			}
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			el := &Element{Name: t.Name, Attr: cleanAttr(t.Attr)}
			top.Children = append(top.Children, el)
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return root, nil
			}
		case xml.CharData:
			if len(t) == 0 {
				continue // an empty CDATA section
			}
			// Merge adjacent text (CDATA sections arrive separately).
			if n := len(top.Children); n > 0 {
				if prev, ok := top.Children[n-1].(Text); ok {
					top.Children[n-1] = prev + Text(t)
					continue
				}
			}
			top.Children = append(top.Children, Text(t))
		case xml.Comment, xml.ProcInst, xml.Directive:
			return nil, fmt.Errorf("elem: %T not allowed in a stanza", tok)
		}
	}
}

// cleanAttr drops namespace declarations: Write makes its own. It
// filters in place: the decoder hands each start element a fresh slice.
func cleanAttr(attrs []xml.Attr) []xml.Attr {
	out := attrs[:0]
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		out = append(out, a)
	}
	return out
}

const nsXML = "http://www.w3.org/XML/1998/namespace"

// Append appends e's XML to b. parentNS is the default namespace in scope
// where e is written (jabber:client inside a client stream).
func (e *Element) Append(b []byte, parentNS string) []byte {
	b = append(b, '<')
	b = append(b, e.Name.Local...)
	if e.Name.Space != parentNS {
		b = append(b, " xmlns='"...)
		b = appendEscaped(b, e.Name.Space, true)
		b = append(b, '\'')
	}
	np := 0
	for _, a := range e.Attr {
		b = append(b, ' ')
		switch a.Name.Space {
		case "":
		case nsXML, "xml":
			b = append(b, "xml:"...)
		default:
			np++
			p := "ns" + strconv.Itoa(np)
			b = append(b, "xmlns:"+p+"='"...)
			b = appendEscaped(b, a.Name.Space, true)
			b = append(b, "' "+p+":"...)
		}
		b = append(b, a.Name.Local...)
		b = append(b, "='"...)
		b = appendEscaped(b, a.Value, true)
		b = append(b, '\'')
	}
	if len(e.Children) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	for _, c := range e.Children {
		switch c := c.(type) {
		case *Element:
			b = c.Append(b, e.Name.Space)
		case Text:
			b = appendEscaped(b, string(c), false)
		}
	}
	b = append(b, "</"...)
	b = append(b, e.Name.Local...)
	return append(b, '>')
}

// String is e written as if its parent had no namespace; for tests and logs.
func (e *Element) String() string { return string(e.Append(nil, "")) }

func appendEscaped(b []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\'':
			if !attr {
				continue
			}
			esc = "&apos;"
		case '"':
			if !attr {
				continue
			}
			esc = "&quot;"
		case '\r':
			esc = "&#xD;"
		case '\n', '\t':
			if !attr {
				continue
			}
			esc = "&#x" + strconv.FormatInt(int64(s[i]), 16) + ";"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}
