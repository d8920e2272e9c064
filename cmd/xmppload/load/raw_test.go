package load

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadRaw(t *testing.T) {
	in := " \n<message from='a@x/r' to=\"b>c\" type='chat'><body>123</body><x xmlns='y'/></message>" +
		"<presence/><iq type='result' id='1'><q a='/>'/></iq>\n</stream:stream>"
	br := bufio.NewReader(strings.NewReader(in))
	r, err := readRaw(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.name() != "message" || string(r.topAttr("type")) != "chat" || string(r.topAttr("to")) != "b>c" ||
		string(r.topAttr("from")) != "a@x/r" || string(r.childText("body")) != "123" {
		t.Fatalf("message %q: name %q type %q to %q body %q", r, r.name(), r.topAttr("type"), r.topAttr("to"), r.childText("body"))
	}
	if r.topAttr("xmlns") != nil {
		t.Fatal("a child's attribute was taken for the top tag's")
	}
	if r, err = readRaw(br, nil); err != nil || string(r) != "<presence/>" {
		t.Fatalf("presence: %q %v", r, err)
	}
	if r, err = readRaw(br, nil); err != nil || string(r) != "<iq type='result' id='1'><q a='/>'/></iq>" {
		t.Fatalf("iq: %q %v", r, err)
	}
	if _, err = readRaw(br, nil); !errors.Is(err, errStreamClosed) {
		t.Fatalf("close: %v", err)
	}
}

func TestRawChildText(t *testing.T) {
	for in, want := range map[string]string{
		"<message><bodyx>1</bodyx><body xml:lang='en'>2</body></message>": "2",
		"<message><body/><body>3</body></message>":                        "3",
		"<message><body>a<b/>c</body></message>":                          "a",
	} {
		if got := string(rawElem(in).childText("body")); got != want {
			t.Errorf("childText(%q) = %q, want %q", in, got, want)
		}
	}
	if rawElem("<message/>").childText("body") != nil {
		t.Error("body found in an empty message")
	}
	if v := rawElem("<m xtype='a' type='b'/>").topAttr("type"); string(v) != "b" {
		t.Errorf("topAttr matched a suffix: %q", v)
	}
}

func TestRawParseStreamError(t *testing.T) {
	r := rawElem("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
	_, err := r.parse()
	var se *StreamError
	if !errors.As(err, &se) || se.Condition != "conflict" {
		t.Fatalf("parse stream error: %v", err)
	}
}

func TestReadRawRejects(t *testing.T) {
	for _, in := range []string{
		"text<a/>",
		"<?xml version='1.0'?>",
		"<!-- c -->",
		"<a><b>",
		"<>",
		"<a x='" + strings.Repeat("y", maxRawElem) + "'/>",
		strings.Repeat("<a>", maxElemDepth+2),
	} {
		if r, err := readRaw(bufio.NewReader(strings.NewReader(in)), nil); err == nil {
			t.Errorf("readRaw(%.40q) = %.40q, want an error", in, r)
		}
	}
}

func FuzzReadRaw(f *testing.F) {
	f.Add("<message type='chat'><body>1</body></message>")
	f.Add("<a b='>'/></stream:stream>")
	f.Add("<a><b/></a> <c/>")
	f.Add("<m><body xml:lang='en'>x</body></m>")
	f.Fuzz(func(t *testing.T, s string) {
		br := bufio.NewReader(strings.NewReader(s))
		for i := 0; i < 100; i++ {
			r, err := readRaw(br, nil)
			if err != nil {
				return
			}
			if len(r) < 3 || r[0] != '<' || r[len(r)-1] != '>' {
				t.Fatalf("element %q", r)
			}
			_ = r.name()
			_ = r.topAttr("type")
			_ = r.childText("body")
		}
	})
}
