package appliance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/admin"
	"github.com/chatsecure/box/updates/source"
)

// Where bundles from USB sticks and the feed wait to be applied.
const (
	dirOffers      = "offers"
	dirFeed        = "feed"
	usbPollEvery   = 2 * time.Second
	feedHeaderWait = 30 * time.Second
)

// updateCenter is the box's one place for applying updates: boxctl's
// admin API, the console, USB sticks and the feed all go through its
// tracker (one apply at a time, one progress), and USB and the feed leave
// what they find in its offers.
type updateCenter struct {
	s       *System
	u       *updates.Updater
	staging *source.Staging
	tracker *admin.Tracker
	offers  source.Offers
	feed    *source.Feed // nil when no feed is set

	mu     sync.Mutex
	feedSt source.FeedStatus
	usbErr string // the last problem with a stick, for the console
	logged int64  // last download progress logged, in tenths

	// Applies the console started outlive their request; shutdown and
	// factory reset cancel them and wait (applies.go).
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bg       sync.WaitGroup
	stopped  bool // under mu: no more background applies
}

// newUpdateCenter makes the center and the admin handler on it.
func (s *System) newUpdateCenter(u *updates.Updater, staging *source.Staging) (*updateCenter, services.AdminHandler) {
	c := &updateCenter{s: s, u: u, staging: staging}
	c.bgCtx, c.bgCancel = context.WithCancel(context.Background())
	c.tracker = &admin.Tracker{Updater: u, Applying: s.applying}
	// Offers live in memory: copies left by an earlier run are stale.
	os.RemoveAll(s.path(dirOffers))
	if url := s.cfg.Updates.FeedURL; url != "" {
		client, err := s.feedClient()
		if err != nil {
			s.log.Error("updates: feed disabled", "err", err)
		} else {
			c.feed = &source.Feed{URL: url, Channel: s.cfg.Updates.Channel, Target: target(), Dir: s.path(dirFeed),
				Client: client, LoopbackHTTP: s.cfg.Dev, Progress: c.feedProgress, Checked: c.feedChecked}
			c.feedSt = source.FeedStatus{URL: url, Channel: s.cfg.Updates.Channel}
		}
	}
	s.updCenter = c
	return c, &admin.Handler{Updater: u, Staging: staging, Tracker: c.tracker, Sources: c}
}

// feedClient trusts the system's CAs plus updates.feed_ca_file.
func (s *System) feedClient() (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if f := s.cfg.Updates.FeedCAFile; f != "" {
		if !filepath.IsAbs(f) {
			f = s.path(f)
		}
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("feed_ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("feed_ca_file %s: no PEM certificates in it", f)
		}
	}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:       &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ResponseHeaderTimeout: feedHeaderWait,
		Proxy:                 http.ProxyFromEnvironment,
	}}, nil
}

// runUpdateSources runs the USB watcher and the feed with the services
// (ctx ends when they stop). s.mu held.
func (s *System) runUpdateSources(ctx context.Context) {
	c := s.updCenter
	if c == nil {
		return
	}
	if s.cfg.Updates.USB {
		m, err := source.NewMounter()
		if err != nil {
			s.log.Warn("updates: not watching for USB sticks", "err", err)
		} else {
			w := &source.USBWatcher{Sys: "/sys", Dev: "/dev", MountDir: filepath.Join(os.TempDir(), "box-usb"),
				Dir: s.path(dirOffers), Mounter: m, Current: c.current, Check: c.check,
				Offer: func(o source.Offer) { c.found(ctx, o) },
				Report: func(err error) {
					s.log.Warn("updates: usb", "err", err)
					c.mu.Lock()
					c.usbErr = err.Error()
					c.mu.Unlock()
				}}
			s.svcWG.Add(1)
			go func() {
				defer s.svcWG.Done()
				t := time.NewTicker(usbPollEvery)
				defer t.Stop()
				w.Step(ctx) // a stick already in at boot
				w.Run(ctx, t.C)
			}()
		}
	}
	if c.feed != nil {
		s.svcWG.Add(1)
		go func() {
			defer s.svcWG.Done()
			c.pollFeed(ctx, s.cfg.Updates.PollInterval.D())
		}()
	}
}

// pollFeed checks at once, then every interval.
func (c *updateCenter) pollFeed(ctx context.Context, every time.Duration) {
	ticks := make(chan time.Time, 1)
	ticks <- time.Now()
	t := time.NewTicker(every)
	defer t.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				select {
				case ticks <- now:
				default: // a check is still running
				}
			}
		}
	}()
	c.s.log.Info("updates: polling the feed", "url", c.feed.URL, "channel", c.feed.Channel, "every", every)
	c.feed.Poll(ctx, ticks, c.current, func(path string, r source.Release) {
		if err := c.check(ctx, path); err != nil {
			c.s.log.Error("updates: feed bundle refused", "version", r.Version, "err", err)
			c.setFeedErr(err)
			os.Remove(path) // the next check downloads it again, maybe fixed
			return
		}
		st, _ := os.Stat(path)
		var size int64
		if st != nil {
			size = st.Size()
		}
		c.found(ctx, source.Offer{From: "feed", Version: r.Version, Build: r.Build, Size: size,
			Found: time.Now().UTC(), Detail: r.URL, Path: path})
	}, func(err error) {
		c.s.log.Warn("updates: feed", "err", err)
		c.setFeedErr(err)
	})
}

func (c *updateCenter) setFeedErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.feedSt.LastError = err.Error()
}

func (c *updateCenter) feedChecked(r source.Release, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.feedSt.LastCheck = time.Now().UTC()
	c.feedSt.LastError = ""
	if err != nil {
		c.feedSt.LastError = err.Error()
		return
	}
	rel := r
	c.feedSt.Latest = &rel
}

// feedProgress logs a download every 10% and keeps it for status.
func (c *updateCenter) feedProgress(done, total int64) {
	c.mu.Lock()
	c.feedSt.Done, c.feedSt.Total = done, total
	tenth := done * 10 / max(total, 1)
	log := tenth != c.logged || done == total
	c.logged = tenth
	if done == total {
		c.feedSt.Done, c.feedSt.Total, c.logged = 0, 0, -1
	}
	c.mu.Unlock()
	if log {
		c.s.log.Info("updates: feed download", "done", done, "total", total, "percent", done*100/max(total, 1))
	}
}

// current is the newest build the box has or has pending: nothing at or
// below it is worth offering.
func (c *updateCenter) current() uint64 {
	st, err := c.u.Status()
	if err != nil {
		return 0
	}
	n := max(st.Running.Build, st.Floor)
	if st.Slots.Trial != "" {
		n = max(n, st.Slots.Slots[st.Slots.Trial].Build)
	}
	return n
}

// check verifies a bundle as Apply would, without writing.
func (c *updateCenter) check(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	_, err = c.u.Verify(ctx, f, st.Size(), nil)
	return err
}

// usbProblem is the last thing that went wrong with a USB stick.
func (c *updateCenter) usbProblem() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.usbErr
}

// found records an offer, or applies it when the box is set to.
func (c *updateCenter) found(ctx context.Context, o source.Offer) {
	o = c.offers.Put(o)
	if o.From == "usb" {
		c.mu.Lock()
		c.usbErr = "" // this stick worked; an older problem is news no more
		c.mu.Unlock()
	}
	c.s.log.Info("updates: verified bundle available", "from", o.From, "version", o.Version, "build", o.Build, "id", o.ID)
	c.audit(o.From, "local", "update-available", fmt.Sprintf("%s (build %d) from %s %s", o.Version, o.Build, o.From, o.Detail))
	if !c.s.cfg.Updates.AutoApply {
		return
	}
	if err := c.tracker.Start(o.From); err != nil {
		c.s.log.Warn("updates: auto-apply deferred", "err", err)
		return
	}
	c.finish(ctx, o.Path, o.Build, o.From, "local")
}

// finish runs an apply claimed with tracker.Start and records it (audit,
// offers at or below the new build dropped) before the outcome shows.
func (c *updateCenter) finish(ctx context.Context, path string, build uint64, who, origin string) (updates.Result, error) {
	return c.tracker.Run(ctx, path, func(res updates.Result, err error) {
		if err != nil {
			c.s.log.Error("updates: apply refused", "from", who, "err", err)
			c.audit(who, origin, "update-refused", err.Error())
			return
		}
		c.s.log.Info("updates: applied; runs on trial after the next reboot", "version", res.To.Version, "slot", res.Slot)
		c.audit(who, origin, "update-applied", fmt.Sprintf("%s (build %d) to slot %s", res.To.Version, res.To.Build, res.Slot))
		c.offers.Drop(max(build, res.To.Build))
	})
}

func (c *updateCenter) audit(who, origin, action, detail string) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.store == nil {
		return
	}
	if err := c.s.Audit(context.Background(), who, origin, action, detail); err != nil {
		c.s.log.Error("updates: audit", "err", err)
	}
}

// Offers, Feed and ApplyOffer make the center admin.Sources for boxctl.
func (c *updateCenter) Offers() []source.Offer { return c.offers.List() }

func (c *updateCenter) Feed() *source.FeedStatus {
	if c.feed == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.feedSt
	return &st
}

func (c *updateCenter) ApplyOffer(ctx context.Context, id, from string) (updates.Result, error) {
	o, ok := c.offers.Get(id)
	if !ok {
		return updates.Result{}, fmt.Errorf("updates: no offer %q: %w", id, os.ErrNotExist)
	}
	if err := c.tracker.Start(from); err != nil {
		return updates.Result{}, err
	}
	return c.finish(ctx, o.Path, o.Build, from, "local")
}

// errNoUpdates is what the console gets when the updater is not there.
var errNoUpdates = errors.New("updates are unavailable on this box")
