package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chatsecure/box/config"
	"github.com/chatsecure/box/config/atomicfile"
	"github.com/chatsecure/box/updates/bundle"
)

// MaxIndexSize bounds the feed's index document.
const MaxIndexSize = 64 << 10

// A Feed is an HTTPS update feed. Its index for a channel and target is
// at URL/CHANNEL/TARGET.json and names the newest release:
//
//	{"version":"2.1.0","build":21,"url":"amd64-2.1.0.boxupdate","size":123,"sha256":"..."}
//
// url may be relative to the index. The feed is not trusted: the sha256
// only makes resumed downloads safe to join; the bundle's signatures decide.
type Feed struct {
	URL     string // https://...
	Channel string // stable or beta
	Target  string // pi or amd64
	Dir     string // where downloads are kept (resumable .part files)
	Client  *http.Client
	// Progress, if set, gets a download's bytes done and total (Poll).
	Progress func(done, total int64)
	// Checked, if set, is told what each of Poll's checks found.
	Checked func(r Release, err error)
	// LoopbackHTTP also takes http:// on a loopback address (dev mode:
	// a feed served from the same laptop).
	LoopbackHTTP bool
}

// schemeOK says whether u may be fetched: https, or http on loopback when
// the feed allows it.
func (f *Feed) schemeOK(u *url.URL) bool {
	if u.Scheme == "https" && u.Host != "" {
		return true
	}
	return f.LoopbackHTTP && u.Scheme == "http" && config.IsLoopback(u.Hostname())
}

// A Release is what the index says.
type Release struct {
	Version string `json:"version"`
	Build   uint64 `json:"build"`
	URL     string `json:"url"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
}

func (f *Feed) check() error {
	u, err := url.Parse(f.URL)
	if err != nil {
		return fmt.Errorf("source: feed url: %w", err)
	}
	if !f.schemeOK(u) {
		return fmt.Errorf("source: feed url %q: only https:// feeds are used", f.URL)
	}
	if f.Channel != "stable" && f.Channel != "beta" {
		return fmt.Errorf("source: feed channel %q, want stable or beta", f.Channel)
	}
	if f.Target != "pi" && f.Target != "amd64" {
		return fmt.Errorf("source: feed target %q, want pi or amd64", f.Target)
	}
	if f.Client == nil || f.Dir == "" {
		return errors.New("source: feed needs a Client and a Dir")
	}
	return nil
}

func (f *Feed) indexURL() string {
	return strings.TrimSuffix(f.URL, "/") + "/" + f.Channel + "/" + f.Target + ".json"
}

// Latest fetches the index.
func (f *Feed) Latest(ctx context.Context) (Release, error) {
	if err := f.check(); err != nil {
		return Release{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.indexURL(), nil)
	if err != nil {
		return Release{}, fmt.Errorf("source: feed: %w", err)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return Release{}, fmt.Errorf("source: feed: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Release{}, fmt.Errorf("source: feed index: %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxIndexSize+1))
	if err != nil {
		return Release{}, fmt.Errorf("source: feed index: %w", err)
	}
	if len(b) > MaxIndexSize {
		return Release{}, fmt.Errorf("source: feed index larger than %d bytes", MaxIndexSize)
	}
	var r Release
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Release{}, fmt.Errorf("source: feed index: %w", err)
	}
	if _, err := bundle.ParseVersion(r.Version); err != nil || r.Build == 0 || r.Size <= 0 || r.Size > bundle.MaxPayloads*bundle.MaxPayloadSize {
		return Release{}, fmt.Errorf("source: feed index: bad release %+v", r)
	}
	if sum, err := hex.DecodeString(r.SHA256); err != nil || len(sum) != sha256.Size {
		return Release{}, fmt.Errorf("source: feed index: bad sha256 %q", r.SHA256)
	}
	ref, err := url.Parse(r.URL)
	if err != nil {
		return Release{}, fmt.Errorf("source: feed index: url: %w", err)
	}
	base, _ := url.Parse(f.indexURL())
	abs := base.ResolveReference(ref)
	if !f.schemeOK(abs) {
		return Release{}, fmt.Errorf("source: feed index: bundle url %q is not https", abs)
	}
	r.URL = abs.String()
	return r, nil
}

// Check reports the feed's release when its build is above current.
func (f *Feed) Check(ctx context.Context, current uint64) (Release, bool, error) {
	r, err := f.Latest(ctx)
	if err != nil {
		return Release{}, false, err
	}
	return r, r.Build > current, nil
}

// Download fetches r into Dir, resuming a partial download with a Range
// request, and returns the finished file's path once size and sha256
// match. progress, if set, gets bytes done and total.
func (f *Feed) Download(ctx context.Context, r Release, progress func(done, total int64)) (string, error) {
	if err := f.check(); err != nil {
		return "", err
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return "", fmt.Errorf("source: download: %w", err)
	}
	final := filepath.Join(f.Dir, r.SHA256+".boxupdate")
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	part := final + ".part"
	pf, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("source: download: %w", err)
	}
	defer pf.Close()
	have, err := pf.Seek(0, io.SeekEnd)
	if err != nil {
		return "", fmt.Errorf("source: download: %w", err)
	}
	if have > r.Size {
		if err := pf.Truncate(0); err != nil {
			return "", fmt.Errorf("source: download: %w", err)
		}
		have = 0
	}
	if have < r.Size {
		if have, err = f.fetch(ctx, r, pf, have, progress); err != nil {
			return "", err
		}
	}
	if have != r.Size {
		return "", fmt.Errorf("source: download: %d of %d bytes", have, r.Size)
	}
	if err := pf.Sync(); err != nil {
		return "", fmt.Errorf("source: download: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(pf, 0, r.Size)); err != nil {
		return "", fmt.Errorf("source: download: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != r.SHA256 {
		pf.Truncate(0) // joined from mismatching pieces: start over next time
		return "", fmt.Errorf("source: download: sha256 %s, feed says %s", got, r.SHA256)
	}
	if err := os.Rename(part, final); err != nil {
		return "", fmt.Errorf("source: download: %w", err)
	}
	if err := atomicfile.SyncDir(f.Dir); err != nil {
		return "", err
	}
	return final, nil
}

// fetch appends to pf from byte have on and returns the new length.
func (f *Feed) fetch(ctx context.Context, r Release, pf *os.File, have int64, progress func(done, total int64)) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return have, fmt.Errorf("source: download: %w", err)
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return have, fmt.Errorf("source: download: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != have {
			return have, fmt.Errorf("source: download: server resumed at %q, want byte %d", resp.Header.Get("Content-Range"), have)
		}
	case resp.StatusCode == http.StatusOK:
		// No range support (or a fresh start): begin again.
		if err := pf.Truncate(0); err != nil {
			return have, fmt.Errorf("source: download: %w", err)
		}
		have = 0
	default:
		return have, fmt.Errorf("source: download: %s", resp.Status)
	}
	if _, err := pf.Seek(have, io.SeekStart); err != nil {
		return have, fmt.Errorf("source: download: %w", err)
	}
	buf := make([]byte, 256<<10)
	body := io.LimitReader(resp.Body, r.Size-have)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := pf.Write(buf[:n]); err != nil {
				return have, fmt.Errorf("source: download: %w", err)
			}
			have += int64(n)
			if progress != nil {
				progress(have, r.Size)
			}
		}
		if rerr == io.EOF {
			return have, nil
		}
		if rerr != nil {
			pf.Sync() // keep what arrived for the next resume
			return have, fmt.Errorf("source: download interrupted at %d of %d bytes: %w", have, r.Size, rerr)
		}
	}
}

func rangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil
}

// Poll checks the feed on every tick (the caller owns the ticker, so tests
// drive it by hand) and, when a release newer than current() exists,
// downloads it and calls found. Errors go to report and polling goes on.
// Poll returns when ctx is done or ticks is closed.
func (f *Feed) Poll(ctx context.Context, ticks <-chan time.Time, current func() uint64, found func(path string, r Release), report func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ticks:
			if !ok {
				return
			}
		}
		r, newer, err := f.Check(ctx, current())
		if f.Checked != nil {
			f.Checked(r, err)
		}
		if err == nil && newer {
			var path string
			if path, err = f.Download(ctx, r, f.Progress); err == nil {
				found(path, r)
			}
		}
		if err != nil && report != nil {
			report(err)
		}
	}
}

// FeedStatus is what the box last saw of its feed, for boxctl and the
// console.
type FeedStatus struct {
	URL       string    `json:"url"`
	Channel   string    `json:"channel"`
	LastCheck time.Time `json:"last_check,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Latest    *Release  `json:"latest,omitempty"`
	// Done and Total are the download in progress (bytes), zero when none.
	Done  int64 `json:"done,omitempty"`
	Total int64 `json:"total,omitempty"`
}
