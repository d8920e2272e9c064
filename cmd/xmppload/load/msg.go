package load

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// msgWindow is the measurement window, in nanoseconds since the run's epoch.
type msgWindow struct {
	epoch      time.Time
	start, end int64
}

func (w *msgWindow) now() int64 { return int64(time.Since(w.epoch)) }

// in says whether a send time counts: sender and receiver must agree, or a
// late send would count as lost.
func (w *msgWindow) in(t int64) bool { return t >= w.start && t < w.end }

// msgPeer is one client of a pair with what its reader records.
type msgPeer struct {
	conn *Conn
	to   string // the partner's address (full or bare JID)
	sent int64  // messages sent with a send time inside the window
	lat  []time.Duration
	// got counts messages sent inside the window and received at all;
	// gotIn those received inside the window, for throughput.
	got, gotIn int64
	errs       int64
}

// runMsg logs o.clients clients in, pairs them (0↔1, 2↔3, ...) and has each
// send o.msgRate messages per second to its partner, open loop; latency is
// measured from the send time carried in the body.
func runMsg(ctx context.Context, o *options) (*Result, error) {
	if o.clients < 2 || o.clients%2 != 0 {
		return nil, fmt.Errorf("load: msg: -clients must be even and at least 2, got %d", o.clients)
	}
	d, err := o.dialer()
	if err != nil {
		return nil, err
	}
	peers := make([]*msgPeer, o.clients)
	var mu sync.Mutex
	var failed int
	var firstErr error
	rampLogins(ctx, d, o.account, 0, o.clients, o.rate, o.concurrency, true, func(r loginOutcome) {
		mu.Lock()
		defer mu.Unlock()
		if r.err != nil {
			failed++
			if firstErr == nil {
				firstErr = r.err
			}
			return
		}
		peers[r.i] = &msgPeer{conn: r.conn}
	})
	defer func() {
		for _, p := range peers {
			if p != nil {
				_ = p.conn.Close()
			}
		}
	}()
	if failed > 0 {
		return nil, fmt.Errorf("load: msg: %d of %d logins failed: %w", failed, o.clients, firstErr)
	}
	for i, p := range peers {
		peer := peers[i^1].conn.JID
		if o.bare {
			peer, _, _ = strings.Cut(peer, "/")
		}
		p.to = xmlEscape(peer)
	}
	// Let presence and login traffic settle before the clock starts.
	time.Sleep(o.settle)

	w := &msgWindow{epoch: time.Now()}
	w.start = int64(o.warmup)
	w.end = w.start + int64(o.duration)
	var readers, senders sync.WaitGroup
	for _, p := range peers {
		readers.Add(1)
		go func() { defer readers.Done(); p.read(w) }()
	}
	interval := time.Duration(float64(time.Second) / o.msgRate)
	var cpu0 time.Duration
	var srv0 ProcSample
	var sampled sync.Once
	startWindow := func() {
		cpu0 = selfCPU()
		srv0, _ = o.sample()
	}
	time.AfterFunc(time.Until(w.epoch.Add(o.warmup)), func() { sampled.Do(startWindow) })
	for _, p := range peers {
		senders.Add(1)
		go func() { defer senders.Done(); p.send(ctx, w, interval) }()
	}
	senders.Wait()
	// The window ended when the last send was due; sample now, before the
	// drain, so CPU matches the window's deliveries.
	sampled.Do(startWindow)
	cpu1 := selfCPU()
	srv1, _ := o.sample()
	windowSec := o.duration.Seconds()

	// Wait for stragglers, bounded.
	deadline := time.Now().Add(o.drain)
	for time.Now().Before(deadline) {
		var sent, got int64
		for _, p := range peers {
			sent += atomic.LoadInt64(&p.sent)
			got += atomic.LoadInt64(&p.got)
		}
		if got >= sent {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range peers {
		_ = p.conn.SetReadDeadline(time.Now())
	}
	readers.Wait()

	res := &Result{Mode: "msg", Clients: o.clients, OfferedPerSec: float64(o.clients) * o.msgRate}
	var lat []time.Duration
	var sent, got, gotIn, errs int64
	for _, p := range peers {
		sent += p.sent
		got += p.got
		gotIn += p.gotIn
		errs += p.errs
		lat = append(lat, p.lat...)
	}
	res.Sent, res.Delivered, res.Lost = int(sent), int(got), int(sent-got)
	res.DeliveredPerSec = float64(gotIn) / windowSec
	res.Latency = summarize(lat)
	res.ToolCPUSec = (cpu1 - cpu0).Seconds()
	res.WallSec = windowSec
	if o.prober != nil && gotIn > 0 {
		res.ServerCPUSec = (srv1.CPU - srv0.CPU).Seconds()
		res.CPUPerMsgUs = float64(srv1.CPU-srv0.CPU) / float64(time.Microsecond) / float64(gotIn)
	}
	fmt.Fprintf(o.out, "msg: %d clients × %.1f msg/s = %.0f msg/s offered for %s: sent %d, delivered %d (%.1f msg/s), lost %d, errors %d\n",
		o.clients, o.msgRate, res.OfferedPerSec, o.duration, sent, got, res.DeliveredPerSec, res.Lost, errs)
	fmt.Fprintf(o.out, "msg: latency p50 %.3f ms p99 %.3f ms max %.3f ms; tool CPU %.2f s (%.0f%% of a core)",
		res.Latency.P50, res.Latency.P99, res.Latency.Max, res.ToolCPUSec, 100*res.ToolCPUSec/windowSec)
	if o.prober != nil {
		fmt.Fprintf(o.out, "; server CPU %.2f s = %.1f µs per delivered message", res.ServerCPUSec, res.CPUPerMsgUs)
	}
	fmt.Fprintln(o.out)
	if errs > 0 {
		return res, fmt.Errorf("load: msg: %d error stanzas received", errs)
	}
	return res, nil
}

// send runs the open-loop schedule: a random phase, then one message per
// interval until the window ends; a late sender catches up rather than
// lowering the offered load.
func (p *msgPeer) send(ctx context.Context, w *msgWindow, interval time.Duration) {
	next := rand.Int64N(int64(interval))
	var seq int
	var b strings.Builder
	for next < w.end && ctx.Err() == nil {
		if d := next - w.now(); d > 0 {
			time.Sleep(time.Duration(d))
		}
		t := w.now()
		seq++
		b.Reset()
		b.WriteString("<message type='chat' to='")
		b.WriteString(p.to)
		b.WriteString("' id='m")
		b.WriteString(strconv.Itoa(seq))
		b.WriteString("'><body>")
		b.WriteString(strconv.FormatInt(t, 10))
		b.WriteString("</body></message>")
		if err := p.conn.Send(b.String()); err != nil {
			return
		}
		if w.in(t) {
			atomic.AddInt64(&p.sent, 1)
		}
		next += int64(interval)
	}
}

// read records latency for every message whose send time lies in the window.
func (p *msgPeer) read(w *msgWindow) {
	for {
		r, err := p.conn.ReadRaw()
		if err != nil {
			return
		}
		if r.name() != "message" {
			continue
		}
		if string(r.topAttr("type")) == "error" {
			atomic.AddInt64(&p.errs, 1)
			continue
		}
		body := r.childText("body")
		if body == nil {
			continue
		}
		t, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil || !w.in(t) {
			continue
		}
		now := w.now()
		p.lat = append(p.lat, time.Duration(now-t))
		atomic.AddInt64(&p.got, 1)
		if now < w.end {
			atomic.AddInt64(&p.gotIn, 1)
		}
	}
}
