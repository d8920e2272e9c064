package appliance

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// LogRing keeps the last lines boxd logged, for the console's log page and
// diagnostics bundle. It is a slog.Handler that formats as text and passes
// every record on to the next handler too.
type LogRing struct {
	next slog.Handler
	mu   *sync.Mutex
	buf  *bytes.Buffer
	text slog.Handler
	ring *ring
}

type ring struct {
	lines []string
	next  int
	full  bool
}

// NewLogRing keeps up to n lines and forwards to next.
func NewLogRing(next slog.Handler, n int) *LogRing {
	buf := new(bytes.Buffer)
	return &LogRing{
		next: next,
		mu:   new(sync.Mutex),
		buf:  buf,
		text: slog.NewTextHandler(buf, nil),
		ring: &ring{lines: make([]string, n)},
	}
}

func (l *LogRing) Enabled(ctx context.Context, lv slog.Level) bool {
	return l.next.Enabled(ctx, lv)
}

func (l *LogRing) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	l.buf.Reset()
	l.text.Handle(ctx, r)
	line := string(bytes.TrimRight(l.buf.Bytes(), "\n"))
	l.ring.lines[l.ring.next] = line
	l.ring.next = (l.ring.next + 1) % len(l.ring.lines)
	if l.ring.next == 0 {
		l.ring.full = true
	}
	l.mu.Unlock()
	return l.next.Handle(ctx, r)
}

func (l *LogRing) WithAttrs(as []slog.Attr) slog.Handler {
	c := *l
	c.next = l.next.WithAttrs(as)
	c.text = l.text.WithAttrs(as)
	return &c
}

func (l *LogRing) WithGroup(name string) slog.Handler {
	c := *l
	c.next = l.next.WithGroup(name)
	c.text = l.text.WithGroup(name)
	return &c
}

// Lines returns up to limit of the newest lines, oldest first.
func (l *LogRing) Lines(limit int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var all []string
	if l.ring.full {
		all = append(all, l.ring.lines[l.ring.next:]...)
	}
	all = append(all, l.ring.lines[:l.ring.next]...)
	if limit > 0 && len(all) > limit {
		all = all[len(all)-limit:]
	}
	return all
}
