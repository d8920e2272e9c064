package appliance

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// blockingApply starts a background apply on c that runs until its
// context is cancelled and then audits, as a real apply's end does (under
// s.mu). It returns a channel closed when it has ended.
func blockingApply(t *testing.T, c *updateCenter) <-chan struct{} {
	t.Helper()
	started, ended := make(chan struct{}), make(chan struct{})
	err := c.goApply(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		c.audit("ada", "test", "update-refused", ctx.Err().Error())
		close(ended)
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	return ended
}

func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return (deadlock?)", what)
	}
}

// TestFactoryResetStopsConsoleApply: a reset cancels an apply the console
// started and waits for it to end before erasing; the new center takes
// applies again, the old one refuses them.
func TestFactoryResetStopsConsoleApply(t *testing.T) {
	b := start(t, filepath.Join(t.TempDir(), "data"), newFakeSealer(), nil)
	cb := consoleBox{b.sys}
	old, err := cb.center()
	if err != nil {
		t.Fatal(err)
	}
	ended := blockingApply(t, old)
	within(t, "FactoryReset", func() {
		if err := b.sys.FactoryReset(context.Background(), "ada", "test"); err != nil {
			t.Error(err)
		}
	})
	select {
	case <-ended:
	default:
		t.Fatal("the reset returned while the apply still ran")
	}
	if err := old.goApply(func(context.Context) {}); !errors.Is(err, errShuttingDown) {
		t.Fatalf("old center after the reset: %v", err)
	}
	cur, err := cb.center()
	if err != nil {
		t.Fatal(err)
	}
	if cur == old {
		t.Fatal("the reset kept the old update center")
	}
	ran := make(chan struct{})
	if err := cur.goApply(func(context.Context) { close(ran) }); err != nil {
		t.Fatalf("new center: %v", err)
	}
	<-ran
}

// TestShutdownStopsConsoleApply: boxd's Run returns only after a console
// apply under way has been cancelled and has ended.
func TestShutdownStopsConsoleApply(t *testing.T) {
	b := start(t, filepath.Join(t.TempDir(), "data"), newFakeSealer(), nil)
	c, err := consoleBox{b.sys}.center()
	if err != nil {
		t.Fatal(err)
	}
	ended := blockingApply(t, c)
	within(t, "Run's shutdown", b.stop)
	select {
	case <-ended:
	default:
		t.Fatal("Run returned while the apply still ran")
	}
}
