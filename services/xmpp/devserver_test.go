package xmpp

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
)

// TestDevServer is a tool, not a check: with XMPP_DEV=1 it serves
// alice, bob and carol (password "pencil") on 127.0.0.1:15222 (STARTTLS)
// and :15223 (direct TLS) for trying real clients and cmd/xmppload by
// hand. XMPP_DEV_USERS=N adds user1..userN (password "pass"),
// XMPP_DEV_SECONDS sets how long it runs (default 60), XMPP_DEV_PIDFILE
// gets the process id (for xmppload -pid), XMPP_DEBUG=1 logs SASL.
func TestDevServer(t *testing.T) {
	if os.Getenv("XMPP_DEV") == "" {
		t.Skip("XMPP_DEV not set")
	}
	s := startServer(t, func(c *config.XMPP) {
		c.C2S, c.C2STLS = "127.0.0.1:15222", "127.0.0.1:15223"
		c.ConnsPerIP, c.SessionsPerAccount = 100000, 100
	})
	if k, _ := strconv.Atoi(os.Getenv("XMPP_DEV_IDLECONNS")); k > 0 {
		s.db.SetMaxIdleConns(k)
	}
	n, _ := strconv.Atoi(os.Getenv("XMPP_DEV_USERS"))
	for i := 1; i <= n; i++ {
		if err := s.acc.Create(context.Background(), fmt.Sprintf("user%d", i), "pass"); err != nil {
			t.Fatal(err)
		}
	}
	if f := os.Getenv("XMPP_DEV_PIDFILE"); f != "" {
		os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o644)
	}
	secs, _ := strconv.Atoi(os.Getenv("XMPP_DEV_SECONDS"))
	if secs <= 0 {
		secs = 60
	}
	time.Sleep(time.Duration(secs) * time.Second)
}
