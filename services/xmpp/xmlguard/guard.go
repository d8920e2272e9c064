package xmlguard

import (
	"errors"
	"io"
	"sync"
)

// Errors a Guard returns; they are sticky: once one is returned every later
// read returns it too.
var (
	// ErrTooLarge means a stanza (or the text between stanzas) is larger
	// than the limit: the stream ends with policy-violation.
	ErrTooLarge = errors.New("xmlguard: stanza too large")
	// ErrTooDeep means elements nest deeper than the limit: policy-violation.
	ErrTooDeep = errors.New("xmlguard: elements nested too deep")
	// ErrRestricted means a DTD, comment, entity declaration or processing
	// instruction: the stream ends with restricted-xml.
	ErrRestricted = errors.New("xmlguard: restricted XML")
)

// Limits bound one stream.
type Limits struct {
	// MaxStanza bounds the bytes of one top-level element (stanza or
	// nonza) and of any run of bytes between two of them.
	MaxStanza int
	// MaxDepth bounds element nesting; the stream element is depth 1.
	MaxDepth int
}

type state uint8

const (
	sText      state = iota
	sLT              // just read '<'
	sStart           // inside a start tag
	sStartSl         // inside a start tag, last significant byte was '/'
	sEnd             // inside an end tag
	sPI              // inside <? ... ?>
	sPIQ             // inside a PI, just read '?'
	sBang            // read "<!"
	sCDATA           // inside <![CDATA[ ... ]]>
	sCDATA1          // inside CDATA, read one ']'
	sCDATA2          // inside CDATA, read "]]"
	sBangCDATA       // matching "[CDATA[" after "<!"
)

const bufSize = 4096

// smallSize is the buffer a stream that is not in bulk reads into.
const smallSize = 256

var (
	bufPool   = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}
	smallPool = sync.Pool{New: func() any { b := make([]byte, smallSize); return &b }}
)

// A Guard reads from an underlying reader and checks every byte.
type Guard struct {
	r   io.Reader
	lim Limits
	// OnTimeout, when set, is called when the underlying read times out
	// (a deadline passed); if it returns true the read is retried. It
	// lets a server ping an idle peer without losing the parser state.
	OnTimeout func() bool
	// Total counts bytes read from the underlying reader.
	Total uint64
	// Skipped counts bytes SkipSpace consumed (the reader never saw them).
	Skipped uint64
	buf     *[]byte // pooled buffer (small or bulk) holding cur; none when drained by Poll
	cur     []byte  // unread input
	pos     int
	bulk    bool  // the last read filled its buffer: more is likely queued
	err     error // read error, returned once buffered bytes are used
	bad     error // limit violation, sticky

	st      state
	quote   byte
	depth   int
	count   int  // bytes since the last stanza boundary
	started bool // an element has been seen (no more PIs)
	match   int  // progress through "[CDATA["
}

// New returns a Guard reading r. A zero limit means no limit.
func New(r io.Reader, lim Limits) *Guard {
	return &Guard{r: r, lim: lim}
}

// Depth is the current element depth (1 inside the stream element).
func (g *Guard) Depth() int { return g.depth }

// Buffered reports how many read-ahead bytes the guard holds.
func (g *Guard) Buffered() int { return len(g.cur) - g.pos }

// ReadByte implements io.ByteReader.
func (g *Guard) ReadByte() (byte, error) {
	if g.bad != nil {
		return 0, g.bad
	}
	if g.pos >= len(g.cur) {
		if err := g.fill(); err != nil {
			return 0, err
		}
	}
	c := g.cur[g.pos]
	g.pos++
	if err := g.check(c); err != nil {
		g.bad = err
		return 0, err
	}
	return c, nil
}

// Read implements io.Reader for callers that prefer it.
func (g *Guard) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if n > 0 && g.pos >= len(g.cur) {
			break
		}
		c, err := g.ReadByte()
		if err != nil {
			if n > 0 && err == io.EOF {
				return n, nil
			}
			return n, err
		}
		p[n] = c
		n++
	}
	return n, nil
}

// SkipSpace consumes buffered whitespace between top-level elements (as
// in a whitespace keepalive), checking it like any other input, and
// reports how many bytes are still buffered. A reader that then finds
// nothing buffered can wait for input without sitting inside a parser.
func (g *Guard) SkipSpace() int {
	for g.bad == nil && g.pos < len(g.cur) && g.st == sText && g.depth == 1 {
		c := g.cur[g.pos]
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			break
		}
		g.pos++
		g.Skipped++
		if err := g.check(c); err != nil {
			g.bad = err
		}
	}
	return len(g.cur) - g.pos
}

// Failed reports whether a read error or a limit violation waits to be
// returned.
func (g *Guard) Failed() bool { return g.err != nil || g.bad != nil }

// Poll reads once from the underlying reader if nothing is buffered;
// the caller makes that read non-blocking. It reports false, keeping no
// error and no buffer, when the read timed out or would block with
// nothing read; any other outcome is kept for the next ReadByte.
func (g *Guard) Poll() bool {
	if g.pos < len(g.cur) || g.err != nil || g.bad != nil {
		return true
	}
	g.release()
	g.buf = smallPool.Get().(*[]byte)
	dst := *g.buf
	n, err := g.r.Read(dst)
	g.cur, g.pos = dst[:n], 0
	g.bulk = n == len(dst)
	g.Total += uint64(n)
	if n == 0 {
		g.release() // a parked stream keeps no buffer
	}
	switch {
	case n > 0:
		g.err = err
	case err == nil:
		return false
	case isTimeout(err):
		return false
	default:
		g.err = err
	}
	return true
}

// release gives the drained read buffer back to its pool.
func (g *Guard) release() {
	if g.buf == nil {
		return
	}
	g.cur, g.pos = nil, 0
	if len(*g.buf) == bufSize {
		bufPool.Put(g.buf)
	} else {
		smallPool.Put(g.buf)
	}
	g.buf = nil
}

// fill reads more input. A stream reads into a small pooled buffer; only
// when reads come back full (bulk input) does it take a pooled 4 KiB one.
// Either goes back once drained, so parked sessions keep no read buffer.
func (g *Guard) fill() error {
	if g.err != nil {
		return g.err
	}
	g.release()
	if g.bulk {
		g.buf = bufPool.Get().(*[]byte)
	} else {
		g.buf = smallPool.Get().(*[]byte)
	}
	dst := *g.buf
	n, err := g.r.Read(dst)
	for n == 0 && err != nil && g.OnTimeout != nil && isTimeout(err) && g.OnTimeout() {
		n, err = g.r.Read(dst)
	}
	g.cur, g.pos = dst[:n], 0
	g.bulk = n == len(dst)
	g.Total += uint64(n)
	if n > 0 {
		if err != nil {
			g.err = err // delivered after the bytes already read
		}
		return nil
	}
	g.release()
	if err == nil {
		err = io.ErrNoProgress
	}
	g.err = err
	return err
}

func (g *Guard) check(c byte) error {
	g.count++
	if g.lim.MaxStanza > 0 && g.count > g.lim.MaxStanza {
		return ErrTooLarge
	}
	switch g.st {
	case sText:
		if c == '<' {
			if g.depth == 1 {
				// A new top-level element (or the closing stream tag)
				// starts: text before it was counted with the last one.
				g.count = 1
			}
			g.st = sLT
		}
	case sLT:
		switch c {
		case '/':
			g.st = sEnd
		case '?':
			if g.started {
				return ErrRestricted
			}
			g.st = sPI
		case '!':
			g.st, g.match = sBang, 0
		default:
			g.st, g.quote = sStart, 0
			g.started = true
		}
	case sStart, sStartSl:
		if g.quote != 0 {
			if c == g.quote {
				g.quote = 0
			}
			return nil
		}
		switch c {
		case '"', '\'':
			g.quote = c
			g.st = sStart
		case '/':
			g.st = sStartSl
		case '>':
			if g.st == sStartSl {
				g.st = sText
				if g.lim.MaxDepth > 0 && g.depth+1 > g.lim.MaxDepth {
					return ErrTooDeep
				}
				g.endElement(false)
				return nil
			}
			g.st = sText
			g.depth++
			if g.lim.MaxDepth > 0 && g.depth > g.lim.MaxDepth {
				return ErrTooDeep
			}
			if g.depth == 1 {
				g.count = 0 // the stream header is done
			}
		case ' ', '\t', '\r', '\n':
		default:
			g.st = sStart
		}
	case sEnd:
		if c == '>' {
			g.st = sText
			g.endElement(true)
		}
	case sPI:
		if c == '?' {
			g.st = sPIQ
		}
	case sPIQ:
		switch c {
		case '>':
			g.st = sText
		case '?':
		default:
			g.st = sPI
		}
	case sBang:
		// Only CDATA sections may start with "<!" in restricted XML.
		const cdata = "[CDATA["
		if c != cdata[g.match] || g.depth < 2 {
			return ErrRestricted
		}
		g.match++
		if g.match == len(cdata) {
			g.st = sCDATA
		}
	case sCDATA:
		if c == ']' {
			g.st = sCDATA1
		}
	case sCDATA1:
		if c == ']' {
			g.st = sCDATA2
		} else {
			g.st = sCDATA
		}
	case sCDATA2:
		switch c {
		case '>':
			g.st = sText
		case ']':
		default:
			g.st = sCDATA
		}
	}
	return nil
}

// endElement accounts for a closed element: an end tag (pop) or an empty
// element tag.
func (g *Guard) endElement(pop bool) {
	if pop {
		g.depth--
	}
	// depth is now the depth of the parent; 1 means a stanza just ended.
	if g.depth == 1 {
		g.count = 0
	}
}

func isTimeout(err error) bool {
	// The direct assertion first: errors.As allocates, and a
	// non-blocking poll sees a would-block error on every idle read.
	if t, ok := err.(interface{ Timeout() bool }); ok {
		return t.Timeout()
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
