package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/updates/sign"
	"github.com/chatsecure/box/updates/source"
)

// TestUpdateOfferFromFeed: boxd polls a feed on 127.0.0.1 (TLS, its CA in
// updates.feed_ca_file), downloads and verifies a newer signed bundle and
// offers it; boxctl update status lists it and boxctl update offer ID
// applies it.
func TestUpdateOfferFromFeed(t *testing.T) {
	work := t.TempDir()
	root, boot, bundle := filepath.Join(work, "root.img"), filepath.Join(work, "boot.img"), filepath.Join(work, "v2.boxupdate")
	os.WriteFile(root, bytes.Repeat([]byte("root v2 "), 50000), 0o644)
	os.WriteFile(boot, []byte("boot v2"), 0o644)
	for _, a := range [][]string{
		{"bundle", "-target", "amd64", "-version", "2.0.0", "-build", "2", "-out", bundle, "root=" + root, "boot=" + boot},
		{"sign", "-key", "../../updates/trust/testdata/dev1.key", bundle},
		{"sign", "-key", "../../updates/trust/testdata/dev2.key", bundle},
	} {
		var e bytes.Buffer
		if rc := sign.Run(a, &e, &e); rc != 0 {
			t.Fatalf("boxsign %v: %s", a, e.String())
		}
	}
	data, _ := os.ReadFile(bundle)
	sum := sha256.Sum256(data)
	rel := source.Release{Version: "2.0.0", Build: 2, URL: "../../v2.boxupdate", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed/stable/amd64.json":
			json.NewEncoder(w).Encode(rel)
		case "/v2.boxupdate":
			http.ServeContent(w, r, "v2.boxupdate", time.Time{}, bytes.NewReader(data))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "feed-ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	cfg := fmt.Sprintf(`{"xmpp": {"c2s": "127.0.0.1:0", "c2s_tls": "127.0.0.1:0"}, "console": {"listen": "127.0.0.1:0"},
		"updates": {"feed_url": %q, "feed_ca_file": "feed-ca.pem"}}`, srv.URL+"/feed")
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600)
	b := startBoxd(t, dir)

	var st struct {
		Offers []source.Offer `json:"offers"`
		Feed   *source.FeedStatus
		Slots  struct{ Trial string }
	}
	var out string
	for i := 0; ; i++ {
		out, _, _ = ctl(t, "", "-data", dir, "update", "status")
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("update status: %v\n%s", err, out)
		}
		if len(st.Offers) > 0 || i > 200 {
			break
		}
		time.Sleep(50 * time.Millisecond) // the first check runs as boxd starts
	}
	if len(st.Offers) != 1 || st.Offers[0].Version != "2.0.0" || st.Offers[0].From != "feed" || st.Feed == nil || st.Feed.Latest == nil {
		t.Fatalf("no offer from the feed:\n%s\n%s", out, b.logs)
	}
	if st.Slots.Trial != "" {
		t.Fatal("applied without being asked")
	}
	if !strings.Contains(b.logs.String(), "updates: feed download") {
		t.Errorf("no download progress in boxd's log:\n%s", b.logs)
	}
	if _, e, rc := ctl(t, "", "-data", dir, "update", "offer", "nope"); rc == 0 || !strings.Contains(e, "no offer") {
		t.Fatalf("unknown offer: rc %d %s", rc, e)
	}
	o, e, rc := ctl(t, "", "-data", dir, "update", "offer", st.Offers[0].ID)
	if rc != 0 || !strings.Contains(o, "applied 2.0.0 (build 2) to slot B") {
		t.Fatalf("update offer: rc %d\n%s\n%s", rc, o, e)
	}
	out, _, _ = ctl(t, "", "-data", dir, "update", "status")
	st.Offers = nil
	json.Unmarshal([]byte(out), &st)
	if st.Slots.Trial != "B" || len(st.Offers) != 0 {
		t.Fatalf("after update offer:\n%s", out)
	}
}
