package load

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// loginOutcome is one scheduled login.
type loginOutcome struct {
	i    int
	conn *Conn
	took time.Duration
	err  error
}

// rampLogins starts n logins at the offered rate (per second; <= 0 means all
// at once) for accounts first..first+n-1 and calls done for each as it ends,
// from the login's own goroutine. inflight > 0 caps the logins under way
// (a closed loop, for ramps that only set up what is measured next); 0 keeps
// the loop open, as a logins/s measurement needs. It returns when all have
// ended.
func rampLogins(ctx context.Context, d *Dialer, acct func(int) Account, from, n int, rate float64,
	inflight int, presence bool, done func(loginOutcome)) {
	var wg sync.WaitGroup
	var sem chan struct{}
	if inflight > 0 {
		sem = make(chan struct{}, inflight)
	}
	start := time.Now()
	for k := 0; k < n; k++ {
		if sem != nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
		}
		if rate > 0 {
			due := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
			if w := time.Until(due); w > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(w):
				}
			}
		}
		i := from + k
		if ctx.Err() != nil {
			if sem != nil {
				select {
				case <-sem:
				default:
				}
			}
			done(loginOutcome{i: i, err: fmt.Errorf("login %d: not started: %w", i, ctx.Err())})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sem != nil {
				defer func() { <-sem }()
			}
			t0 := time.Now()
			c, err := d.Dial(ctx, acct(i))
			took := time.Since(t0)
			if err == nil && presence {
				if err = c.Send("<presence/>"); err != nil {
					_ = c.Close()
					c = nil
				}
			}
			done(loginOutcome{i: i, conn: c, took: took, err: err})
		}()
	}
	wg.Wait()
}

// runLogin measures logins/s: n logins offered at rate, each closed at once.
func runLogin(ctx context.Context, o *options) (*Result, error) {
	d, err := o.dialer()
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var lat []time.Duration
	var failed int
	var firstErr error
	cpu0 := selfCPU()
	srv0, _ := o.sample()
	start := time.Now()
	var last time.Time
	rampLogins(ctx, d, o.account, 0, o.n, o.rate, 0, o.presence, func(r loginOutcome) {
		now := time.Now()
		if r.conn != nil {
			_ = r.conn.Close()
		}
		mu.Lock()
		defer mu.Unlock()
		if r.err != nil {
			failed++
			if firstErr == nil {
				firstErr = r.err
			}
			return
		}
		lat = append(lat, r.took)
		if now.After(last) {
			last = now
		}
	})
	wall := time.Since(start)
	srv1, _ := o.sample()
	res := &Result{Mode: "login", Logins: len(lat), Failed: failed, Login: summarize(lat),
		ToolCPUSec: (selfCPU() - cpu0).Seconds(), WallSec: wall.Seconds()}
	if len(lat) > 0 {
		res.LoginsPerSec = float64(len(lat)) / last.Sub(start).Seconds()
	}
	if o.prober != nil {
		res.ServerCPUSec = (srv1.CPU - srv0.CPU).Seconds()
	}
	fmt.Fprintf(o.out, "login: %d ok, %d failed of %d offered at %.0f/s with %s: %.1f logins/s; login p50 %.2f ms p99 %.2f ms max %.2f ms\n",
		res.Logins, failed, o.n, o.rate, o.mech, res.LoginsPerSec, res.Login.P50, res.Login.P99, res.Login.Max)
	fmt.Fprintf(o.out, "login: tool CPU %.2f s over %.2f s wall", res.ToolCPUSec, wall.Seconds())
	if o.prober != nil {
		fmt.Fprintf(o.out, "; server CPU %.2f s", res.ServerCPUSec)
	}
	fmt.Fprintln(o.out)
	if firstErr != nil {
		o.log.Warn("login failures", "failed", failed, "first", firstErr)
	}
	if len(lat) == 0 {
		return res, fmt.Errorf("load: no login succeeded: %w", firstErr)
	}
	return res, nil
}

// runWarm logs every account in once, a few at a time, so that the SCRAM
// cache holds their keys before anything is measured.
func runWarm(ctx context.Context, o *options) (*Result, error) {
	d, err := o.dialer()
	if err != nil {
		return nil, err
	}
	sem := make(chan struct{}, o.concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed int
	var firstErr error
	start := time.Now()
	for i := 0; i < o.n && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := d.Dial(ctx, o.account(i))
			if err != nil {
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			_ = c.Close()
		}()
	}
	wg.Wait()
	fmt.Fprintf(o.out, "warm: %d accounts, %d failed, %.1f s; SCRAM cache holds %d keys\n",
		o.n, failed, time.Since(start).Seconds(), d.Cache.Len())
	if failed > 0 {
		return nil, fmt.Errorf("load: warm: %d of %d logins failed: %w", failed, o.n, firstErr)
	}
	return nil, nil
}
