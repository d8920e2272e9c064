package xmpp

import (
	"context"
	"errors"
	"time"
)

// parkGrace is how long a session with nothing to read waits on its own
// goroutine before it parks (Server.parkGrace).
const parkGrace = time.Second

var errGraceOver = errors.New("xmpp: idle past the park grace")

// session reads and handles the stanzas of a bound session. When nothing
// is left to read anywhere (our guard, the decoder, TLS's record buffer,
// the socket) it parks (park.go): the poller watches the socket, a timer
// the idle deadline, and this goroutine returns. So a held, idle session
// keeps no goroutine, no stack and no read buffer, instead of a reader
// blocked deep in the XML decoder and TLS on the stack it grew during the
// handshake.
func (c *conn) session(ctx context.Context) error {
	for {
		// Whitespace (keepalives) is skipped here so that the decoder
		// never waits inside a text token for the next stanza.
		for c.raw.sc != nil && c.guard.SkipSpace() == 0 && !c.guard.Failed() && c.decoderIdle() {
			// A chatty session's next stanza comes soon: wait here
			// (shallow) for a while first, since a fresh goroutine grows
			// its stack again for every stanza it reads.
			err := c.waitGrace()
			if err == nil {
				continue
			}
			if err != errGraceOver {
				return err
			}
			c.dropDecoder()
			if err := c.park(ctx); err != nil {
				if !isNoPoller(err) {
					return err
				}
				c.parkOnGoroutine(ctx)
			}
			return errParked
		}
		el, err := c.next()
		if err != nil {
			return err
		}
		if err := c.stanza(ctx, el); err != nil {
			return err
		}
	}
}

// decoderIdle reports whether the XML decoder consumed exactly what the
// guard handed out, so that it holds no byte of its own.
func (c *conn) decoderIdle() bool {
	g := c.guard
	return uint64(c.dec.InputOffset()-c.decOff) == g.Total-uint64(g.Buffered())-g.Skipped
}

// setReadDeadline sets the idle read deadline (bind, onTimeout).
func (c *conn) setReadDeadline(t time.Time) {
	c.deadline = t
	c.raw.SetReadDeadline(t)
}

// waitGrace reads what there is without blocking (from TLS's buffered
// records or the socket) and, if that is nothing, waits for input for up
// to parkGrace with the socket's one deadline timer moved forward and
// back. nil: the guard has input (or an error) to hand out; errGraceOver:
// the grace (or the idle deadline) passed with nothing read.
//
// The read is made from inside the poller's callback, after it armed
// the readiness wait, so that no extra syscall is needed to learn that
// the socket is empty before waiting.
func (c *conn) waitGrace() error {
	g := time.Now().Add(c.s.parkGrace)
	c.polled = false
	var err error
	if c.s.parkGrace > 0 && !g.After(c.deadline) {
		c.raw.SetReadDeadline(g)
		err = c.raw.sc.Read(c.pollFn)
		c.raw.SetReadDeadline(c.deadline)
	}
	if !c.polled {
		// The wait never started: still make sure nothing is buffered
		// before parking.
		c.raw.nonblock = true
		ready := c.guard.Poll()
		c.raw.nonblock = false
		if ready {
			return nil
		}
		return errGraceOver
	}
	if err != nil && isTimeout(err) {
		return errGraceOver
	}
	return err
}

// pollFD is the poller's callback for waitGrace: one non-blocking read
// through TLS into the guard; false (nothing yet) makes the poller wait.
func (c *conn) pollFD(fd uintptr) bool {
	c.polled = true
	c.raw.nonblock, c.raw.inFD, c.raw.fd = true, true, fd
	ready := c.guard.Poll()
	c.raw.nonblock, c.raw.inFD = false, false
	return ready
}
