package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatsecure/box/services/xmpp/interop"
)

// TestSlixmppInterop: a client nobody here wrote (slixmpp, Debian
// python3-slixmpp) against a real dev-mode boxd: SCRAM login, roster,
// subscription, presence, messages to bare and full JID, carbons, blocking,
// offline delivery.
func TestSlixmppInterop(t *testing.T) {
	port := freePort(t)
	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o700)
	cfg := fmt.Sprintf(`{"xmpp": {"c2s": "127.0.0.1:%d", "c2s_tls": "127.0.0.1:0"}, "console": {"listen": "127.0.0.1:0"}}`, port)
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600)
	startBoxd(t, dir)
	for _, u := range []string{"alice", "bob"} {
		if _, e, rc := ctl(t, u+"-pass-123\n", "-data", dir, "user", "add", u+"@localhost"); rc != 0 {
			t.Fatalf("user add %s: %s", u, e)
		}
	}
	interop.Run(t, interop.Config{
		Addr:   fmt.Sprintf("127.0.0.1:%d", port),
		Domain: "localhost",
		User1:  "alice", Password1: "alice-pass-123",
		User2: "bob", Password2: "bob-pass-123",
	})
}
