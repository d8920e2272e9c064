package xmlguard

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`

func drain(g *Guard) error {
	for {
		if _, err := g.ReadByte(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func TestGuard(t *testing.T) {
	lim := Limits{MaxStanza: 200, MaxDepth: 4}
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"ok", header + `<message to='a@b'><body>hi</body></message><presence/>`, nil},
		{"many small stanzas", header + strings.Repeat(`<presence/> `, 100), nil},
		{"too large", header + `<message><body>` + strings.Repeat("x", 300) + `</body></message>`, ErrTooLarge},
		{"huge attribute", header + `<message to='` + strings.Repeat("x", 300) + `'/>`, ErrTooLarge},
		{"whitespace flood", header + strings.Repeat(" ", 300), ErrTooLarge},
		{"too deep", header + `<a><b><c><d/></c></b></a>`, ErrTooDeep},
		{"deep enough", header + `<a><b><c/></b></a>`, nil},
		{"doctype", `<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>` + header, ErrRestricted},
		{"comment", header + `<!-- hi -->`, ErrRestricted},
		{"pi after start", header + `<?foo bar?>`, ErrRestricted},
		{"cdata allowed", header + `<message><body><![CDATA[<>]]]]></body></message>`, nil},
		{"gt in attribute", header + `<message to='a>b'><x/></message>`, nil},
		{"slash in attribute", header + `<message to='a/b' id="/"/>`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New(strings.NewReader(tc.in), lim)
			err := drain(g)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err != nil {
				// Sticky.
				if _, err2 := g.ReadByte(); err2 != err {
					t.Fatalf("not sticky: %v", err2)
				}
			}
		})
	}
}

// TestGuardDepthTracksDecoder checks the guard's idea of depth against
// encoding/xml on the same input.
func TestGuardDepthTracksDecoder(t *testing.T) {
	in := header + `<message to='x'><body a="/>">x/y</body><x xmlns='a'/></message><iq><q><r/></q></iq>`
	g := New(strings.NewReader(in), Limits{})
	d := xml.NewDecoder(g)
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
		// The guard may read ahead, so it can only be compared when it
		// has nothing buffered.
		if g.Buffered() == 0 && g.Depth() != depth {
			t.Fatalf("guard depth %d, decoder %d", g.Depth(), depth)
		}
	}
	if g.Depth() != 1 {
		t.Fatalf("final depth %d", g.Depth())
	}
}
