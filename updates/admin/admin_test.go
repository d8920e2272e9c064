package admin

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/devslots"
	"github.com/chatsecure/box/updates/source"
	"github.com/chatsecure/box/updates/trust"
	"github.com/chatsecure/box/updates/updatestest"
)

type box struct {
	client  *Client
	slots   *devslots.Slots
	stage   string
	key     trust.PrivateKey
	work    string
	applied []bool
}

func newBox(t *testing.T) *box {
	b := &box{work: t.TempDir(), stage: filepath.Join(t.TempDir(), "staging")}
	var err error
	if b.key, err = trust.Generate("rel", rand.Reader); err != nil {
		t.Fatal(err)
	}
	if b.slots, err = devslots.Open(filepath.Join(b.work, "slots"), updates.SlotInfo{Version: "1.0.0", Build: 1}, 1<<30); err != nil {
		t.Fatal(err)
	}
	u := newBoxUpdater(t, b)
	st, _ := source.NewStaging(b.stage, 1<<30)
	h := &Handler{Updater: u, Staging: st, Applying: func(on bool) { b.applied = append(b.applied, on) }}
	mux := http.NewServeMux()
	h.RegisterAdmin(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b.client = &Client{HTTP: srv.Client(), Base: srv.URL, Chunk: 50_000}
	return b
}

// newBoxUpdater is an updater on b's slots trusting b's key alone.
func newBoxUpdater(t *testing.T, b *box) *updates.Updater {
	set, _ := trust.NewSet(0, 1, []ed25519.PublicKey{b.key.Public().Key})
	u, err := updates.New(updates.Config{Target: "amd64", Slots: b.slots, Floor: &updatestest.Floor{}, Trust: &updatestest.TrustStore{},
		History: &updatestest.History{}, Root: set})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (b *box) bundle(t *testing.T, signed bool) string {
	img := filepath.Join(b.work, "root.img")
	os.WriteFile(img, bytes.Repeat([]byte("root v2 "), 40_000), 0o644)
	p := filepath.Join(b.work, "v2.boxupdate")
	boot := filepath.Join(b.work, "boot.img")
	os.WriteFile(boot, []byte("boot v2"), 0o644)
	if err := bundle.WriteUnsigned(p, bundle.Spec{Target: "amd64", Version: "2.0.0", Build: 2},
		[]bundle.PayloadFile{{Name: "root", Path: img}, {Name: "boot", Path: boot}}); err != nil {
		t.Fatal(err)
	}
	if signed {
		if err := bundle.AddSignature(p, b.key); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestUploadResumeApply(t *testing.T) {
	b := newBox(t)
	ctx := context.Background()
	path := b.bundle(t, true)
	raw, _ := os.ReadFile(path)

	// The first attempt dies after one chunk (the callback cancels it).
	cctx, cancel := context.WithCancel(ctx)
	id, err := b.client.Upload(cctx, path, "", func(done, total int64) { cancel() })
	if err == nil || id == "" {
		t.Fatalf("cancelled upload: id %q err %v", id, err)
	}
	// A stray chunk at the wrong offset is refused with where to resume.
	var u source.Upload
	code, err := b.client.do(ctx, http.MethodPut, "uploads/"+id+"?offset=0", bytes.NewReader(raw[:10]), &u, http.StatusConflict)
	if err != nil || code != http.StatusConflict || u.Received != 50_000 {
		t.Fatalf("wrong offset: code %d upload %+v err %v", code, u, err)
	}
	var last int64
	if _, err := b.client.Upload(ctx, path, id, func(done, total int64) { last = done }); err != nil {
		t.Fatal(err)
	}
	if last != int64(len(raw)) {
		t.Fatalf("upload ended at %d of %d", last, len(raw))
	}
	res, err := b.client.Apply(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if res.Slot != "B" || res.To.Version != "2.0.0" {
		t.Fatalf("result = %+v", res)
	}
	if len(b.applied) != 2 || !b.applied[0] || b.applied[1] {
		t.Fatalf("Applying calls = %v", b.applied)
	}
	if ents, _ := os.ReadDir(b.stage); len(ents) != 0 {
		t.Fatalf("staging not cleaned: %v", ents)
	}
	st, err := b.client.Status(ctx)
	if err != nil || st.Slots.Trial != "B" || st.Progress != nil {
		t.Fatalf("status = %+v %v", st, err)
	}
	if err := b.client.Abandon(ctx, "operator changed their mind"); err != nil {
		t.Fatal(err)
	}
	if st, _ := b.client.Status(ctx); st.Slots.Trial != "" {
		t.Fatalf("trial still set after abandon: %+v", st.Slots)
	}
}

func TestApplyRefusalReason(t *testing.T) {
	b := newBox(t)
	ctx := context.Background()
	path := b.bundle(t, false)
	id, err := b.client.Upload(ctx, path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.client.Apply(ctx, id)
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != http.StatusUnprocessableEntity || !strings.Contains(ae.Reason, "0 valid of threshold 1") {
		t.Fatalf("err = %v", err)
	}
	before, _ := os.ReadFile(b.slots.Path("B", "root"))
	if len(before) != 0 {
		t.Fatal("refused bundle wrote slot B")
	}
	if err := b.client.Rotate(ctx, []byte("{}")); err == nil {
		t.Fatal("junk rotation accepted")
	}
}

// fakeSources offers one bundle file.
type fakeSources struct {
	t     *Tracker
	offer source.Offer
}

func (f *fakeSources) Offers() []source.Offer { return []source.Offer{f.offer} }
func (f *fakeSources) Feed() *source.FeedStatus {
	return &source.FeedStatus{URL: "https://feed.example/", Channel: "beta", LastError: "feed index: 404 Not Found"}
}
func (f *fakeSources) ApplyOffer(ctx context.Context, id, from string) (updates.Result, error) {
	if id != f.offer.ID {
		return updates.Result{}, os.ErrNotExist
	}
	return f.t.ApplyFile(ctx, f.offer.Path, from)
}

func TestStatusShowsOffersAndLastApply(t *testing.T) {
	b := newBox(t)
	ctx := context.Background()
	st, err := b.client.Status(ctx)
	if err != nil || st.Last != nil || st.Offers != nil || st.Feed != nil {
		t.Fatalf("fresh status: %+v %v", st, err)
	}
	// A refused apply is remembered with the updater's reason.
	id, _ := b.client.Upload(ctx, b.bundle(t, false), "", nil)
	b.client.Apply(ctx, id)
	st, _ = b.client.Status(ctx)
	if st.Last == nil || st.Last.OK || st.Last.From != "boxctl" || !strings.Contains(st.Last.Reason, "threshold") {
		t.Fatalf("last after refusal: %+v", st.Last)
	}
}

func TestApplyOfferThroughSharedTracker(t *testing.T) {
	b := newBox(t)
	ctx := context.Background()
	path := b.bundle(t, true)
	// The handler and the offer share one tracker, as in boxd.
	u := newBoxUpdater(t, b)
	tr := &Tracker{Updater: u}
	fs := &fakeSources{t: tr, offer: source.Offer{ID: "0123", From: "usb", Version: "2.0.0", Build: 2, Path: path}}
	h := &Handler{Updater: u, Tracker: tr, Sources: fs}
	mux := http.NewServeMux()
	h.RegisterAdmin(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &Client{HTTP: srv.Client(), Base: srv.URL}

	// While another front end applies, the offer is refused as busy.
	if err := tr.Start("console"); err != nil {
		t.Fatal(err)
	}
	st, _ := c.Status(ctx)
	if st.Applying != "console" || st.Progress == nil || st.Progress.Phase != updates.PhaseVerify || len(st.Offers) != 1 || st.Feed.Channel != "beta" {
		t.Fatalf("status while busy: %+v", st)
	}
	var ae *Error
	if _, err := c.ApplyOffer(ctx, "0123"); !errors.As(err, &ae) || ae.Code != http.StatusConflict {
		t.Fatalf("offer while busy: %v", err)
	}
	var doneErr error
	tr.Run(ctx, filepath.Join(b.work, "missing.boxupdate"), func(_ updates.Result, err error) {
		doneErr = err
		if tr.Current() == nil || tr.Last() != nil {
			t.Error("done ran after the outcome was published")
		}
	})
	if doneErr == nil {
		t.Fatal("done did not see the failure")
	}
	if _, err := c.ApplyOffer(ctx, "nope"); !errors.As(err, &ae) || ae.Code != http.StatusNotFound {
		t.Fatalf("unknown offer: %v", err)
	}
	res, err := c.ApplyOffer(ctx, "0123")
	if err != nil || res.To.Build != 2 {
		t.Fatalf("apply offer: %+v %v", res, err)
	}
	st, _ = c.Status(ctx)
	if st.Last == nil || !st.Last.OK || st.Last.From != "boxctl" || st.Slots.Trial != "B" || st.Applying != "" {
		t.Fatalf("status after: %+v", st)
	}
}
