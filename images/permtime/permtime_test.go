package permtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chatsecure/box/images/permtime"
	"github.com/chatsecure/box/images/permtime/permtimetest"
)

var t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func TestRestoreMovesClockForward(t *testing.T) {
	c := &permtimetest.Clock{T: time.Date(1970, 1, 1, 0, 0, 12, 0, time.UTC)} // Pi after power-on
	s := &permtimetest.Store{T: t0}
	moved, err := permtime.Restore(c, s)
	if err != nil || !moved {
		t.Fatalf("Restore = %v, %v; want moved", moved, err)
	}
	if !c.Now().Equal(t0) {
		t.Errorf("clock %s, want %s", c.Now(), t0)
	}
}

func TestRestoreNeverMovesBack(t *testing.T) {
	later := t0.Add(time.Hour)
	c := &permtimetest.Clock{T: later} // NTP or an RTC already set it
	moved, err := permtime.Restore(c, &permtimetest.Store{T: t0})
	if err != nil || moved || !c.Now().Equal(later) || c.Sets != 0 {
		t.Errorf("Restore = %v, %v, clock %s, %d sets; want untouched", moved, err, c.Now(), c.Sets)
	}
}

func TestRestoreFirstBootAndErrors(t *testing.T) {
	c := &permtimetest.Clock{T: t0}
	if moved, err := permtime.Restore(c, &permtimetest.Store{}); moved || err != nil {
		t.Errorf("first boot: %v, %v; want nothing to do", moved, err)
	}
	boom := errors.New("boom")
	if _, err := permtime.Restore(c, &permtimetest.Store{LoadErr: boom}); !errors.Is(err, boom) {
		t.Errorf("load error: %v", err)
	}
	c = &permtimetest.Clock{SetErr: boom}
	if _, err := permtime.Restore(c, &permtimetest.Store{T: t0}); !errors.Is(err, boom) {
		t.Errorf("set error: %v", err)
	}
}

func TestSaveNeverLowersTheFloor(t *testing.T) {
	c := &permtimetest.Clock{T: t0}
	s := &permtimetest.Store{}
	if err := permtime.Save(c, s); err != nil {
		t.Fatal(err)
	}
	c.T = t0.Add(-time.Hour) // someone set the clock back
	if err := permtime.Save(c, s); err != nil {
		t.Fatal(err)
	}
	if got, n := s.Get(); !got.Equal(t0) || n != 1 {
		t.Errorf("stored %s after %d saves; want %s after 1", got, n, t0)
	}
	c.T = t0.Add(time.Minute)
	if err := permtime.Save(c, s); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("stored %s, want the later time", got)
	}
}

func TestKeepSavesOnTicksAndAtEnd(t *testing.T) {
	c := &permtimetest.Clock{T: t0}
	s := &permtimetest.Store{}
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- permtime.Keep(ctx, c, s, tick) }()
	for i := 1; i <= 3; i++ {
		c.Advance(time.Minute)
		tick <- time.Time{}
		for _, n := s.Get(); n < i; _, n = s.Get() {
			runtime.Gosched() // wait for Keep to finish this tick's save
		}
	}
	c.Advance(time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, n := s.Get(); n != 4 || !got.Equal(t0.Add(3*time.Minute+time.Second)) {
		t.Errorf("stored %s after %d saves; want the final time after 4", got, n)
	}
}

func TestKeepReportsSaveErrors(t *testing.T) {
	boom := errors.New("disk full")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := permtime.Keep(ctx, &permtimetest.Clock{T: t0}, &permtimetest.Store{SaveErr: boom}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("Keep = %v, want %v", err, boom)
	}
}

func TestFileStore(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lasttime")
	s := permtime.FileStore{Path: p}
	if _, err := s.Load(); !errors.Is(err, permtime.ErrNoTime) {
		t.Fatalf("empty store: %v, want ErrNoTime", err)
	}
	want := t0.Add(1234567 * time.Nanosecond)
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || !got.Equal(want) {
		t.Fatalf("Load = %s, %v; want %s", got, err, want)
	}
	for _, bad := range []string{"", "yesterday\n", "1999-01-01T00:00:00Z\n"} {
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(); err == nil || errors.Is(err, permtime.ErrNoTime) {
			t.Errorf("Load of %q: %v; want a parse error", bad, err)
		}
	}
	// A restore through the real file store and a fake clock.
	if err := os.WriteFile(p, permtime.FormatStamp(want), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &permtimetest.Clock{T: time.Unix(5, 0)}
	if moved, err := permtime.Restore(c, s); err != nil || !moved || !c.Now().Equal(want) {
		t.Errorf("Restore from file: %v, %v, clock %s", moved, err, c.Now())
	}
}

func FuzzParseStamp(f *testing.F) {
	f.Add([]byte("2026-11-26T08:00:00.123456789Z\n"))
	f.Add([]byte("2026-11-26T08:00:00+02:00"))
	f.Add([]byte("0000-00-00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tm, err := permtime.ParseStamp(b)
		if err != nil {
			return
		}
		back, err := permtime.ParseStamp(permtime.FormatStamp(tm))
		if err != nil || !back.Equal(tm) {
			t.Fatalf("round trip of %q: %s, %v", b, back, err)
		}
	})
}
