package consoletest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/services/store/storetest"
)

// Cheap argon2id costs for tests (the real ones take ~100 ms and 64 MiB).
var CheapArgon2 = console.Argon2{Time: 1, MemKiB: 64, Threads: 1}

// Env is a console with fakes behind it.
type Env struct {
	Console  *console.Service
	Box      *Box
	Accounts *Accounts
	Rosters  *Rosters
}

// New builds a console on a throwaway store with fakes; mutate may change
// the options (e.g. the clock) before it is made.
func New(t testing.TB, mutate func(*console.Options)) *Env {
	t.Helper()
	opts := console.Options{
		Config:      config.Console{Listen: "127.0.0.1:0"},
		Domain:      "box.test",
		DataDir:     t.TempDir(),
		Store:       storetest.Open(t),
		Accounts:    NewAccounts(),
		Rosters:     &Rosters{},
		Argon2:      CheapArgon2,
		ThermalGlob: "/nonexistent/thermal_zone*/temp",
	}
	if mutate != nil {
		mutate(&opts)
	}
	box, err := NewBox(opts.Now)
	if err != nil {
		t.Fatal(err)
	}
	opts.Box, opts.TLS = box, box.TLSConfig()
	svc, err := console.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Console: svc, Box: box, Accounts: opts.Accounts.(*Accounts), Rosters: opts.Rosters.(*Rosters)}
}

// Start runs the console's HTTPS listener until the test ends and returns
// its base URL.
func (e *Env) Start(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Console.Run(ctx) }()
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	defer acancel()
	addr, err := e.Console.Addr(actx)
	if err != nil {
		cancel()
		t.Fatalf("console did not listen: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("console run: %v", err)
		}
	})
	return "https://" + addr.String()
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
