package source

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatsecure/box/updates/bundle"
)

func TestStagingResumable(t *testing.T) {
	dir := t.TempDir()
	s, _ := NewStaging(dir, 1<<20)
	data := make([]byte, 100_000)
	rand.Read(data)
	u, err := s.Begin(int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(u.ID, 0, bytes.NewReader(data[:30_000])); err != nil {
		t.Fatal(err)
	}
	// A repeated or skipped chunk is refused with the offset to resume at.
	for _, off := range []int64{0, 40_000} {
		if _, err := s.Write(u.ID, off, bytes.NewReader(data[off:off+10])); !errors.Is(err, ErrOffset) || !strings.Contains(err.Error(), "resume at 30000") {
			t.Fatalf("offset %d: %v", off, err)
		}
	}
	if _, err := s.Finish(u.ID); err == nil || !strings.Contains(err.Error(), "30000 of 100000") {
		t.Fatalf("finish incomplete: %v", err)
	}
	// The box restarts: a new Staging on the same dir knows the progress.
	s, _ = NewStaging(dir, 1<<20)
	st, err := s.Status(u.ID)
	if err != nil || st.Received != 30_000 || st.Size != 100_000 {
		t.Fatalf("status after restart: %+v %v", st, err)
	}
	if _, err := s.Write(u.ID, st.Received, bytes.NewReader(data[30_000:])); err != nil {
		t.Fatal(err)
	}
	path, err := s.Finish(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, data) {
		t.Fatal("staged file differs from the upload")
	}
	// Overlong chunks, huge uploads and path tricks are refused.
	u2, _ := s.Begin(10)
	if _, err := s.Write(u2.ID, 0, bytes.NewReader(make([]byte, 11))); err == nil {
		t.Fatal("chunk past the size accepted")
	}
	if _, err := s.Begin(2 << 20); err == nil {
		t.Fatal("upload above max accepted")
	}
	if _, err := s.Status("../../etc/passwd"); err == nil {
		t.Fatal("bad id accepted")
	}
	if err := s.Remove(u2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Status(u2.ID); err == nil {
		t.Fatal("removed upload still there")
	}
}

// feedServer serves an index and one file; the first full GET of the file
// is cut off after cut bytes.
type feedServer struct {
	mu      sync.Mutex
	data    []byte
	cut     int
	ranges  []string
	noRange bool
	index   Release
}

func (fs *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	switch r.URL.Path {
	case "/feed/stable/amd64.json":
		json.NewEncoder(w).Encode(fs.index)
	case "/files/b.boxupdate":
		fs.ranges = append(fs.ranges, r.Header.Get("Range"))
		if fs.cut > 0 {
			w.Header().Set("Content-Length", "999999")
			w.Write(fs.data[:fs.cut])
			fs.cut = 0
			return // the server drops the connection: short body
		}
		if fs.noRange {
			r.Header.Del("Range")
		}
		http.ServeContent(w, r, "b.boxupdate", time.Time{}, bytes.NewReader(fs.data))
	default:
		http.NotFound(w, r)
	}
}

func newFeed(t *testing.T, cut int) (*Feed, *feedServer, []byte) {
	data := make([]byte, 700_000)
	rand.Read(data)
	sum := sha256.Sum256(data)
	fs := &feedServer{data: data, cut: cut,
		index: Release{Version: "2.1.0", Build: 21, URL: "../../files/b.boxupdate", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}}
	srv := httptest.NewTLSServer(fs)
	t.Cleanup(srv.Close)
	return &Feed{URL: srv.URL + "/feed", Channel: "stable", Target: "amd64", Dir: t.TempDir(), Client: srv.Client()}, fs, data
}

func TestFeedResumesDownload(t *testing.T) {
	f, fs, data := newFeed(t, 250_000)
	ctx := context.Background()
	r, newer, err := f.Check(ctx, 20)
	if err != nil || !newer || r.Build != 21 || !strings.HasSuffix(r.URL, "/files/b.boxupdate") {
		t.Fatalf("check: %+v %v %v", r, newer, err)
	}
	if _, newer, _ := f.Check(ctx, 21); newer {
		t.Fatal("same build reported as newer")
	}
	if _, err := f.Download(ctx, r, nil); err == nil || !strings.Contains(err.Error(), "interrupted at 250000") {
		t.Fatalf("first download: %v", err)
	}
	var last int64
	path, err := f.Download(ctx, r, func(done, total int64) { last = done })
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, data) || last != int64(len(data)) {
		t.Fatalf("downloaded %d bytes, progress %d", len(got), last)
	}
	if len(fs.ranges) != 2 || fs.ranges[0] != "" || fs.ranges[1] != "bytes=250000-" {
		t.Fatalf("requests' Range headers = %q", fs.ranges)
	}
}

func TestFeedWithoutRangeRestarts(t *testing.T) {
	f, fs, data := newFeed(t, 100_000)
	fs.noRange = true
	ctx := context.Background()
	r, _ := f.Latest(ctx)
	f.Download(ctx, r, nil)
	path, err := f.Download(ctx, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatal("restarted download differs")
	}
}

func TestFeedRefuses(t *testing.T) {
	f, fs, _ := newFeed(t, 0)
	ctx := context.Background()
	r, _ := f.Latest(ctx)
	r.SHA256 = strings.Repeat("0", 64)
	if _, err := f.Download(ctx, r, nil); err == nil || !strings.Contains(err.Error(), "feed says") {
		t.Fatalf("bad sha: %v", err)
	}
	for _, bad := range []Feed{
		{URL: strings.Replace(f.URL, "https", "http", 1), Channel: "stable", Target: "amd64", Dir: f.Dir, Client: f.Client},
		{URL: f.URL, Channel: "nightly", Target: "amd64", Dir: f.Dir, Client: f.Client},
		{URL: f.URL, Channel: "beta", Target: "amd64", Dir: f.Dir, Client: f.Client}, // 404
	} {
		if _, err := bad.Latest(ctx); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	fs.mu.Lock()
	fs.index.URL = "http://127.0.0.1/x.boxupdate"
	fs.mu.Unlock()
	if _, err := f.Latest(ctx); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Fatalf("http bundle url: %v", err)
	}
}

func TestPoll(t *testing.T) {
	f, fs, _ := newFeed(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ticks := make(chan time.Time)
	current := uint64(21)
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	checked := make(chan struct{}, 2)
	f.Checked = func(Release, error) { checked <- struct{}{} }
	go func() {
		f.Poll(ctx, ticks, func() uint64 { mu.Lock(); defer mu.Unlock(); return current },
			func(path string, r Release) { mu.Lock(); got = append(got, r.Version); mu.Unlock() }, nil)
		close(done)
	}()
	// Each check reports before the test moves on, so the first tick
	// surely reads current = 21 (without it the test raced).
	ticks <- time.Time{} // nothing newer
	<-checked
	mu.Lock()
	current = 20
	mu.Unlock()
	ticks <- time.Time{} // 2.1.0 found
	close(ticks)
	<-done
	if len(got) != 1 || got[0] != "2.1.0" {
		t.Fatalf("found = %v", got)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if n := len(fs.ranges); n != 1 {
		t.Fatalf("%d downloads, want 1", n)
	}
}

func TestScanDir(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(t.TempDir(), "root.img")
	os.WriteFile(img, []byte("root"), 0o644)
	os.Mkdir(filepath.Join(dir, "updates"), 0o755)
	for _, b := range []struct {
		path  string
		build uint64
	}{{"a.boxupdate", 5}, {"updates/b.boxupdate", 7}} {
		if err := bundle.WriteUnsigned(filepath.Join(dir, b.path), bundle.Spec{Target: "pi", Version: "1.0.0", Build: b.build},
			[]bundle.PayloadFile{{Name: "root", Path: img}}); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "junk.boxupdate"), []byte("not a bundle"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	os.Symlink(filepath.Join(dir, "a.boxupdate"), filepath.Join(dir, "link.boxupdate"))
	found, err := ScanDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range found {
		names = append(names, filepath.Base(f.Path))
	}
	if strings.Join(names, ",") != "b.boxupdate,a.boxupdate,junk.boxupdate" {
		t.Fatalf("found %v", names)
	}
	if found[0].Manifest.Build != 7 || found[2].Err == nil || !errors.Is(found[2].Err, bundle.ErrTruncated) && !errors.Is(found[2].Err, bundle.ErrNotBundle) {
		t.Fatalf("found = %+v", found)
	}
}

func TestFeedLoopbackHTTPOnlyWhenAllowed(t *testing.T) {
	data := []byte("a bundle")
	sum := sha256.Sum256(data)
	fs := &feedServer{data: data, index: Release{Version: "2.1.0", Build: 21, URL: "../../files/b.boxupdate", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}}
	srv := httptest.NewServer(fs) // plain http on 127.0.0.1
	defer srv.Close()
	f := &Feed{URL: srv.URL + "/feed", Channel: "stable", Target: "amd64", Dir: t.TempDir(), Client: srv.Client()}
	if _, err := f.Latest(context.Background()); err == nil || !strings.Contains(err.Error(), "only https") {
		t.Fatalf("http feed without LoopbackHTTP: %v", err)
	}
	f.LoopbackHTTP = true
	r, err := f.Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Download(context.Background(), r, nil); err != nil {
		t.Fatal(err)
	}
	f.URL = "http://192.0.2.1/feed" // not loopback: still refused
	if _, err := f.Latest(context.Background()); err == nil {
		t.Fatal("http on a LAN address accepted")
	}
}
