package xmpp

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
)

// poller is one epoll instance that watches the sockets of every parked
// session, so that an idle session needs no goroutine of its own (a
// goroutine costs at least a 2 KiB stack). Its one goroutine waits for
// the epoll descriptor itself through the Go runtime's poller, so it
// holds no OS thread while nothing happens.
//
// Sockets are armed one-shot: an event disarms the socket until the
// session parks again, so a running session is never woken twice. Each
// registration carries a generation with the descriptor in the event, so
// that an event for a descriptor closed meanwhile (and perhaps reused by a
// new connection) wakes nobody.
type poller struct {
	epfd int
	f    *os.File // epfd, for the runtime poller

	mu  sync.Mutex
	tab []pollEntry // by descriptor
	gen uint32
}

type pollEntry struct {
	c   *conn
	gen uint32
}

var (
	pollerOnce sync.Once
	thePoller  *poller
	pollerErr  error
)

// sharedPoller starts the process's poller on first use; nil and the
// reason if epoll cannot be used (sessions then wait on a goroutine each).
func sharedPoller() (*poller, error) {
	pollerOnce.Do(func() {
		thePoller, pollerErr = newPoller()
		if pollerErr == nil {
			go thePoller.loop()
		}
	})
	return thePoller, pollerErr
}

func newPoller() (*poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("xmpp: epoll_create1: %w", err)
	}
	// Non-blocking, so that os.NewFile hands it to the runtime poller.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("xmpp: epoll: %w", err)
	}
	return &poller{epfd: fd, f: os.NewFile(uintptr(fd), "xmpp-epoll")}, nil
}

// newGen is a registration generation; 0 is never handed out.
func (p *poller) newGen() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	if p.gen == 0 {
		p.gen++
	}
	return p.gen
}

// arm watches c's socket for one readiness event (input, hang-up or an
// error). It runs inside the socket's Control so that the descriptor
// cannot be closed (and reused) meanwhile: a closed socket gives an error
// wrapping net.ErrClosed and is not watched.
func (p *poller) arm(c *conn) error {
	var cerr error
	err := c.raw.sc.Control(func(fd uintptr) {
		p.mu.Lock()
		for int(fd) >= len(p.tab) {
			p.tab = append(p.tab, pollEntry{})
		}
		p.tab[fd] = pollEntry{c, c.pgen}
		p.mu.Unlock()
		ev := syscall.EpollEvent{
			Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
			Fd:     int32(fd),
			Pad:    int32(c.pgen),
		}
		// A socket parked before is still registered (disarmed):
		// re-arm it, which also reports input that came meanwhile.
		cerr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, int(fd), &ev)
		if cerr == syscall.ENOENT {
			cerr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
		}
	})
	if err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("%w: epoll_ctl: %w", errNoPoller, cerr)
	}
	return nil
}

// forget drops c's entry; the kernel drops the registration itself when
// the socket is closed.
func (p *poller) forget(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fd := int(c.pfd); fd >= 0 && fd < len(p.tab) && p.tab[fd].c == c {
		p.tab[fd] = pollEntry{}
	}
}

// loop hands each event to its session.
func (p *poller) loop() {
	rc, err := p.f.SyscallConn()
	if err != nil {
		panic("xmpp: epoll: " + err.Error()) // an *os.File always has one
	}
	events := make([]syscall.EpollEvent, 128)
	var n int
	var werr error
	wait := func(fd uintptr) bool {
		n, werr = syscall.EpollWait(int(fd), events, 0)
		if werr == syscall.EINTR {
			n, werr = 0, nil
		}
		return n > 0 || werr != nil
	}
	for {
		if err := rc.Read(wait); err != nil {
			panic("xmpp: epoll: " + err.Error()) // the file is never closed
		}
		if werr != nil {
			panic("xmpp: epoll_wait: " + werr.Error())
		}
		for _, ev := range events[:n] {
			fd, gen := int(ev.Fd), uint32(ev.Pad)
			p.mu.Lock()
			var c *conn
			if fd >= 0 && fd < len(p.tab) && p.tab[fd].gen == gen {
				c = p.tab[fd].c
			}
			p.mu.Unlock()
			if c != nil {
				c.wake(wakeInput)
			}
		}
	}
}

// errNoPoller: this session waits on a goroutine of its own instead.
var errNoPoller = errors.New("xmpp: no epoll")
