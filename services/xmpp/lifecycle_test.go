package xmpp

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services/store/storetest"
)

// TestShutdownAndHealth: Health follows Run; cancelling Run ends every
// stream with system-shutdown and Run returns nil.
func TestShutdownAndHealth(t *testing.T) {
	cfg := config.Dev().XMPP
	cfg.C2S, cfg.C2STLS = "127.0.0.1:0", ""
	s, err := New(cfg, storetest.Open(t), &tls.Config{Certificates: []tls.Certificate{testCert(t)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := s.Health(); h.OK {
		t.Fatalf("healthy before Run: %+v", h)
	}
	s.acc.Create(context.Background(), "alice", "pencil")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for len(s.Addrs()) == 0 {
		select {
		case err := <-done:
			t.Fatal(err)
		case <-time.After(time.Millisecond):
		}
	}
	ts := &testServer{Server: s, c2s: s.Addrs()[0].String()}
	c := login(t, ts, "alice", "x")
	if h := s.Health(); !h.OK || h.Detail != "1 sessions on localhost" {
		t.Fatalf("health %+v", h)
	}
	cancel()
	if cond := c.expectStreamError(); cond != "system-shutdown" {
		t.Fatalf("got %s", cond)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if h := s.Health(); h.OK {
		t.Fatalf("healthy after Run: %+v", h)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	st := storetest.Open(t)
	cfg := config.Dev().XMPP
	if _, err := New(cfg, st, nil, nil); err == nil {
		t.Fatal("accepted no certificate")
	}
	cfg.Domain = ""
	if _, err := New(cfg, st, &tls.Config{Certificates: []tls.Certificate{testCert(t)}}, nil); err == nil {
		t.Fatal("accepted no domain")
	}
}
