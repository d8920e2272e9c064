package gokrazyslots

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/chatsecure/box/updates"
)

// Config says where the slots are.
type Config struct {
	Disk Disk   // the boot disk (Device on the box, ImageDisk in tests)
	Dir  string // state directory on /perm, e.g. /perm/box/slots
	// Booted reports the root partition (2 or 3) mounted at / now.
	Booted func() (int, error)
	// Initial is recorded for the booted slot when nothing is known about
	// it yet (first start of a flashed image).
	Initial updates.SlotInfo
}

// Slots is the gokrazy A/B pair.
type Slots struct {
	cfg        Config
	mu         sync.Mutex
	stagedBoot bool // OpenInactive("boot") wrote the staged boot file
}

var _ updates.Slots = (*Slots)(nil)

func slotOf(part int) string {
	if part == partB {
		return "B"
	}
	return "A"
}

func partOf(slot string) int {
	if slot == "B" {
		return partB
	}
	return partA
}

// Open checks that the disk has a readable cmdline.txt and a booted root,
// drops a staged boot payload left by an interrupted apply, and records
// cfg.Initial for the booted slot if it has no entry yet.
func Open(cfg Config) (*Slots, error) {
	if cfg.Disk == nil || cfg.Booted == nil || cfg.Dir == "" {
		return nil, errors.New("gokrazyslots: Disk, Booted and Dir are required")
	}
	if err := PrepareDir(cfg.Dir); err != nil {
		return nil, fmt.Errorf("gokrazyslots: %w", err)
	}
	s := &Slots{cfg: cfg}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, st, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	if _, ok := st.Slots[ss.Booted]; !ok {
		st.Slots[ss.Booted] = cfg.Initial
		if err := s.save(st); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Slots) stagedPath() string { return filepath.Join(s.cfg.Dir, StagedBootFile) }

// readBootCmdline reads cmdline.txt from the boot partition.
func (s *Slots) readBootCmdline() (cmdline, error) {
	f, err := s.cfg.Disk.Open(partBoot)
	if err != nil {
		return cmdline{}, err
	}
	defer f.Close()
	return readCmdline(f)
}

// editBoot rewrites the boot partition's cmdline.txt.
func (s *Slots) editBoot(part int, trial bool) error {
	f, err := s.cfg.Disk.Open(partBoot)
	if err != nil {
		return err
	}
	if err := editCmdline(f, part, trial); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// snapshot combines the boot chain's pointers with the state file. s.mu held.
func (s *Slots) snapshot() (updates.SlotState, state, error) {
	c, err := s.readBootCmdline()
	if err != nil {
		return updates.SlotState{}, state{}, err
	}
	active, err := c.root()
	if err != nil {
		return updates.SlotState{}, state{}, fmt.Errorf("gokrazyslots: %w", err)
	}
	booted, err := s.cfg.Booted()
	if err != nil {
		return updates.SlotState{}, state{}, fmt.Errorf("gokrazyslots: booted root: %w", err)
	}
	if booted != partA && booted != partB {
		return updates.SlotState{}, state{}, fmt.Errorf("gokrazyslots: booted from partition %d, not a root slot", booted)
	}
	st, err := s.load()
	if err != nil {
		return updates.SlotState{}, state{}, err
	}
	// Commit switches root= first and clears the state second: a crash in
	// between leaves a trial that is already the active slot.
	if st.Trial == slotOf(active) {
		st.Trial, st.TrialBoots = "", 0
	}
	ss := updates.SlotState{
		Active: slotOf(active), Booted: slotOf(booted),
		Trial: st.Trial, TrialBoots: st.TrialBoots,
		Slots: maps.Clone(st.Slots),
	}
	return ss, st, nil
}

// State reads the pointers and the state file.
func (s *Slots) State() (updates.SlotState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, _, err := s.snapshot()
	return ss, err
}

// Capacity is the partition size: root A and B, or the boot partition.
func (s *Slots) Capacity(payload string) (int64, error) {
	n, err := Capacity(s.cfg.Disk, payload)
	if err != nil {
		return 0, fmt.Errorf("gokrazyslots: %w", err)
	}
	return n, nil
}

// Capacity is what a payload may take on a gokrazy disk: the smaller root
// partition for "root", the boot partition for "boot".
func Capacity(d Disk, payload string) (int64, error) {
	switch payload {
	case "root":
		a, err := d.Size(partA)
		if err != nil {
			return 0, err
		}
		b, err := d.Size(partB)
		if err != nil {
			return 0, err
		}
		return min(a, b), nil
	case "boot":
		return d.Size(partBoot)
	}
	return 0, fmt.Errorf("no partition %q (have root, boot)", payload)
}

// Required is root only: the boot partition is shared by both slots, so a
// bundle without one keeps the kernel that is there.
func (s *Slots) Required() []string { return []string{"root"} }

// OpenInactive opens the inactive root partition, or for "boot" the staged
// boot file that MarkTrial copies to the boot partition.
func (s *Slots) OpenInactive(payload string) (updates.Partition, error) {
	if _, err := s.Capacity(payload); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, _, err := s.snapshot()
	if err != nil {
		return nil, err
	}
	p, staged, err := OpenInactive(ss, s.cfg.Disk, s.cfg.Dir, payload)
	if err != nil {
		return nil, fmt.Errorf("gokrazyslots: %w", err)
	}
	s.stagedBoot = s.stagedBoot || staged
	return p, nil
}

// MarkTrial records info for the inactive slot, installs a staged boot
// payload, and sets gokrazy's one-shot trial flag with root= still on the
// active slot. The state file is written first: a crash before the flag
// lands makes the next boot a fallback, never a boot of an unmarked slot.
func (s *Slots) MarkTrial(info updates.SlotInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, st, err := s.snapshot()
	if err != nil {
		return err
	}
	if ss.InTrial() {
		return fmt.Errorf("gokrazyslots: slot %s is running on trial", ss.Booted)
	}
	if ss.Booted == ss.Inactive() {
		return fmt.Errorf("gokrazyslots: slot %s is the running system", ss.Booted)
	}
	st.Trial, st.TrialBoots = ss.Inactive(), 0
	st.Slots[st.Trial] = info
	if err := s.save(st); err != nil {
		return err
	}
	active := partOf(ss.Active)
	if s.stagedBoot {
		if err := s.installBoot(active); err != nil {
			return err
		}
		s.stagedBoot = false
		return nil
	}
	return s.editBoot(active, true)
}

// installBoot patches the staged boot file's cmdline.txt (root= the active
// slot, trial flag) and copies it over the boot partition, reading it back.
func (s *Slots) installBoot(active int) error {
	staged, err := os.OpenFile(s.stagedPath(), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("gokrazyslots: staged boot: %w", err)
	}
	defer staged.Close()
	if err := editCmdline(staged, active, true); err != nil {
		return fmt.Errorf("gokrazyslots: staged boot: %w", err)
	}
	fi, err := staged.Stat()
	if err != nil {
		return fmt.Errorf("gokrazyslots: staged boot: %w", err)
	}
	capacity, err := s.cfg.Disk.Size(partBoot)
	if err != nil {
		return err
	}
	if fi.Size() > capacity {
		return fmt.Errorf("gokrazyslots: staged boot is %d bytes, partition %d", fi.Size(), capacity)
	}
	want := sha256.New()
	if _, err := io.Copy(want, io.NewSectionReader(staged, 0, fi.Size())); err != nil {
		return fmt.Errorf("gokrazyslots: hash staged boot: %w", err)
	}
	dst, err := s.cfg.Disk.Open(partBoot)
	if err != nil {
		return err
	}
	defer dst.Close()
	// From here until Sync returns the boot files can be torn (README).
	if _, err := io.Copy(io.NewOffsetWriter(dst, 0), io.NewSectionReader(staged, 0, fi.Size())); err != nil {
		return fmt.Errorf("gokrazyslots: write boot partition: %w", err)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("gokrazyslots: sync boot partition: %w", err)
	}
	got := sha256.New()
	if _, err := io.Copy(got, io.NewSectionReader(dst, 0, fi.Size())); err != nil {
		return fmt.Errorf("gokrazyslots: read back boot partition: %w", err)
	}
	if string(got.Sum(nil)) != string(want.Sum(nil)) {
		return fmt.Errorf("gokrazyslots: boot partition reads back differently from the staged payload")
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("gokrazyslots: close boot partition: %w", err)
	}
	staged.Close()
	if err := os.Remove(s.stagedPath()); err != nil {
		return fmt.Errorf("gokrazyslots: %w", err)
	}
	return nil
}

// ClearTrial drops the trial flag (root= stays on the active slot) and
// then the state file's trial.
func (s *Slots) ClearTrial() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, st, err := s.snapshot()
	if err != nil {
		return err
	}
	if err := s.editBoot(partOf(ss.Active), false); err != nil {
		return err
	}
	if s.stagedBoot {
		os.Remove(s.stagedPath())
		s.stagedBoot = false
	}
	st.Trial, st.TrialBoots = "", 0
	return s.save(st)
}

// Boot counts a trial boot, or notices that gokrazy's init already went
// back to the active root (the trial ran once, or its pivot failed) and
// records the fallback.
func (s *Slots) Boot() (updates.BootResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, st, err := s.snapshot()
	if err != nil {
		return updates.BootResult{}, err
	}
	var res updates.BootResult
	switch {
	case st.Trial != "" && ss.Booted == st.Trial:
		// gokrazy's init turned the flag into switch_on_boot before the
		// pivot; should it still be there, clear it so this trial runs once.
		if c, err := s.readBootCmdline(); err != nil {
			return updates.BootResult{}, err
		} else if c.has(flagTry) {
			if err := s.editBoot(partOf(ss.Active), false); err != nil {
				return updates.BootResult{}, err
			}
		}
		st.TrialBoots++
	case st.Trial != "":
		// Drop switch_on_boot (or a try flag whose pivot failed) so no
		// later boot surprises anyone.
		if err := s.editBoot(partOf(ss.Active), false); err != nil {
			return updates.BootResult{}, err
		}
		res.FellBack, res.FromTrial = true, st.Trial
		res.Why = TakeDeadlineNote(s.cfg.Dir)
		st.Trial, st.TrialBoots = "", 0
	default:
		// A note without a fallback is stale (a reboot raced a commit).
		TakeDeadlineNote(s.cfg.Dir)
		return updates.BootResult{State: ss}, nil
	}
	if err := s.save(st); err != nil {
		return updates.BootResult{}, err
	}
	ss.Trial, ss.TrialBoots = st.Trial, st.TrialBoots
	res.State = ss
	return res, nil
}

// Commit points root= at the booted trial slot (and drops gokrazy's flags),
// then clears the trial in the state file.
func (s *Slots) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, st, err := s.snapshot()
	if err != nil {
		return err
	}
	if !ss.InTrial() {
		return errors.New("gokrazyslots: commit: not running a trial")
	}
	if err := s.editBoot(partOf(ss.Booted), false); err != nil {
		return fmt.Errorf("gokrazyslots: commit: %w", err)
	}
	st.Trial, st.TrialBoots = "", 0
	return s.save(st)
}
