package xmpp

import (
	"errors"
	"net"
	"sync"

	"github.com/chatsecure/box/services/xmpp/elem"
)

// maxQueued bounds what may wait for one session's socket; a client that
// lets more pile up is not reading and is dropped.
const maxQueued = 1 << 20

var errSlowReader = errors.New("xmpp: session not reading its stream")

type outBuf struct {
	b  []byte
	bp *[]byte // pooled backing, or nil
}

var writePool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func release(o outBuf) {
	if o.bp != nil && cap(o.b) <= 64<<10 {
		*o.bp = o.b[:0]
		writePool.Put(o.bp)
	}
}

// Send implements router.Sender. When no write is under way it seals and
// writes the stanza at once on the caller's goroutine, without blocking:
// what the socket does not take is flushed by a writer goroutine. Else it
// queues behind the write under way. So the sender (often another user's
// session) never waits on this socket, a delivery costs no goroutine
// hand-off, and bursts leave in one write.
func (c *conn) Send(st *elem.Element) error {
	bp := writePool.Get().(*[]byte)
	b := st.Append((*bp)[:0], elem.NSClient)
	return c.enqueue(outBuf{b, bp}, false)
}

// enqueue adds o; final marks the last bytes of the stream, after which
// the writer closes the connection.
func (c *conn) enqueue(o outBuf, final bool) error {
	c.qmu.Lock()
	if c.closing {
		c.qmu.Unlock()
		release(o)
		return net.ErrClosed
	}
	if !final && c.queued+len(o.b) > maxQueued {
		c.closing = true
		c.qmu.Unlock()
		release(o)
		c.s.log.Debug("xmpp: dropping a session that does not read", "ip", c.ip, "user", c.user)
		c.raw.Close()
		return errSlowReader
	}
	if !c.writing && !final {
		// Nothing under way: write it now. Sends that come meanwhile
		// queue behind it.
		c.writing = true
		c.qmu.Unlock()
		c.wmu.Lock()
		c.raw.tryWrite.Store(true)
		err := c.writeLocked(o.b)
		c.raw.tryWrite.Store(false)
		pending := c.raw.Pending()
		c.wmu.Unlock()
		release(o)
		c.qmu.Lock()
		if err != nil {
			c.closing = true
		}
		start := len(c.q) > 0 || pending
		if start {
			c.writers.Add(1)
		} else {
			c.writing = false
		}
		c.qmu.Unlock()
		if start {
			go c.writer()
		}
		return err
	}
	c.q = append(c.q, o)
	c.queued += len(o.b)
	if final {
		c.closing = true
	}
	start := !c.writing
	if start {
		c.writing = true
		c.writers.Add(1)
	}
	c.qmu.Unlock()
	if start {
		go c.writer()
	}
	return nil
}

// writer drains the queue, a batch per write, and exits when it is
// empty; after the final bytes it closes the connection.
func (c *conn) writer() {
	defer c.writers.Done()
	var failed bool
	for {
		c.qmu.Lock()
		q := c.q
		c.q, c.queued = nil, 0
		if len(q) == 0 {
			c.qmu.Unlock()
			// What a non-blocking write left over goes out first.
			c.wmu.Lock()
			if c.raw.Pending() && !failed {
				if err := c.flushLocked(); err != nil {
					failed = true
				}
			}
			c.wmu.Unlock()
			c.qmu.Lock()
			if len(c.q) > 0 {
				c.qmu.Unlock()
				continue
			}
			c.writing = false
			closing := c.closing
			c.qmu.Unlock()
			if closing {
				c.wmu.Lock()
				c.closed = true
				c.wmu.Unlock()
				c.raw.Close()
			}
			return
		}
		c.qmu.Unlock()
		if failed {
			for _, o := range q {
				release(o)
			}
			continue
		}
		buf := q[0].b
		var batch outBuf
		if len(q) > 1 {
			batch.bp = writePool.Get().(*[]byte)
			batch.b = (*batch.bp)[:0]
			for _, o := range q {
				batch.b = append(batch.b, o.b...)
			}
			buf = batch.b
		}
		c.wmu.Lock()
		err := c.writeLocked(buf)
		c.wmu.Unlock()
		for _, o := range q {
			release(o)
		}
		release(batch)
		if err != nil {
			// The conn is closed; drop the rest and stop taking more.
			failed = true
			c.qmu.Lock()
			c.closing = true
			c.qmu.Unlock()
		}
	}
}

// Close implements router.Sender: a stream error and the closing tag are
// queued after what is already there, then the connection is closed
// (which also stops the reader). It never waits on the socket.
func (c *conn) Close(cond, text string) {
	var b []byte
	if !c.opened.Load() {
		b = c.header(b, "")
	}
	b = append(b, "<stream:error><"+cond+" xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"...)
	if text != "" {
		t := elem.New(elem.NSStreams, "text").AddText(text)
		b = t.Append(b, "")
	}
	b = append(b, "</stream:error></stream:stream>"...)
	c.enqueue(outBuf{b: b}, true)
}

// closeStream ends the stream without an error.
func (c *conn) closeStream() {
	var b []byte
	if c.opened.Load() {
		b = []byte("</stream:stream>")
	}
	if c.enqueue(outBuf{b: b}, true) != nil {
		return
	}
}
