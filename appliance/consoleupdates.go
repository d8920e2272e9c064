package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/source"
)

// The console's update page (console.Updates) on the update center.
var _ console.Updates = consoleBox{}

func (b consoleBox) center() (*updateCenter, error) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.s.updCenter == nil || b.s.store == nil {
		if b.s.updatesErr != nil {
			return nil, fmt.Errorf("%w: %w", errNoUpdates, b.s.updatesErr)
		}
		return nil, errNoUpdates
	}
	return b.s.updCenter, nil
}

func (b consoleBox) UpdateStatus(ctx context.Context, history int) (console.UpdateStatus, error) {
	c, err := b.center()
	if err != nil {
		return console.UpdateStatus{}, err
	}
	st, err := c.u.Status()
	if err != nil {
		return console.UpdateStatus{}, err
	}
	out := console.UpdateStatus{
		Version: st.Running.Version, Build: st.Running.Build, Booted: st.Slots.Booted, Active: st.Slots.Active,
		InTrial: st.Slots.InTrial(), Floor: st.Floor, KeySet: st.KeySet, USB: b.s.cfg.Updates.USB,
		USBProblem: c.usbProblem(),
	}
	if st.Slots.Trial != "" && !out.InTrial {
		out.Pending, out.PendingVersion = st.Slots.Trial, st.Slots.Slots[st.Slots.Trial].Version
	}
	if cur := c.tracker.Current(); cur != nil {
		out.Applying = &console.ApplyProgress{From: cur.From}
		if p := cur.Progress; p != nil {
			out.Applying.Phase, out.Applying.Done, out.Applying.Total = string(p.Phase), p.Done, p.Total
		}
	}
	if l := c.tracker.Last(); l != nil {
		out.Last = &console.ApplyOutcome{At: l.At, From: l.From, OK: l.OK, Reason: l.Reason}
		if l.Result != nil {
			out.Last.Version, out.Last.Slot = l.Result.To.Version, l.Result.Slot
		}
	}
	for _, o := range c.offers.List() {
		out.Offers = append(out.Offers, console.UpdateOffer{ID: o.ID, From: o.From, Version: o.Version, Build: o.Build, Size: o.Size, Found: o.Found, Detail: o.Detail})
	}
	if f := c.Feed(); f != nil {
		out.Feed = &console.FeedStatus{URL: f.URL, Channel: f.Channel, LastCheck: f.LastCheck, LastError: f.LastError, Done: f.Done, Total: f.Total}
		if f.Latest != nil {
			out.Feed.Latest = fmt.Sprintf("%s (build %d)", f.Latest.Version, f.Latest.Build)
		}
	}
	if history > 0 {
		if out.History, err = b.s.updateHistory(ctx, history); err != nil {
			return out, err
		}
	}
	return out, nil
}

// updateHistory reads the newest n records of update_history.
func (s *System) updateHistory(ctx context.Context, n int) ([]console.UpdateRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store == nil {
		return nil, errors.New("store is not open")
	}
	rows, err := s.store.DB().QueryContext(ctx, "SELECT record FROM update_history ORDER BY id DESC LIMIT ?", n)
	if err != nil {
		return nil, fmt.Errorf("appliance: update history: %w", err)
	}
	defer rows.Close()
	var out []console.UpdateRecord
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("appliance: update history: %w", err)
		}
		var r updates.Record
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			continue // an unreadable line must not hide the others
		}
		out = append(out, console.UpdateRecord{When: r.When, From: buildName(r.From, r.FromBuild), To: buildName(r.To, r.ToBuild), Outcome: string(r.Outcome), Why: r.Why})
	}
	return out, rows.Err()
}

func buildName(v string, build uint64) string {
	if v == "" {
		return ""
	}
	if build == 0 {
		return v
	}
	return fmt.Sprintf("%s (build %d)", v, build)
}

func upload(u source.Upload) console.Upload {
	return console.Upload{ID: u.ID, Size: u.Size, Received: u.Received}
}

func (b consoleBox) BeginUpload(ctx context.Context, size int64) (console.Upload, error) {
	c, err := b.center()
	if err != nil {
		return console.Upload{}, err
	}
	u, err := c.staging.Begin(size)
	return upload(u), err
}

func (b consoleBox) UploadStatus(ctx context.Context, id string) (console.Upload, error) {
	c, err := b.center()
	if err != nil {
		return console.Upload{}, err
	}
	u, err := c.staging.Status(id)
	return upload(u), err
}

func (b consoleBox) UploadChunk(ctx context.Context, id string, offset int64, r io.Reader) (console.Upload, error) {
	c, err := b.center()
	if err != nil {
		return console.Upload{}, err
	}
	u, err := c.staging.Write(id, offset, r)
	if errors.Is(err, source.ErrOffset) {
		err = fmt.Errorf("%w: %w", console.ErrUploadOffset, err)
	}
	return upload(u), err
}

// busy maps the tracker's refusal to the console's.
func busy(err error) error {
	if errors.Is(err, updates.ErrBusy) {
		return fmt.Errorf("%w: %w", console.ErrUpdateBusy, err)
	}
	return err
}

func (b consoleBox) ApplyUpload(ctx context.Context, id, who, origin string) error {
	c, err := b.center()
	if err != nil {
		return err
	}
	if err := c.tracker.Start("console"); err != nil {
		return busy(err)
	}
	path, err := c.staging.Finish(id)
	if err != nil {
		c.tracker.Release()
		return err
	}
	// The apply outlives the request; the page follows it by polling.
	err = c.goApply(func(ctx context.Context) {
		defer c.staging.Remove(id)
		c.finish(ctx, path, 0, who, origin)
	})
	if err != nil {
		c.tracker.Release()
	}
	return err
}

func (b consoleBox) ApplyOffer(ctx context.Context, id, who, origin string) error {
	c, err := b.center()
	if err != nil {
		return err
	}
	o, ok := c.offers.Get(id)
	if !ok {
		return fmt.Errorf("no such update on offer (it may have been applied or replaced)")
	}
	if err := c.tracker.Start("console"); err != nil {
		return busy(err)
	}
	err = c.goApply(func(ctx context.Context) { c.finish(ctx, o.Path, o.Build, who, origin) })
	if err != nil {
		c.tracker.Release()
	}
	return err
}
