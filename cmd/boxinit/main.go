package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/gokrazy/gokrazy"
	"golang.org/x/sys/unix"

	"github.com/chatsecure/box/images/permfs"
	"github.com/chatsecure/box/images/permtime"
	"github.com/chatsecure/box/images/progargs"
	"github.com/chatsecure/box/updates/gokrazyslots"
	"github.com/chatsecure/box/updates/tryboot"
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
	feedWatchdog(log)
	flags, err := initFlags()
	if err != nil {
		log.Error("boxinit arguments unusable; using the defaults", "err", err)
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

	go watchTrial(log, flags)

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

// flags are boxinit's own arguments.
type flags struct {
	trialDeadline time.Duration
	slotsDir      string
}

// initFlags reads boxinit's arguments from the image; defaults when it
// has none or they are bad.
func initFlags() (flags, error) {
	args, err := programArgs("/gokrazy/init")
	if err != nil {
		return defaultFlags, err
	}
	return parseFlags(args)
}

var defaultFlags = flags{trialDeadline: defaultTrialDeadline, slotsDir: "/perm/box/slots"}

func parseFlags(args []string) (flags, error) {
	f := defaultFlags
	fs := flag.NewFlagSet("boxinit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.DurationVar(&f.trialDeadline, "trial-deadline", defaultFlags.trialDeadline, "how long a trial boot may run uncommitted before boxinit reboots it")
	fs.StringVar(&f.slotsDir, "slots-dir", defaultFlags.slotsDir, "boxd's slot state directory")
	if err := fs.Parse(args); err != nil {
		return defaultFlags, fmt.Errorf("args: %w", err)
	}
	if fs.NArg() > 0 {
		return defaultFlags, fmt.Errorf("args: unexpected %q", fs.Args())
	}
	if f.trialDeadline < 30*time.Second {
		return defaultFlags, fmt.Errorf("args: -trial-deadline %s is below 30s: no trial could commit", f.trialDeadline)
	}
	if !filepath.IsAbs(f.slotsDir) {
		return defaultFlags, fmt.Errorf("args: -slots-dir %q is not absolute", f.slotsDir)
	}
	return f, nil
}

// watchTrial runs the trial-boot deadline against the boot disk.
func watchTrial(log *slog.Logger, f flags) {
	log = log.With("part", "trial watch")
	disk, booted, err := gokrazyslots.Device()
	if err != nil {
		log.Warn("trial watch: no boot disk; no deadline on trial boots", "err", err)
		return
	}
	// On a Pi 4/5 the firmware's config.txt picks the slot, and the FAT
	// root's cmdline.txt is only the Pi 3's (see tryboot.Roots).
	roots := func() (string, string, error) { return gokrazyslots.Roots(disk, booted) }
	if tryboot.Detect(tryboot.DeviceTree) {
		roots = func() (string, string, error) { return tryboot.Roots(disk, booted) }
	}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	w := &trialWatch{
		deadline: f.trialDeadline,
		roots:    roots,
		now:      time.Now,
		reboot: func(why string) error {
			// Best effort: the reboot matters more than the note.
			if err := gokrazyslots.WriteDeadlineNote(f.slotsDir, why); err != nil {
				log.Warn("trial watch: no note for the next boot", "err", err)
			}
			return rebootNow()
		},
		log: log,
	}
	w.run(t.C)
}

// rebootNow flushes the file systems and restarts the machine. No service
// is asked to stop first: the one that matters, boxd, is hung or failing,
// and the store is crash-safe (SQLite WAL) by design.
func rebootNow() error {
	syscall.Sync()
	return unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
}
