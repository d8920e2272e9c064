package xmpp

import (
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// A bound session with nothing to read parks (session.go): its socket is
// handed to the poller (poller_linux.go) and its goroutine returns. An
// event on the socket, the idle deadline (a timer) or a Close from
// another goroutine wakes it on a new goroutine (resume). Whichever of
// the three first swaps the state from parked to running wakes it; the
// others find it running and do nothing.

// Park states (conn.pstate).
const (
	stRunning int32 = iota
	stParked
)

// wakeReason says what woke a parked session (conn.pwhy).
type wakeReason uint8

const (
	wakeInput  wakeReason = iota // the socket is readable, hung up or failed
	wakeTimer                    // the idle deadline passed
	wakeClosed                   // the connection was closed
)

// park hands the session to the poller. nil: the caller's goroutine
// returns errParked and the session goes on elsewhere. An error wrapping
// errNoPoller: the caller parks the old way (a goroutine of its own);
// any other error ends the session.
func (c *conn) park(ctx context.Context) error {
	p := c.s.poller
	if p == nil {
		return errNoPoller
	}
	if c.pgen == 0 {
		c.pgen = p.newGen()
	}
	// Everything the next goroutine reads is set before the state says
	// parked: from then on the session may run elsewhere at any moment.
	c.pctx = ctx
	if c.ptimer == nil {
		c.ptimer = time.AfterFunc(time.Hour, c.onParkTimer)
		c.ptimer.Stop()
	}
	c.s.parked.Add(1)
	c.pstate.Store(stParked)
	c.ptimer.Reset(time.Until(c.deadline))
	err := p.arm(c)
	if err == nil {
		return nil
	}
	if !c.pstate.CompareAndSwap(stParked, stRunning) {
		return nil // woken meanwhile (closed, or the deadline)
	}
	c.s.parked.Add(-1)
	c.ptimer.Stop()
	return err
}

func (c *conn) onParkTimer() { c.wake(wakeTimer) }

// onClose runs after the raw connection is closed (rawConn.onClose).
func (c *conn) onClose() {
	c.s.poller.forget(c)
	c.wake(wakeClosed)
}

// wake resumes a parked session on a new goroutine.
func (c *conn) wake(why wakeReason) {
	if !c.pstate.CompareAndSwap(stParked, stRunning) {
		return
	}
	c.s.parked.Add(-1)
	c.pwhy = why
	go c.guarded(c.pctx, c.resume)
}

// resume runs on a woken session's new goroutine.
func (c *conn) resume(ctx context.Context) error {
	c.ptimer.Stop()
	switch c.pwhy {
	case wakeClosed:
		return net.ErrClosed
	case wakeTimer:
		// A timer from an earlier park can fire late: only a deadline
		// that really passed counts.
		if !time.Now().Before(c.deadline) && !c.onTimeout() {
			return os.ErrDeadlineExceeded // no answer to our ping
		}
	}
	if err := c.decoder(); err != nil {
		return err
	}
	return c.session(ctx)
}

// parkOnGoroutine is parking without the poller: a new goroutine waits
// for the socket to become readable (or the idle deadline).
func (c *conn) parkOnGoroutine(ctx context.Context) {
	c.s.parked.Add(1)
	go c.guarded(ctx, c.resumeWaiting)
}

func (c *conn) resumeWaiting(ctx context.Context) error {
	err := c.wait()
	c.s.parked.Add(-1)
	if err != nil {
		return err
	}
	if err := c.decoder(); err != nil {
		return err
	}
	return c.session(ctx)
}

func (c *conn) wait() error {
	for {
		err := c.raw.waitReadable()
		if err == nil {
			return nil
		}
		if !isTimeout(err) || !c.onTimeout() {
			return err
		}
	}
}

func isNoPoller(err error) bool { return errors.Is(err, errNoPoller) }
