package sasl

import "testing"

// FuzzClientFirst feeds any first message to a server: never a panic, and a
// success only for a well-formed message.
func FuzzClientFirst(f *testing.F) {
	for _, s := range []string{
		"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
		"p=tls-exporter,a=admin,n=user,r=abc,ext=1",
		"y,,n=us=2Cer,r=x",
		"n,,n=us=3",
		"n,,m=x,n=u,r=x",
		",,,",
	} {
		f.Add(s)
	}
	c, _ := NewCredentials("pencil", MinIterations)
	f.Fuzz(func(t *testing.T, msg string) {
		for _, mech := range []string{SCRAMSHA1, SCRAMSHA256Plus} {
			s, err := NewServer(mech, Config{
				Lookup:   func(string) (Credentials, bool, error) { return c, true, nil },
				Bindings: map[string][]byte{"tls-exporter": []byte("x")},
			})
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := s.Step([]byte(msg))
			if err == nil && len(out) == 0 {
				t.Fatal("accepted without a server-first message")
			}
		}
	})
}

// FuzzClientFinal: the final message parser never panics.
func FuzzClientFinal(f *testing.F) {
	f.Add("c=biws,r=abc,p=dGVzdA==")
	f.Add("c=,r=,p=")
	f.Add(",p=")
	f.Fuzz(func(t *testing.T, msg string) {
		cf, err := parseClientFinal(msg)
		if err == nil && (cf.nonce == "" || len(cf.proof) == 0) {
			t.Fatalf("accepted %q without nonce or proof", msg)
		}
	})
}
