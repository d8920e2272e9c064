package xmpp

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/services/invites"
	"github.com/chatsecure/box/services/store/storetest"
)

// FuzzRegister feeds arbitrary stanzas to invite-only registration on an
// unauthenticated stream. "TOKEN" in the input stands for the one valid,
// single-use invite. It must never panic, never make an account when the
// input never names the valid token, and never make more than the one
// account the invite pays for.
func FuzzRegister(f *testing.F) {
	const reg = "<iq type='set' id='r'><query xmlns='jabber:iq:register'><username>juliet</username><password>pw</password></query></iq>"
	for _, s := range []string{
		fuzzHeader + "<iq type='set' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq>" + reg,
		fuzzHeader + "<iq type='set' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq>" + reg + strings.Replace(reg, "juliet", "romeo", 1),
		fuzzHeader + "<iq type='set' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq><iq type='set' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq>" + reg + strings.Replace(reg, "juliet", "romeo", 1),
		fuzzHeader + reg,
		fuzzHeader + "<iq type='set' id='p'><preauth xmlns='urn:xmpp:pars:0'/></iq>" + reg,
		fuzzHeader + "<iq type='get' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq>" + reg,
		fuzzHeader + "<iq type='set' to='elsewhere' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq>" + reg,
		fuzzHeader + "<iq type='set' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq><iq type='set' id='r'><query xmlns='jabber:iq:register'><remove/></query></iq>",
		fuzzHeader + "<iq type='set' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq><iq type='set' id='r'><query xmlns='jabber:iq:register'><username>alice</username><password>pw</password></query></iq>",
		fuzzHeader + "<iq type='set' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq><iq type='set' id='r'><query xmlns='jabber:iq:register'><username>a@b/c</username><password></password></query></iq>",
		fuzzHeader + "<iq type='result' id='p'><preauth xmlns='urn:xmpp:pars:0' token='TOKEN'/></iq>",
	} {
		f.Add(s)
	}
	// One store for all inputs (a store per input is slow, and storetest
	// cannot open paths with the '#' of seed names): each input starts
	// with only alice and a fresh invite.
	ctx := context.Background()
	cfg := config.Dev().XMPP
	cfg.MaxStanzaBytes = 4096
	st := storetest.Open(f)
	s, err := New(cfg, st, &tls.Config{Certificates: []tls.Certificate{testCert(f)}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	if err := s.acc.Create(ctx, "alice", "pencil"); err != nil {
		f.Fatal(err)
	}
	inv, err := invites.Open(ctx, st, invites.Options{Accounts: s.acc, Rosters: s})
	if err != nil {
		f.Fatal(err)
	}
	s.SetInvites(InviteStore(inv))
	f.Fuzz(func(t *testing.T, in string) {
		users, err := s.acc.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u != "alice" {
				s.acc.Delete(ctx, u)
			}
		}
		token, err := inv.Create(ctx, "alice", "", time.Hour, 1)
		if err != nil {
			t.Fatal(err)
		}

		c := &conn{s: s}
		c.raw = newRawConn(&bytesConn{r: strings.NewReader(strings.ReplaceAll(in, "TOKEN", token.Token))})
		c.nc = c.raw
		if err := c.openStream(); err == nil {
			for {
				e, err := c.next()
				if err != nil || !preauthIQ(e) {
					break
				}
				if err := c.register(ctx, e); err != nil {
					break
				}
			}
		}
		c.writers.Wait()

		users, err = s.acc.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		made := len(users) - 1
		if made > 0 && !strings.Contains(in, "TOKEN") {
			t.Fatalf("accounts %v made without the token", users)
		}
		if made > 1 {
			t.Fatalf("a single-use invite made accounts %v", users)
		}
	})
}
