// Command boxinit is the init process (/gokrazy/init) of the box's image.
//
// It does what gokrazy's generated init does — gokrazy.Boot, then supervise
// every program of the image — plus two things the box needs before any
// service starts: /perm formatted ext4 on first boot if the partition is
// blank, and the wall clock moved forward to the last time saved under /perm
// (the Pi has no RTC). A program's arguments come from the image, as
// package images/progargs writes them. gokrazy's HTTP server stays on its
// unix socket: the image has no /etc/gokr-pw.txt (see images.StageRoot).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/gokrazy/gokrazy"

	"github.com/chatsecure/box/images/permfs"
	"github.com/chatsecure/box/images/permtime"
	"github.com/chatsecure/box/images/progargs"
)

// version is set by the image build (-X main.version=).
var version = "dev"

const timeFile = "/perm/box/lasttime"

// ntpTimeFile is where gokrazy's ntp (run in /perm/home/ntp) saves the time
// at shutdown; at start it sets the clock to that time unconditionally,
// even backwards, which undoes what permtime.Restore did (seen in the e2e
// test: a boot's clock set back below the time saved on the boot before).
const ntpTimeFile = "/perm/home/ntp/ntp-time-at-last-shutdown"

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("prog", "boxinit")
	if err := gokrazy.Boot(version); err != nil {
		log.Error("gokrazy boot failed", "err", err)
		// Without Boot there is no /dev, /proc: nothing to supervise.
		select {}
	}
	if err := ensurePerm(log); err != nil {
		log.Error("no /perm: the box runs without persistent storage", "err", err)
	}
	clock, store := permtime.SystemClock{}, permtime.FileStore{Path: timeFile}
	if moved, err := permtime.Restore(clock, store); err != nil {
		log.Warn("restoring the saved time failed", "err", err)
	} else if moved {
		log.Info("clock moved forward to the saved time", "now", time.Now().UTC())
	}
	// permtime is the one keeper of the saved time: ntp finds no file and
	// leaves the clock alone until it reaches a server.
	if err := os.Remove(ntpTimeFile); err != nil && !os.IsNotExist(err) {
		log.Warn("removing ntp's saved time failed; ntp may set the clock back", "err", err)
	}
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		if err := os.MkdirAll(filepath.Dir(timeFile), 0o755); err != nil {
			log.Warn("saving the time: no directory", "err", err)
		}
		if err := permtime.Save(clock, store); err != nil {
			log.Warn("saving the time failed", "err", err)
		}
		if err := permtime.Keep(context.Background(), clock, store, t.C); err != nil {
			log.Warn("saving the time failed", "err", err)
		}
	}()

	var services []*gokrazy.Service
	for _, p := range programs(log) {
		args, err := programArgs(p)
		if err != nil {
			// Started without its arguments the program would run on
			// defaults the image did not ask for: better not at all.
			log.Error("not starting a program: its arguments are unreadable", "prog", p, "err", err)
			continue
		}
		services = append(services, gokrazy.NewService(exec.Command(p, args...)))
	}
	if err := gokrazy.SuperviseServices(services); err != nil {
		log.Error("supervise failed", "err", err)
	}
	select {}
}

// programs lists the executables to supervise: gokrazy's helpers in
// /gokrazy (except this init) and the box's programs in /user.
func programs(log *slog.Logger) []string {
	var out []string
	for _, dir := range []string{"/gokrazy", "/user"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			log.Warn("listing programs failed", "dir", dir, "err", err)
			continue
		}
		for _, e := range ents {
			if e.IsDir() || (dir == "/gokrazy" && e.Name() == "init") {
				continue
			}
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

// programArgs reads the arguments the image gives program p (see package
// progargs); none if the image has no file for it.
func programArgs(p string) ([]string, error) {
	b, err := os.ReadFile(progargs.Path(p))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("args: %w", err)
	}
	return progargs.Parse(string(b)), nil
}

// ensurePerm formats and mounts /perm if gokrazy.Boot could not mount it
// because the partition is still blank (first boot of a flashed image).
func ensurePerm(log *slog.Logger) error {
	if mounted, err := isMountpoint("/perm"); err != nil || mounted {
		return err
	}
	cmdline, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return fmt.Errorf("perm: %w", err)
	}
	guid, err := permfs.FirstPartitionGUID(string(cmdline))
	if err != nil {
		return err
	}
	disk, err := permfs.FindDisk("/sys/block", "/dev", guid)
	if err != nil {
		return err
	}
	dev := permfs.PartitionPath(disk, 4)
	// A blank /perm first takes the rest of the disk the image was flashed
	// onto. Grow leaves a partition with data alone; if growing fails,
	// /perm is formatted at the size the kernel knows.
	start := time.Now()
	if g, err := permfs.GrowDevice(disk, 4); err != nil && !errors.Is(err, permfs.ErrNotBlank) {
		log.Warn("growing /perm to the end of the disk failed; formatting it as it is", "disk", disk, "err", err)
	} else if g.Grown() {
		log.Info("grew /perm to the end of the disk (first boot)", "dev", dev, "old_bytes", g.OldBytes, "new_bytes", g.NewBytes, "took", time.Since(start).Round(time.Millisecond))
	}
	start = time.Now()
	formatted, err := permfs.FormatIfBlank(dev)
	if errors.Is(err, permfs.ErrNotBlank) {
		return fmt.Errorf("perm: %s holds data gokrazy could not mount; not formatting it", dev)
	}
	if err != nil {
		return err
	}
	if formatted {
		log.Info("formatted /perm (first boot)", "dev", dev, "took", time.Since(start).Round(time.Millisecond))
	}
	if err := syscall.Mount(dev, "/perm", "ext4", 0, ""); err != nil {
		return fmt.Errorf("perm: mount %s: %w", dev, err)
	}
	// What gokrazy.Boot does after mounting /perm: /var points at /perm/var.
	if err := os.MkdirAll("/perm/var", 0o755); err != nil {
		return fmt.Errorf("perm: %w", err)
	}
	if err := os.Symlink("/run", "/perm/var/run"); err != nil && !os.IsExist(err) {
		return fmt.Errorf("perm: %w", err)
	}
	return nil
}

func isMountpoint(dir string) (bool, error) {
	var st, parent syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return false, fmt.Errorf("perm: %w", err)
	}
	if err := syscall.Stat(filepath.Dir(dir), &parent); err != nil {
		return false, fmt.Errorf("perm: %w", err)
	}
	return st.Dev != parent.Dev, nil
}
