package source

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"slices"
	"sync"
	"time"
)

// An Offer is a verified bundle waiting on the box for an admin to apply
// it (or for auto-apply): found on a USB stick and copied off it, or
// downloaded from the feed.
type Offer struct {
	ID      string    `json:"id"`
	From    string    `json:"from"` // "usb" or "feed"
	Version string    `json:"version"`
	Build   uint64    `json:"build"`
	Size    int64     `json:"size"`
	Found   time.Time `json:"found"`
	Detail  string    `json:"detail,omitempty"` // file name on the stick, feed URL
	Path    string    `json:"-"`                // the box's own copy
}

// Offers holds at most one offer per source (the newest found); it is
// safe for concurrent use.
type Offers struct {
	mu   sync.Mutex
	list []Offer
}

// Put adds o, replacing (and deleting the file of) an earlier offer from
// the same source, and returns it with its new ID.
func (s *Offers) Put(o Offer) Offer {
	var b [8]byte
	rand.Read(b[:])
	o.ID = hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, old := range s.list {
		if old.From == o.From {
			if old.Path != o.Path {
				os.Remove(old.Path)
			}
			s.list = slices.Delete(s.list, i, i+1)
			break
		}
	}
	s.list = append(s.list, o)
	return o
}

// List returns the offers, newest build first.
func (s *Offers) List() []Offer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.list)
	slices.SortFunc(out, func(a, b Offer) int {
		switch {
		case a.Build > b.Build:
			return -1
		case a.Build < b.Build:
			return 1
		}
		return 0
	})
	return out
}

// Get returns the offer with id.
func (s *Offers) Get(id string) (Offer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.list {
		if o.ID == id {
			return o, true
		}
	}
	return Offer{}, false
}

// Drop forgets every offer whose build is at or below build (applied, or
// overtaken by what runs now) and deletes their files.
func (s *Offers) Drop(build uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = slices.DeleteFunc(s.list, func(o Offer) bool {
		if o.Build <= build {
			os.Remove(o.Path)
			return true
		}
		return false
	})
}
