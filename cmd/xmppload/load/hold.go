package load

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// runHold logs sessions in up to each step of o.steps, keeps them all open,
// and samples the server's RSS at each step: memory per held session.
func runHold(ctx context.Context, o *options) (*Result, error) {
	if o.prober == nil {
		return nil, fmt.Errorf("load: hold needs -pid to read the server's RSS")
	}
	d, err := o.dialer()
	if err != nil {
		return nil, err
	}
	cpu0 := selfCPU()
	start := time.Now()
	idle, err := o.prober.Sample()
	if err != nil {
		return nil, err
	}
	res := &Result{Mode: "hold", IdleRSSKiB: idle.RSSKiB}
	var mu sync.Mutex
	var conns []*Conn
	var readers sync.WaitGroup
	// A session the server drops (idle timeout, session limit, error) would
	// make the RSS per session wrong: count them and fail the step.
	var dropped atomic.Int64
	closing := make(chan struct{})
	defer func() {
		close(closing)
		for _, c := range conns {
			_ = c.Close()
		}
		readers.Wait()
	}()
	held := 0
	for _, step := range o.steps {
		var failed int
		var firstErr error
		rampLogins(ctx, d, o.account, held, step-held, o.rate, o.concurrency, o.presence, func(r loginOutcome) {
			mu.Lock()
			defer mu.Unlock()
			if r.err != nil {
				failed++
				if firstErr == nil {
					firstErr = r.err
				}
				return
			}
			conns = append(conns, r.conn)
			readers.Add(1)
			go func() {
				defer readers.Done()
				drain(r.conn)
				select {
				case <-closing:
				default:
					dropped.Add(1)
				}
			}()
		})
		if failed > 0 {
			return nil, fmt.Errorf("load: hold: %d of %d logins failed at step %d: %w", failed, step-held, step, firstErr)
		}
		held = step
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("load: hold: %w", ctx.Err())
		case <-time.After(o.settle):
		}
		if n := dropped.Load(); n > 0 {
			return nil, fmt.Errorf("load: hold: the server dropped %d of %d held sessions", n, held)
		}
		s, err := o.prober.Sample()
		if err != nil {
			return nil, err
		}
		res.Steps = append(res.Steps, HoldStep{Sessions: held, RSSKiB: s.RSSKiB})
		fmt.Fprintf(o.out, "hold: %d sessions: server RSS %.1f MiB, %.1f KiB per session over idle (%.1f MiB)\n",
			held, float64(s.RSSKiB)/1024, float64(s.RSSKiB-idle.RSSKiB)/float64(held), float64(idle.RSSKiB)/1024)
	}
	last := res.Steps[len(res.Steps)-1]
	res.KiBPerHeld = float64(last.RSSKiB-idle.RSSKiB) / float64(last.Sessions)
	if len(res.Steps) > 1 {
		prev := res.Steps[len(res.Steps)-2]
		res.KiBPerHeldSt = float64(last.RSSKiB-prev.RSSKiB) / float64(last.Sessions-prev.Sessions)
		fmt.Fprintf(o.out, "hold: %d→%d sessions: %.1f KiB per session\n", prev.Sessions, last.Sessions, res.KiBPerHeldSt)
	}
	res.ToolCPUSec = (selfCPU() - cpu0).Seconds()
	res.WallSec = time.Since(start).Seconds()
	return res, nil
}

// drain reads and drops whatever the server sends to a held session until
// the connection ends.
func drain(c *Conn) {
	for {
		if _, err := c.ReadRaw(); err != nil {
			return
		}
	}
}
