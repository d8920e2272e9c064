package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chatsecure/box/config/atomicfile"
)

// A Mounter mounts a removable filesystem read-only, noexec, nosuid and
// nodev, and unmounts it. The real one (NewMounter) calls mount(2) for
// vfat then exfat; sourcetest.Mounter copies a directory instead.
type Mounter interface {
	Mount(dev, dir string) error
	Unmount(dir string) error
}

// A USBWatcher looks for USB sticks under Sys/block on every tick, mounts
// each new one's partitions under MountDir, picks the newest bundle on it
// that Check accepts (Check verifies signatures, target, floor), copies it
// into Dir and calls Offer with the copy. It unmounts before the next
// stick; a stick is looked at once per insertion.
type USBWatcher struct {
	Sys      string // "/sys"
	Dev      string // "/dev"
	MountDir string // mount points are made (and removed) below it
	Dir      string // where offered bundles are copied
	Mounter  Mounter
	// Current is the running build: only newer bundles are offered.
	Current func() uint64
	// Check verifies a bundle before it is offered (nil: no check).
	Check func(ctx context.Context, path string) error
	Offer func(Offer)
	// Report gets what went wrong with a stick or a file on it.
	Report func(error)

	seen map[string]bool
}

// removableDisks lists block devices that are removable or hang off a USB
// bus (many sticks claim removable=0), e.g. "sdb".
func (w *USBWatcher) removableDisks() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(w.Sys, "block"))
	if err != nil {
		return nil, fmt.Errorf("source: usb: %w", err)
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "sd") {
			continue
		}
		p := filepath.Join(w.Sys, "block", name)
		rm, _ := os.ReadFile(filepath.Join(p, "removable"))
		real, _ := filepath.EvalSymlinks(p)
		if strings.TrimSpace(string(rm)) == "1" || strings.Contains(real, "/usb") {
			out = append(out, name)
		}
	}
	return out, nil
}

// filesystems lists the devices of a disk to try mounting: its partitions,
// or the whole disk when it has none (sticks formatted without a table).
// A disk of size 0 (a card reader with no card) has none.
func (w *USBWatcher) filesystems(disk string) []string {
	p := filepath.Join(w.Sys, "block", disk)
	if sz, _ := os.ReadFile(filepath.Join(p, "size")); strings.TrimSpace(string(sz)) == "0" {
		return nil
	}
	ents, _ := os.ReadDir(p)
	var parts []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), disk) {
			if _, err := os.Stat(filepath.Join(p, e.Name(), "partition")); err == nil {
				parts = append(parts, e.Name())
			}
		}
	}
	if len(parts) == 0 {
		return []string{disk}
	}
	return parts
}

// Step looks once: sticks that appeared are scanned, sticks that went are
// forgotten (so plugging one in again scans it again).
func (w *USBWatcher) Step(ctx context.Context) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	disks, err := w.removableDisks()
	if err != nil {
		w.report(err)
		return
	}
	now := map[string]bool{}
	for _, d := range disks {
		now[d] = true
		if w.seen[d] {
			continue
		}
		w.seen[d] = true
		for _, part := range w.filesystems(d) {
			if w.scan(ctx, part) {
				break
			}
		}
	}
	for d := range w.seen {
		if !now[d] {
			delete(w.seen, d)
		}
	}
}

// Run calls Step on every tick until ctx ends or ticks closes.
func (w *USBWatcher) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ticks:
			if !ok {
				return
			}
			w.Step(ctx)
		}
	}
}

func (w *USBWatcher) report(err error) {
	if w.Report != nil {
		w.Report(err)
	}
}

// scan mounts one filesystem, offers its best bundle and unmounts it. It
// reports whether something was offered.
func (w *USBWatcher) scan(ctx context.Context, part string) bool {
	mnt := filepath.Join(w.MountDir, part)
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		w.report(fmt.Errorf("source: usb %s: %w", part, err))
		return false
	}
	defer os.Remove(mnt)
	if err := w.Mounter.Mount(filepath.Join(w.Dev, part), mnt); err != nil {
		w.report(fmt.Errorf("source: usb %s: %w", part, err))
		return false
	}
	defer func() {
		if err := w.Mounter.Unmount(mnt); err != nil {
			w.report(fmt.Errorf("source: usb %s: unmount: %w", part, err))
		}
	}()
	found, err := ScanDir(mnt)
	if err != nil {
		w.report(fmt.Errorf("source: usb %s: %w", part, err))
		return false
	}
	var current uint64
	if w.Current != nil {
		current = w.Current()
	}
	for _, f := range found { // newest build first
		name := strings.TrimPrefix(f.Path, mnt+string(filepath.Separator))
		if f.Err != nil {
			w.report(fmt.Errorf("source: usb %s: %s: %w", part, name, f.Err))
			continue
		}
		if f.Manifest.Build <= current {
			continue
		}
		if w.Check != nil {
			if err := w.Check(ctx, f.Path); err != nil {
				w.report(fmt.Errorf("source: usb %s: %s refused: %w", part, name, err))
				continue
			}
		}
		dst := filepath.Join(w.Dir, fmt.Sprintf("usb-%d.boxupdate", f.Manifest.Build))
		if err := copyFile(f.Path, dst); err != nil {
			w.report(fmt.Errorf("source: usb %s: copy %s: %w", part, name, err))
			return false
		}
		if w.Offer != nil {
			w.Offer(Offer{From: "usb", Version: f.Manifest.Version, Build: f.Manifest.Build,
				Size: f.Size, Found: time.Now().UTC(), Detail: name, Path: dst})
		}
		return true
	}
	return false
}

// copyFile copies src to dst through a temporary file, fsynced and renamed.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(dst))
}

// errNoMount is what NewMounter returns off Linux.
var errNoMount = errors.New("source: mounting USB sticks needs Linux")
