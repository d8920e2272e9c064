package xmpp

import (
	"os"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
)

func TestDevServer(t *testing.T) {
	if os.Getenv("XMPP_DEV") == "" {
		t.Skip()
	}
	startServer(t, func(c *config.XMPP) { c.C2S, c.C2STLS = "127.0.0.1:15222", "127.0.0.1:15223" })
	time.Sleep(60 * time.Second)
}
