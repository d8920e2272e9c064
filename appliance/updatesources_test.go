package appliance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatsecure/box/appliance/adminapi"
	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/updates/sign"
	"github.com/chatsecure/box/updates/source"
)

// signedBundle builds a bundle for this machine's target signed by two of
// the dev root's keys (the image's trust root in tests, threshold 2), or
// by the dev keys named.
func signedBundle(t *testing.T, version, build string, keys ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "root.img")
	os.WriteFile(root, bytes.Repeat([]byte("root "+version+" "), 20_000), 0o644)
	boot := filepath.Join(dir, "boot.img")
	os.WriteFile(boot, []byte("kernel "+version), 0o644)
	out := filepath.Join(dir, "b.boxupdate")
	run := func(args ...string) {
		var so, se bytes.Buffer
		if rc := sign.Run(args, &so, &se); rc != 0 {
			t.Fatalf("boxsign %v: %s", args, se.String())
		}
	}
	run("bundle", "-target", target(), "-version", version, "-build", build, "-out", out, "root="+root, "boot="+boot)
	if len(keys) == 0 {
		keys = []string{"dev1", "dev2"}
	}
	for _, k := range keys {
		run("sign", "-key", "../updates/trust/testdata/"+k+".key", out)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testFeed serves one release on 127.0.0.1 over TLS and counts the
// bundle's downloads.
type testFeed struct {
	srv       *httptest.Server
	mu        sync.Mutex
	downloads int
	caFile    string
}

func newTestFeed(t *testing.T, data []byte, version string, build uint64) *testFeed {
	f := &testFeed{}
	sum := sha256.Sum256(data)
	rel := source.Release{Version: version, Build: build, URL: "../../files/b.boxupdate", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed/stable/" + target() + ".json":
			json.NewEncoder(w).Encode(rel)
		case "/files/b.boxupdate":
			f.mu.Lock()
			f.downloads++
			f.mu.Unlock()
			http.ServeContent(w, r, "b.boxupdate", time.Time{}, bytes.NewReader(data))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	f.caFile = filepath.Join(t.TempDir(), "feed-ca.pem")
	os.WriteFile(f.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o644)
	return f
}

func feedBox(t *testing.T, f *testFeed, autoApply bool) *box {
	dir := filepath.Join(t.TempDir(), "data")
	return start(t, dir, newFakeSealer(), func(o *Options) {
		o.Config.Updates.FeedURL = f.srv.URL + "/feed"
		o.Config.Updates.FeedCAFile = f.caFile
		o.Config.Updates.AutoApply = autoApply
		if err := o.Config.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func updStatus(t *testing.T, b *box) console.UpdateStatus {
	t.Helper()
	st, err := consoleBox{b.sys}.UpdateStatus(context.Background(), 10)
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	return st
}

func TestFeedOffersNewerBundleForAnAdmin(t *testing.T) {
	f := newTestFeed(t, signedBundle(t, "2.0.0", "2"), "2.0.0", 2)
	b := feedBox(t, f, false)
	waitFor(t, "the feed's bundle on offer", func() bool { return len(updStatus(t, b).Offers) == 1 })
	st := updStatus(t, b)
	o := st.Offers[0]
	if o.From != "feed" || o.Version != "2.0.0" || o.Build != 2 || st.Feed == nil || st.Feed.LastError != "" || st.Feed.Latest != "2.0.0 (build 2)" {
		t.Fatalf("offer %+v feed %+v", o, st.Feed)
	}
	// Offered, not applied: nothing pending until an admin says so.
	if st.Pending != "" || st.Last != nil {
		t.Fatalf("applied without an admin: %+v", st)
	}
	if !strings.Contains(b.logs.String(), "updates: feed download") {
		t.Error("no download progress in the log")
	}
	// boxctl sees the same offer.
	var reply struct {
		Offers []source.Offer `json:"offers"`
		Feed   *source.FeedStatus
	}
	if err := adminClient(b).Do(context.Background(), "GET", "/v1/updates/status", nil, &reply); err != nil || len(reply.Offers) != 1 || reply.Offers[0].ID != o.ID || reply.Feed == nil {
		t.Fatalf("boxctl status: %+v %v", reply, err)
	}

	if err := (consoleBox{b.sys}).ApplyOffer(context.Background(), o.ID, "ada", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the apply to end", func() bool { return updStatus(t, b).Last != nil })
	st = updStatus(t, b)
	if !st.Last.OK || st.Pending == "" || st.PendingVersion != "2.0.0" || len(st.Offers) != 0 {
		t.Fatalf("after apply: last %+v pending %q offers %v", st.Last, st.Pending, st.Offers)
	}
	if len(st.History) == 0 || st.History[0].Outcome != "applied" || st.History[0].To != "2.0.0 (build 2)" {
		t.Fatalf("history: %+v", st.History)
	}
	acts := auditActions(t, b)
	if !strings.Contains(acts, "update-available") || !strings.Contains(acts, "update-applied") {
		t.Fatalf("audit: %s", acts)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.downloads != 1 {
		t.Fatalf("%d downloads", f.downloads)
	}
}

func TestFeedAutoApplies(t *testing.T) {
	f := newTestFeed(t, signedBundle(t, "3.0.0", "3"), "3.0.0", 3)
	b := feedBox(t, f, true)
	waitFor(t, "the auto-apply", func() bool { return updStatus(t, b).Last != nil })
	st := updStatus(t, b)
	if !st.Last.OK || st.Last.From != "feed" || st.PendingVersion != "3.0.0" {
		t.Fatalf("auto-apply: %+v %+v", st.Last, st)
	}
}

func TestFeedRefusesUnsignedBundle(t *testing.T) {
	// An unsigned bundle: the feed is not trusted, only signatures are.
	dir := t.TempDir()
	root := filepath.Join(dir, "root.img")
	os.WriteFile(root, []byte("evil root"), 0o644)
	evil := filepath.Join(dir, "evil.boxupdate")
	if rc := sign.Run([]string{"bundle", "-target", target(), "-version", "9.0.0", "-build", "9", "-out", evil, "root=" + root}, io.Discard, io.Discard); rc != 0 {
		t.Fatal("bundle")
	}
	data, _ := os.ReadFile(evil)
	f := newTestFeed(t, data, "9.0.0", 9)
	b := feedBox(t, f, true)
	waitFor(t, "the refusal", func() bool {
		st := updStatus(t, b)
		return st.Feed != nil && strings.Contains(st.Feed.LastError, "signatures")
	})
	st := updStatus(t, b)
	if len(st.Offers) != 0 || st.Last != nil || st.Pending != "" {
		t.Fatalf("unsigned feed bundle went somewhere: %+v", st)
	}
}

func adminClient(b *box) *adminapi.Client { return adminapi.NewClient(b.dir) }

func auditActions(t *testing.T, b *box) string {
	t.Helper()
	entries, err := consoleBox{b.sys}.AuditLog(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range entries {
		acts = append(acts, e.Action)
	}
	return strings.Join(acts, ",")
}

func TestConsoleUploadAppliesThroughTheUpdater(t *testing.T) {
	b := start(t, filepath.Join(t.TempDir(), "data"), newFakeSealer(), nil)
	cb := consoleBox{b.sys}
	ctx := context.Background()
	send := func(data []byte) string {
		up, err := cb.BeginUpload(ctx, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		half := len(data) / 2
		if _, err := cb.UploadChunk(ctx, up.ID, 0, bytes.NewReader(data[:half])); err != nil {
			t.Fatal(err)
		}
		// A repeated chunk is refused with where to resume.
		got, err := cb.UploadChunk(ctx, up.ID, 0, bytes.NewReader(data[:half]))
		if !errors.Is(err, console.ErrUploadOffset) || got.Received != int64(half) {
			t.Fatalf("repeated chunk: %+v %v", got, err)
		}
		if _, err := cb.UploadChunk(ctx, up.ID, got.Received, bytes.NewReader(data[half:])); err != nil {
			t.Fatal(err)
		}
		return up.ID
	}
	// One signature of the two needed: refused with the updater's reason.
	if err := cb.ApplyUpload(ctx, send(signedBundle(t, "2.0.0", "2", "dev1")), "ada", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal", func() bool { return updStatus(t, b).Last != nil })
	if st := updStatus(t, b); st.Last.OK || !strings.Contains(st.Last.Reason, "signatures") || st.Pending != "" {
		t.Fatalf("unsigned upload: %+v", st.Last)
	}
	if err := cb.ApplyUpload(ctx, send(signedBundle(t, "2.0.0", "2")), "ada", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the apply", func() bool { l := updStatus(t, b).Last; return l != nil && l.OK })
	st := updStatus(t, b)
	if st.Pending == "" || st.PendingVersion != "2.0.0" || st.Last.From != "console" {
		t.Fatalf("after apply: %+v", st)
	}
	// The LED path: the state machine went through updating and back.
	if !strings.Contains(b.logs.String(), "to=updating") {
		t.Error("state never showed updating")
	}
	acts := auditActions(t, b)
	if !strings.Contains(acts, "update-refused") || !strings.Contains(acts, "update-applied") {
		t.Fatalf("audit: %s", acts)
	}
}
