package backoff

import (
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestBackoff(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Policy{Free: 2, Base: time.Second, Max: 8 * time.Second, Clock: c.now})
	l.Fail("a")
	l.Fail("a")
	if w := l.Wait("a"); w != 0 {
		t.Fatalf("free failures wait %v", w)
	}
	want := []time.Duration{1, 2, 4, 8, 8}
	for _, w := range want {
		l.Fail("a")
		if got := l.Wait("a"); got != w*time.Second {
			t.Fatalf("wait %v, want %v", got, w*time.Second)
		}
	}
	if l.Wait("b") != 0 {
		t.Fatal("other key affected")
	}
	c.t = c.t.Add(8 * time.Second)
	if w := l.Wait("a"); w != 0 {
		t.Fatalf("still waiting %v after the wait", w)
	}
	l.Succeed("a")
	l.Fail("a")
	if l.Wait("a") != 0 {
		t.Fatal("success did not clear")
	}
}

func TestBackoffBoundedKeys(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := New(Policy{Keys: 10, Clock: c.now})
	for i := 0; i < 1000; i++ {
		l.Fail(string(rune('a' + i)))
	}
	if len(l.m) > 10 {
		t.Fatalf("%d keys kept", len(l.m))
	}
}
