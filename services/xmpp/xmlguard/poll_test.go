package xmlguard

import (
	"errors"
	"io"
	"testing"
)

// script is a reader that returns one scripted result per Read.
type script []struct {
	s   string
	err error
}

func (r *script) Read(p []byte) (int, error) {
	if len(*r) == 0 {
		return 0, io.EOF
	}
	s := (*r)[0]
	*r = (*r)[1:]
	return copy(p, s.s), s.err
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "would block" }
func (timeoutErr) Timeout() bool { return true }

func TestSkipSpaceAndPoll(t *testing.T) {
	r := &script{
		{header, nil},
		{"", timeoutErr{}},
		{" \n ", nil},
		{"", timeoutErr{}},
		{"  <presence/>", nil},
		{"", errors.New("reset")},
	}
	g := New(r, Limits{MaxStanza: 200, MaxDepth: 4})
	if !g.Poll() {
		t.Fatal("header not read")
	}
	for g.Depth() < 1 {
		if _, err := g.ReadByte(); err != nil {
			t.Fatal(err)
		}
	}
	if g.SkipSpace() != 0 || g.Poll() {
		t.Fatal("a would-block read must report nothing ready")
	}
	if !g.Poll() || g.SkipSpace() != 0 || g.Skipped != 3 {
		t.Fatalf("whitespace keepalive: skipped %d", g.Skipped)
	}
	if g.Poll() {
		t.Fatal("would block again")
	}
	if !g.Poll() || g.SkipSpace() != len("<presence/>") || g.Skipped != 5 {
		t.Fatalf("stanza after whitespace: skipped %d", g.Skipped)
	}
	for range len("<presence/>") {
		if _, err := g.ReadByte(); err != nil {
			t.Fatal(err)
		}
	}
	// A real error is kept for the reader, not swallowed.
	if !g.Poll() {
		t.Fatal("an error is something to read")
	}
	if _, err := g.ReadByte(); err == nil || err.Error() != "reset" {
		t.Fatalf("got %v", err)
	}
}

func TestSkipSpaceCountsAgainstTheLimit(t *testing.T) {
	spaces := make([]byte, 300)
	for i := range spaces {
		spaces[i] = ' '
	}
	g := New(&script{{header, nil}, {string(spaces), nil}}, Limits{MaxStanza: 200})
	g.Poll()
	for g.Depth() < 1 {
		if _, err := g.ReadByte(); err != nil {
			t.Fatal(err)
		}
	}
	g.Poll()
	g.SkipSpace()
	if _, err := g.ReadByte(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}
