package gpio

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// ButtonOptions configures a Button or FakeButton. OnEvent is required.
type ButtonOptions struct {
	// OnEvent gets every event, in order, one call at a time. It runs on a
	// clock or edge goroutine: return quickly and hand real work (a reboot,
	// an erase) to another goroutine.
	OnEvent func(Event)
	Clock   Clock
	Logger  *slog.Logger
	// Timing defaults to DefaultTiming.
	Timing *Timing
	// PollInterval is used when the pin cannot report edges; default 10 ms.
	PollInterval time.Duration
	// NoEdges forces polling even if the pin supports edge detection.
	NoEdges bool
}

// DefaultPollInterval is well under the debounce time, so polling sees every
// press that debouncing would accept.
const DefaultPollInterval = 10 * time.Millisecond

// edgeWait bounds one WaitForEdge so the edge goroutine notices Close even on
// pins whose Halt cannot interrupt the wait. Timing never depends on it: every
// deadline is a clock timer.
const edgeWait = time.Second

// sampler owns a Machine and feeds it samples of read() from edges, polls and
// deadlines; Button and FakeButton both sit on it.
type sampler struct {
	clk     Clock
	read    func() bool // true = pressed
	onEvent func(Event)
	log     *slog.Logger
	poll    time.Duration // > 0: sample every poll; 0: only on edges and deadlines
	debnc   time.Duration

	mu      sync.Mutex
	m       *Machine
	timer   Timer
	closed  bool
	pressed atomic.Bool // m.Pressed(), readable from OnEvent without mu

	deliver sync.Mutex // keeps OnEvent calls in order without holding mu
}

func newSampler(o ButtonOptions, read func() bool) (*sampler, error) {
	if o.OnEvent == nil {
		return nil, fmt.Errorf("gpio: button: OnEvent is required")
	}
	tm := DefaultTiming
	if o.Timing != nil {
		tm = *o.Timing
	}
	s := &sampler{clk: clockOrSystem(o.Clock), read: read, onEvent: o.OnEvent, log: o.Logger, debnc: tm.Debounce}
	m, err := NewMachine(tm, s.clk.Now(), read())
	if err != nil {
		return nil, err
	}
	s.m = m
	s.pressed.Store(m.Pressed())
	return s, nil
}

// sample feeds the current level to the machine, delivers events and arms
// the next timer. edge says the level may just have changed: then the level
// is read again after Debounce even if edges go missing (the kernel may
// coalesce them), so the final level is never left unseen.
func (s *sampler) sample(edge bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	now := s.clk.Now()
	evs := s.m.Update(now, s.read())
	s.pressed.Store(s.m.Pressed())
	s.schedule(now, edge)
	s.deliver.Lock()
	s.mu.Unlock()
	defer s.deliver.Unlock()
	for _, ev := range evs {
		if s.log != nil {
			attrs := []any{"event", string(ev.Kind), "held", ev.Held.String()}
			if ev.Reason != "" {
				attrs = append(attrs, "reason", ev.Reason)
			}
			s.log.Info("button: event", attrs...)
		}
		s.onEvent(ev)
	}
}

// schedule arms the one pending timer. Callers hold s.mu.
func (s *sampler) schedule(now time.Time, edge bool) {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	var wait time.Duration
	switch {
	case s.poll > 0:
		wait = s.poll
	default:
		dl, ok := s.m.Deadline()
		if edge && (!ok || dl.After(now.Add(s.debnc))) {
			dl, ok = now.Add(s.debnc), true
		}
		if !ok {
			return
		}
		wait = max(dl.Sub(now), 0)
	}
	s.timer = s.clk.AfterFunc(wait, func() { s.sample(false) })
}

// close stops sampling and waits for a delivery in progress, so no OnEvent
// call happens after it returns. Not to be called from OnEvent.
func (s *sampler) close() {
	s.mu.Lock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	s.deliver.Lock()
	s.deliver.Unlock() //nolint:staticcheck // empty section: waits out a delivery
}

// Button reads a push button wired between a pin and ground, with the pin's
// pull-up on: pressed reads low.
type Button struct {
	pin   gpio.PinIn
	s     *sampler
	edges bool
	stop  chan struct{}
	once  sync.Once
}

// NewButton configures pin as a pulled-up input and starts watching it: by
// edge detection when the pin supports it, else by polling.
func NewButton(pin gpio.PinIn, o ButtonOptions) (*Button, error) {
	if pin == nil {
		return nil, fmt.Errorf("gpio: new button: no pin")
	}
	b := &Button{pin: pin, stop: make(chan struct{})}
	if !o.NoEdges {
		b.edges = pin.In(gpio.PullUp, gpio.BothEdges) == nil
	}
	if !b.edges {
		if err := pin.In(gpio.PullUp, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("gpio: button pin %s: set as pulled-up input: %w", pin.Name(), err)
		}
		o.PollInterval = orDefault(o.PollInterval, DefaultPollInterval)
	}
	s, err := newSampler(o, func() bool { return pin.Read() == gpio.Low })
	if err != nil {
		return nil, fmt.Errorf("gpio: button pin %s: %w", pin.Name(), err)
	}
	if !b.edges {
		s.poll = o.PollInterval
	}
	b.s = s
	if o.Logger != nil {
		mode := "polling every " + o.PollInterval.String()
		if b.edges {
			mode = "edge detection"
		}
		o.Logger.Info("button: watching", "pin", pin.Name(), "mode", mode)
	}
	s.mu.Lock()
	s.schedule(s.clk.Now(), false)
	s.mu.Unlock()
	if b.edges {
		go b.watchEdges()
	}
	return b, nil
}

func orDefault(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// UsesEdges reports whether the button is watched by edge detection (true)
// or polling (false).
func (b *Button) UsesEdges() bool { return b.edges }

// Pressed is the debounced level of the button. Safe to call from OnEvent.
func (b *Button) Pressed() bool { return b.s.pressed.Load() }

func (b *Button) watchEdges() {
	for {
		got := b.pin.WaitForEdge(edgeWait)
		select {
		case <-b.stop:
			return
		default:
		}
		if got {
			b.s.sample(true)
		}
	}
}

// Close stops watching; no event is delivered after it returns. Do not call
// it from OnEvent.
func (b *Button) Close() error {
	b.once.Do(func() {
		close(b.stop)
		b.s.close()
		// Halt interrupts a pending WaitForEdge on /dev/gpiochip lines.
		_ = b.pin.Halt()
	})
	return nil
}
