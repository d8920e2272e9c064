package xmpp

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// rawConn is the TCP connection under the (TLS) stream. It lets a bound
// session that has nothing to read park without a deep stack or buffers:
// a non-blocking mode for one probe read through the TLS layer, and a
// wait for readability on the socket that reads nothing.
type rawConn struct {
	net.Conn
	sc syscall.RawConn // nil: parking unsupported, reads always block

	// Only the session's reader goroutine touches these.
	nonblock bool
	inFD     bool // inside a sc.Read callback: read fd directly
	fd       uintptr
	p        []byte
	n        int
	err      error
	peekBuf  [1]byte
	readFn   func(uintptr) bool // bound once: no closure per read
	peekFn   func(uintptr) bool

	// Write side. With tryWrite set, Write never blocks: what the socket
	// does not take now is kept in pending (TLS records already sealed)
	// for the writer goroutine to flush. wmu also covers the writes
	// crypto/tls makes on its own from the reading goroutine (alerts, key
	// updates).
	wmu      sync.Mutex
	tryWrite atomic.Bool
	pending  []byte
	wp       []byte
	wn       int
	werr     error
	writeFn  func(uintptr) bool

	onClose func() // after Close (park.go: wakes a parked session)
}

// errWouldBlock is what a non-blocking read returns when the socket is
// empty. crypto/tls keeps a temporary error out of its sticky state and
// whatever part of a record it already has, so the read can be retried.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "xmpp: read would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

func newRawConn(nc net.Conn) *rawConn {
	r := &rawConn{Conn: nc}
	if s, ok := nc.(syscall.Conn); ok && canPark {
		if sc, err := s.SyscallConn(); err == nil {
			r.sc = sc
			r.readFn = r.readNow
			r.peekFn = r.peekReady
			r.writeFn = r.writeNow
		}
	}
	return r
}

// Close closes the connection, then tells its owner (a parked session
// has no goroutine that a failing read would wake).
func (r *rawConn) Close() error {
	err := r.Conn.Close()
	if r.onClose != nil {
		r.onClose()
	}
	return err
}

// Read blocks unless nonblock is set.
func (r *rawConn) Read(p []byte) (int, error) {
	if !r.nonblock || r.sc == nil {
		return r.Conn.Read(p)
	}
	r.p = p
	if r.inFD {
		// Called back from inside sc.Read (session.go's pollFD): the
		// fd is ours to read directly.
		r.readNow(r.fd)
	} else if err := r.sc.Read(r.readFn); err != nil {
		r.p = nil
		return 0, err
	}
	n, err := r.n, r.err
	r.p, r.err = nil, nil
	return n, err
}

// readNow is one read(2) on the non-blocking socket; it never waits.
func (r *rawConn) readNow(fd uintptr) bool {
	n, err := syscall.Read(int(fd), r.p)
	switch {
	case err == syscall.EAGAIN:
		r.n, r.err = 0, errWouldBlock
	case err != nil:
		r.n, r.err = 0, err
	case n == 0 && len(r.p) > 0:
		r.n, r.err = 0, io.EOF
	default:
		r.n, r.err = n, nil
	}
	return true
}

// waitReadable blocks until the socket has bytes (or EOF, or an error),
// the read deadline passes, or the conn is closed. It holds no buffer.
func (r *rawConn) waitReadable() error {
	return r.sc.Read(r.peekFn)
}

// Write writes p after anything pending. Without tryWrite it blocks (up
// to the write deadline); with it, it takes p whole and keeps what the
// socket does not accept at once.
func (r *rawConn) Write(p []byte) (int, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	try := r.tryWrite.Load()
	if len(r.pending) > 0 {
		if try {
			r.pending = append(r.pending, p...)
			return len(p), nil
		}
		if err := r.flushLocked(); err != nil {
			return 0, err
		}
	}
	if !try || r.sc == nil {
		return r.Conn.Write(p)
	}
	r.wp = p
	err := r.sc.Write(r.writeFn)
	n := r.wn
	if err == nil {
		err = r.werr
	}
	r.wp, r.werr = nil, nil
	if err != nil {
		return n, err
	}
	if n < len(p) {
		r.pending = append(r.pending, p[n:]...)
	}
	return len(p), nil
}

// writeNow is one write(2) on the non-blocking socket; it never waits.
func (r *rawConn) writeNow(fd uintptr) bool {
	n, err := syscall.Write(int(fd), r.wp)
	if n < 0 {
		n = 0
	}
	r.wn = n
	if err == syscall.EAGAIN {
		err = nil
	}
	r.werr = err
	return true
}

// Flush writes what is pending, blocking.
func (r *rawConn) Flush() error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return r.flushLocked()
}

func (r *rawConn) flushLocked() error {
	if len(r.pending) == 0 {
		return nil
	}
	_, err := r.Conn.Write(r.pending)
	r.pending = nil // an idle session keeps no buffer
	return err
}

// Pending reports whether sealed bytes wait for Flush.
func (r *rawConn) Pending() bool {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return len(r.pending) > 0
}
