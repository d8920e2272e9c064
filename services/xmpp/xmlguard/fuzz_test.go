package xmlguard

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"
)

// FuzzGuard runs a decoder over the guard: no panics, and whatever the
// decoder returns never holds a token longer than the limit.
func FuzzGuard(f *testing.F) {
	f.Add(header + `<message><body>hi</body></message>`)
	f.Add(header + `<!DOCTYPE x>`)
	f.Add(header + `<a><![CDATA[x]]></a>`)
	f.Add(`<?xml version='1.0'?><?x?>`)
	f.Add(header + `<a b='>'/><c d="'"/>`)
	const max = 128
	f.Fuzz(func(t *testing.T, in string) {
		g := New(strings.NewReader(in), Limits{MaxStanza: max, MaxDepth: 8})
		d := xml.NewDecoder(g)
		d.Strict = true
		for {
			tok, err := d.Token()
			if err != nil {
				if errors.Is(err, ErrTooDeep) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrRestricted) {
					return
				}
				return
			}
			switch tok := tok.(type) {
			case xml.CharData:
				if len(tok) > max {
					t.Fatalf("text of %d bytes passed", len(tok))
				}
			case xml.Comment:
				t.Fatal("comment passed")
			case xml.Directive:
				t.Fatal("directive passed")
			}
		}
	})
}
