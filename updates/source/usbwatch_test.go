package source_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chatsecure/box/updates/bundle"
	"github.com/chatsecure/box/updates/source"
	"github.com/chatsecure/box/updates/source/sourcetest"
)

// stick makes a directory holding unsigned bundles with the given builds
// at the given paths.
func stick(t *testing.T, files map[string]uint64) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(t.TempDir(), "root.img")
	os.WriteFile(img, bytes.Repeat([]byte("root"), 1000), 0o644)
	for p, build := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := bundle.WriteUnsigned(filepath.Join(dir, p), bundle.Spec{Target: "amd64", Version: "1.0." + string(rune('0'+build%10)), Build: build},
			[]bundle.PayloadFile{{Name: "root", Path: img}}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type watchRig struct {
	w       *source.USBWatcher
	sys     *sourcetest.Sysfs
	m       *sourcetest.Mounter
	offers  []source.Offer
	reports []string
}

func newWatchRig(t *testing.T) *watchRig {
	r := &watchRig{sys: sourcetest.NewSysfs(t), m: &sourcetest.Mounter{}}
	r.w = &source.USBWatcher{
		Sys: r.sys.Root, Dev: "/dev", MountDir: filepath.Join(t.TempDir(), "usb"), Dir: t.TempDir(),
		Mounter: r.m,
		Current: func() uint64 { return 4 },
		Check: func(ctx context.Context, path string) error {
			f, err := bundle.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			if f.Manifest.Build == 7 {
				return errors.New("manifest signatures: 1 valid, need 2")
			}
			return nil
		},
		Offer:  func(o source.Offer) { r.offers = append(r.offers, o) },
		Report: func(err error) { r.reports = append(r.reports, err.Error()) },
	}
	return r
}

func TestUSBWatcherOffersNewestValidBundle(t *testing.T) {
	r := newWatchRig(t)
	ctx := context.Background()
	// An internal SATA disk and an empty card reader are never mounted.
	r.sys.AddDisk("sda", false, false, "1000000", "sda1")
	r.sys.AddDisk("sdc", true, true, "0")
	// A stick that says removable=0 but sits on USB: build 7 is newest
	// but refused, build 5 is offered, build 3 is older than what runs.
	r.sys.AddDisk("sdb", false, true, "2000000", "sdb1")
	r.m.Add("/dev/sdb1", stick(t, map[string]uint64{"a.boxupdate": 5, "new/b.boxupdate": 7, "old.boxupdate": 3}))
	r.w.Step(ctx)

	if len(r.offers) != 1 || r.offers[0].Build != 5 || r.offers[0].From != "usb" || r.offers[0].Detail != "a.boxupdate" {
		t.Fatalf("offers = %+v (reports %q)", r.offers, r.reports)
	}
	if len(r.reports) != 1 || !strings.Contains(r.reports[0], "new/b.boxupdate refused: manifest signatures") {
		t.Fatalf("reports = %q", r.reports)
	}
	// The offer is a copy the box keeps after the stick is unmounted.
	if f, err := bundle.Open(r.offers[0].Path); err != nil || f.Manifest.Build != 5 {
		t.Fatalf("offered copy: %v", err)
	} else {
		f.Close()
	}
	want := []string{"mount /dev/sdb1 " + filepath.Join(r.w.MountDir, "sdb1"), "unmount " + filepath.Join(r.w.MountDir, "sdb1")}
	if !slices.Equal(r.m.Calls, want) {
		t.Fatalf("mounter calls = %q, want %q", r.m.Calls, want)
	}
	if len(r.m.Mounted()) != 0 {
		t.Fatal("stick left mounted")
	}
	if _, err := os.Stat(filepath.Join(r.w.MountDir, "sdb1")); !os.IsNotExist(err) {
		t.Fatalf("mount point left behind: %v", err)
	}

	// Still plugged in: not scanned again.
	r.w.Step(ctx)
	if len(r.m.Calls) != 2 || len(r.offers) != 1 {
		t.Fatalf("stick scanned twice: %q", r.m.Calls)
	}
	// Unplugged and plugged in again with a newer bundle: scanned again.
	r.sys.Remove("sdb")
	r.w.Step(ctx)
	r.m.Add("/dev/sdb1", stick(t, map[string]uint64{"c.boxupdate": 9}))
	r.sys.AddDisk("sdb", false, true, "2000000", "sdb1")
	r.w.Step(ctx)
	if len(r.offers) != 2 || r.offers[1].Build != 9 {
		t.Fatalf("after replug: offers = %+v", r.offers)
	}
}

func TestUSBWatcherWholeDiskAndUnmountable(t *testing.T) {
	r := newWatchRig(t)
	ctx := context.Background()
	// No partition table: the whole disk is the filesystem.
	r.sys.AddDisk("sdd", true, false, "1000")
	r.m.Add("/dev/sdd", stick(t, map[string]uint64{"x.boxupdate": 6}))
	// A stick with a filesystem the box does not read.
	r.sys.AddDisk("sde", true, true, "1000", "sde1")
	r.w.Step(ctx)
	if len(r.offers) != 1 || r.offers[0].Build != 6 {
		t.Fatalf("offers = %+v", r.offers)
	}
	if len(r.reports) != 1 || !strings.Contains(r.reports[0], "sde1") || !strings.Contains(r.reports[0], "no vfat or exfat") {
		t.Fatalf("reports = %q", r.reports)
	}
	if len(r.m.Mounted()) != 0 {
		t.Fatal("left mounted")
	}
}

func TestOffersKeepOnePerSource(t *testing.T) {
	dir := t.TempDir()
	var o source.Offers
	file := func(name string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(name), 0o600)
		return p
	}
	a := o.Put(source.Offer{From: "usb", Build: 5, Path: file("a")})
	o.Put(source.Offer{From: "feed", Build: 8, Path: file("f")})
	b := o.Put(source.Offer{From: "usb", Build: 6, Path: file("b")})
	if _, ok := o.Get(a.ID); ok {
		t.Fatal("replaced offer still there")
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Fatal("replaced offer's file kept")
	}
	l := o.List()
	if len(l) != 2 || l[0].Build != 8 || l[1].ID != b.ID {
		t.Fatalf("list = %+v", l)
	}
	o.Drop(6)
	if l := o.List(); len(l) != 1 || l[0].From != "feed" {
		t.Fatalf("after drop: %+v", l)
	}
}
