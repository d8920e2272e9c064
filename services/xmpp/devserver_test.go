package xmpp

import (
	"os"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
)

// TestDevServer is a tool, not a check: with XMPP_DEV=1 it serves
// alice, bob and carol (password "pencil") on 127.0.0.1:15222 (STARTTLS)
// and :15223 (direct TLS) for a minute, for trying real clients by hand
// (XMPP_DEBUG=1 logs SASL outcomes).
func TestDevServer(t *testing.T) {
	if os.Getenv("XMPP_DEV") == "" {
		t.Skip()
	}
	startServer(t, func(c *config.XMPP) { c.C2S, c.C2STLS = "127.0.0.1:15222", "127.0.0.1:15223" })
	time.Sleep(60 * time.Second)
}
