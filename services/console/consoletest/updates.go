package consoletest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/updates/bundle"
)

// updateState is the fake's update side: a box on 1.0.0 (build 1) in
// slot A. Its "updater" parses the bundle for real but only counts
// signatures (it needs Threshold of them) and compares the build with the
// floor; real verification is the updates package's and is tested there
// and in the appliance.
type updateState struct {
	uploads  map[string]*fakeUpload
	st       console.UpdateStatus
	offers   map[string][]byte
	applying sync.WaitGroup
}

type fakeUpload struct {
	size int64
	data []byte
}

// MaxUpload bounds a fake upload.
const MaxUpload = 64 << 20

func (b *Box) upd() *updateState {
	if b.updates == nil {
		b.updates = &updateState{
			uploads: map[string]*fakeUpload{},
			offers:  map[string][]byte{},
			st:      console.UpdateStatus{Version: "1.0.0", Build: 1, Booted: "A", Active: "A", Floor: 1, KeySet: 1, USB: true},
		}
	}
	return b.updates
}

// Threshold is how many signatures the fake wants (the dev root's 2).
const Threshold = 2

// FailChunks makes the next n chunks that start at offset fail after
// keeping half of their bytes, as a dropped connection would.
func (b *Box) FailChunks(offset int64, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failAt, b.failChunks = offset, n
}

// ChunksFailed counts chunks failed on purpose so far.
func (b *Box) ChunksFailed() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.chunksFailed
}

// SetApplyStep paces the fake apply's progress reports (so a browser can
// watch it); zero in unit tests.
func (b *Box) SetApplyStep(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.applyStep = d
}

// AddOffer lists data as a bundle found on from ("usb" or "feed").
func (b *Box) AddOffer(from string, data []byte) (console.UpdateOffer, error) {
	bd, err := bundle.Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return console.UpdateOffer{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.upd()
	o := console.UpdateOffer{ID: newID(), From: from, Version: bd.Manifest.Version, Build: bd.Manifest.Build, Size: int64(len(data)), Found: b.now(), Detail: "test.boxupdate"}
	u.st.Offers = append(u.st.Offers, o)
	u.offers[o.ID] = data
	return o, nil
}

// SetUSBProblem is what the box says went wrong with the last stick.
func (b *Box) SetUSBProblem(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.upd().st.USBProblem = p
}

// WaitApplied waits for background applies to end.
func (b *Box) WaitApplied() {
	b.mu.Lock()
	u := b.upd()
	b.mu.Unlock()
	u.applying.Wait()
}

func newID() string {
	var r [16]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

func (b *Box) UpdateStatus(ctx context.Context, history int) (console.UpdateStatus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.upd().st
	if st.Applying != nil {
		a := *st.Applying
		st.Applying = &a
	}
	var h []console.UpdateRecord
	for i := len(st.History) - 1; i >= 0 && len(h) < history; i-- {
		h = append(h, st.History[i])
	}
	st.History = h
	st.Offers = append([]console.UpdateOffer(nil), st.Offers...)
	return st, nil
}

func (b *Box) BeginUpload(ctx context.Context, size int64) (console.Upload, error) {
	if size <= 0 || size > MaxUpload {
		return console.Upload{}, fmt.Errorf("consoletest: upload of %d bytes, want 1..%d", size, MaxUpload)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	id := newID()
	b.upd().uploads[id] = &fakeUpload{size: size}
	return console.Upload{ID: id, Size: size}, nil
}

func (b *Box) UploadStatus(ctx context.Context, id string) (console.Upload, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	up, ok := b.upd().uploads[id]
	if !ok {
		return console.Upload{}, fmt.Errorf("consoletest: no upload %q", id)
	}
	return console.Upload{ID: id, Size: up.size, Received: int64(len(up.data))}, nil
}

func (b *Box) UploadChunk(ctx context.Context, id string, offset int64, r io.Reader) (console.Upload, error) {
	data, err := io.ReadAll(r)
	b.mu.Lock()
	defer b.mu.Unlock()
	up, ok := b.upd().uploads[id]
	if !ok {
		return console.Upload{}, fmt.Errorf("consoletest: no upload %q", id)
	}
	cur := console.Upload{ID: id, Size: up.size, Received: int64(len(up.data))}
	if err != nil {
		return cur, err
	}
	if offset != cur.Received {
		return cur, fmt.Errorf("%w: got %d, resume at %d", console.ErrUploadOffset, offset, cur.Received)
	}
	if cur.Received+int64(len(data)) > up.size {
		return cur, fmt.Errorf("consoletest: chunk goes past the declared size %d", up.size)
	}
	if b.failChunks > 0 && offset == b.failAt {
		b.failChunks--
		b.chunksFailed++
		up.data = append(up.data, data[:len(data)/2]...)
		return console.Upload{ID: id, Size: up.size, Received: int64(len(up.data))}, errors.New("consoletest: connection dropped mid-chunk")
	}
	up.data = append(up.data, data...)
	return console.Upload{ID: id, Size: up.size, Received: int64(len(up.data))}, nil
}

func (b *Box) ApplyUpload(ctx context.Context, id, who, origin string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.upd()
	up, ok := u.uploads[id]
	if !ok {
		return fmt.Errorf("consoletest: no upload %q", id)
	}
	if int64(len(up.data)) != up.size {
		return fmt.Errorf("consoletest: upload %s incomplete: %d of %d bytes", id, len(up.data), up.size)
	}
	if err := b.startApply(u, up.data, "console", who, origin); err != nil {
		return err
	}
	delete(u.uploads, id)
	return nil
}

func (b *Box) ApplyOffer(ctx context.Context, id, who, origin string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.upd()
	data, ok := u.offers[id]
	if !ok {
		return fmt.Errorf("consoletest: no offer %q", id)
	}
	return b.startApply(u, data, "console", who, origin)
}

// startApply runs the fake apply in the background. b.mu held.
func (b *Box) startApply(u *updateState, data []byte, from, who, origin string) error {
	if u.st.Applying != nil {
		return console.ErrUpdateBusy
	}
	u.st.Applying = &console.ApplyProgress{From: from, Phase: "verify"}
	u.applying.Add(1)
	step := b.applyStep
	go func() {
		defer u.applying.Done()
		version, slot, err := b.fakeApply(u, data, step)
		b.mu.Lock()
		out := &console.ApplyOutcome{At: b.now(), From: from, OK: err == nil, Version: version, Slot: slot}
		rec := console.UpdateRecord{When: b.now(), From: u.st.Version, To: version, Outcome: "applied"}
		action, detail := "update-applied", version+" to slot "+slot
		if err != nil {
			out.Reason, rec.Outcome, rec.Why = err.Error(), "refused", err.Error()
			action, detail = "update-refused", err.Error()
		} else {
			u.st.Pending, u.st.PendingVersion = slot, version
		}
		u.st.Applying, u.st.Last = nil, out
		u.st.History = append(u.st.History, rec)
		b.audit = append(b.audit, console.AuditEntry{At: b.now(), Who: who, Origin: origin, Action: action, Detail: detail})
		b.mu.Unlock()
	}()
	return nil
}

// fakeApply parses, counts signatures, checks the floor, then reports the
// three phases over the payload bytes.
func (b *Box) fakeApply(u *updateState, data []byte, step time.Duration) (version, slot string, err error) {
	bd, err := bundle.Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", "", fmt.Errorf("updates: %w", err)
	}
	version = bd.Manifest.Version
	b.mu.Lock()
	floor := u.st.Floor
	b.mu.Unlock()
	if n := len(bd.Signatures); n < Threshold {
		return version, "", fmt.Errorf("updates: manifest signatures: %d valid of threshold %d", n, Threshold)
	}
	if bd.Manifest.Build <= floor {
		return version, "", fmt.Errorf("updates: build %d: build number not above the anti-rollback floor %d", bd.Manifest.Build, floor)
	}
	total := bd.Manifest.PayloadTotal()
	for _, phase := range []string{"verify", "write", "readback"} {
		for i := int64(0); i <= 4; i++ {
			b.mu.Lock()
			u.st.Applying = &console.ApplyProgress{From: "console", Phase: phase, Done: total * i / 4, Total: total}
			b.mu.Unlock()
			if step > 0 {
				time.Sleep(step)
			}
		}
	}
	return version, "B", nil
}

var _ console.Updates = (*Box)(nil)
