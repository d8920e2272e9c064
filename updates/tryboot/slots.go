package tryboot

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"sync"

	"github.com/chatsecure/box/images"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/gokrazyslots"
)

// Partition numbers of gokrazy's layout (rootdev): boot stays partition 1.
const (
	partBoot = 1
	partA    = 2
	partB    = 3
)

// Config says where the slots are.
type Config struct {
	Disk gokrazyslots.Disk // root partitions 2 and 3, and the boot partition's size
	Boot Mounter           // the boot FAT (partition 1)
	Dir  string            // state directory on /perm, e.g. /perm/box/slots
	// Booted reports the root partition (2 or 3) mounted at / now.
	Booted func() (int, error)
	// DeviceTree is /proc/device-tree (a directory of fake properties in
	// tests).
	DeviceTree string
	Restart    Restarter
	// Initial is recorded for the booted slot when nothing is known yet.
	Initial updates.SlotInfo
	// Step, when set, is called between the steps of MarkTrial and Commit;
	// the crash test kills the process there.
	Step func(name string)
}

// Slots is the tryboot A/B pair.
type Slots struct {
	cfg        Config
	mu         sync.Mutex
	stagedBoot bool
}

var _ updates.Slots = (*Slots)(nil)

func prefixOf(slot string) string {
	if slot == "B" {
		return images.SlotPrefixB
	}
	return images.SlotPrefixA
}

func slotOfPrefix(p string) string {
	if p == images.SlotPrefixB {
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

// Open checks the boot FAT's slot layout and the booted root, drops a
// staged payload of an interrupted apply, and records cfg.Initial for the
// booted slot if it has no entry yet.
func Open(cfg Config) (*Slots, error) {
	if cfg.Disk == nil || cfg.Boot == nil || cfg.Booted == nil || cfg.Dir == "" || cfg.DeviceTree == "" || cfg.Restart == nil {
		return nil, errors.New("tryboot: Disk, Boot, Booted, Dir, DeviceTree and Restart are required")
	}
	if err := gokrazyslots.PrepareDir(cfg.Dir); err != nil {
		return nil, fmt.Errorf("tryboot: %w", err)
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

func (s *Slots) stagedPath() string { return filepath.Join(s.cfg.Dir, gokrazyslots.StagedBootFile) }

func (s *Slots) step(name string) {
	if s.cfg.Step != nil {
		s.cfg.Step(name)
	}
}

// withBoot mounts the boot FAT (read-write if rw) for fn and unmounts it
// after.
func (s *Slots) withBoot(rw bool, fn func(root string) error) error {
	root, unmount, err := s.cfg.Boot.Mount(rw)
	if err != nil {
		return err
	}
	err = fn(root)
	if uerr := unmount(); err == nil {
		err = uerr
	}
	return err
}

// activePrefix reads config.txt's slot prefix.
func activePrefix(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, configTxt))
	if err != nil {
		return "", fmt.Errorf("tryboot: %w", err)
	}
	p, err := images.OSPrefix(string(b))
	if err != nil {
		return "", fmt.Errorf("tryboot: %w", err)
	}
	return p, nil
}

// snapshot combines the firmware's pointer with the state file. s.mu held.
func (s *Slots) snapshot() (updates.SlotState, state, error) {
	var prefix string
	if err := s.withBoot(false, func(root string) (err error) {
		prefix, err = activePrefix(root)
		return err
	}); err != nil {
		return updates.SlotState{}, state{}, err
	}
	booted, err := s.cfg.Booted()
	if err != nil {
		return updates.SlotState{}, state{}, fmt.Errorf("tryboot: booted root: %w", err)
	}
	if booted != partA && booted != partB {
		return updates.SlotState{}, state{}, fmt.Errorf("tryboot: booted from partition %d, not a root slot", booted)
	}
	st, err := s.load()
	if err != nil {
		return updates.SlotState{}, state{}, err
	}
	active := slotOfPrefix(prefix)
	// Commit switches config.txt first and clears the state second: a
	// crash in between leaves a trial that is already the active slot.
	if st.Trial == active {
		st.Trial, st.TrialBoots = "", 0
	}
	bootedSlot := "A"
	if booted == partB {
		bootedSlot = "B"
	}
	ss := updates.SlotState{
		Active: active, Booted: bootedSlot,
		Trial: st.Trial, TrialBoots: st.TrialBoots,
		Slots: maps.Clone(st.Slots),
	}
	return ss, st, nil
}

// State reads config.txt's prefix, the booted root and the state file.
func (s *Slots) State() (updates.SlotState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, _, err := s.snapshot()
	return ss, err
}

// Capacity is the root partition's size, or for "boot" (the whole boot
// FAT of the release, staged on /perm) the boot partition's.
func (s *Slots) Capacity(payload string) (int64, error) {
	n, err := gokrazyslots.Capacity(s.cfg.Disk, payload)
	if err != nil {
		return 0, fmt.Errorf("tryboot: %w", err)
	}
	return n, nil
}

// Required is root and boot: each slot has its own kernel set, which must
// come from the same release as its root (kernel modules live there).
func (s *Slots) Required() []string { return []string{"root", "boot"} }

// OpenInactive opens the inactive root partition, or for "boot" the
// staged file MarkTrial copies the slot directory from.
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
	p, staged, err := gokrazyslots.OpenInactive(ss, s.cfg.Disk, s.cfg.Dir, payload)
	if err != nil {
		return nil, fmt.Errorf("tryboot: %w", err)
	}
	s.stagedBoot = s.stagedBoot || staged
	return p, nil
}

// MarkTrial records info for the inactive slot, writes its kernel set from
// the staged boot payload into the inactive slot directory, and last
// tryboot.txt naming it. Nothing config.txt points at is written.
func (s *Slots) MarkTrial(info updates.SlotInfo) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, st, err := s.snapshot()
	if err != nil {
		return err
	}
	if ss.InTrial() {
		return fmt.Errorf("tryboot: slot %s is running on trial", ss.Booted)
	}
	inactive := ss.Inactive()
	if ss.Booted == inactive {
		return fmt.Errorf("tryboot: slot %s is the running system", ss.Booted)
	}
	if !s.stagedBoot {
		return errors.New("tryboot: no boot payload staged: a slot needs its own kernel set")
	}
	staged, err := os.Open(s.stagedPath())
	if err != nil {
		return fmt.Errorf("tryboot: staged boot: %w", err)
	}
	defer staged.Close()
	payload, err := openPayload(staged)
	if err != nil {
		return err
	}
	trial, err := images.SetOSPrefix(payload.config, prefixOf(inactive))
	if err != nil {
		return fmt.Errorf("tryboot: boot payload's config.txt: %w", err)
	}
	files, src := payload.files, payloadSlotDir

	st.Trial, st.TrialBoots = inactive, 0
	st.Slots[inactive] = info
	if err := s.save(st); err != nil {
		return err
	}
	s.step("state saved")
	armed := false // tryboot.txt names the new slot
	err = s.withBoot(true, func(root string) error {
		// No tryboot.txt may name a directory while it is rewritten.
		if err := removeSynced(filepath.Join(root, trybootTxt)); err != nil {
			return fmt.Errorf("tryboot: %w", err)
		}
		s.step("tryboot.txt removed")
		active, err := activePrefix(root)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, prefixOf(inactive))
		if active == prefixOf(inactive) {
			return fmt.Errorf("tryboot: config.txt boots %s, the slot to be written", active)
		}
		running, err := os.ReadFile(filepath.Join(root, active, cmdlineTxt))
		if err != nil {
			return fmt.Errorf("tryboot: running slot: %w", err)
		}
		if err := os.RemoveAll(dst); err != nil {
			return fmt.Errorf("tryboot: clear %s: %w", dst, err)
		}
		s.step("slot cleared")
		for _, f := range files {
			data, err := payload.fs.ReadFile(path.Join(src, f.rel))
			if err != nil {
				return fmt.Errorf("tryboot: boot payload: %w", err)
			}
			if f.rel == cmdlineTxt {
				if data, err = slotCmdline(data, running, inactive); err != nil {
					return fmt.Errorf("tryboot: %w", err)
				}
			}
			p := filepath.Join(dst, filepath.FromSlash(f.rel))
			if err := copyTo(p, bytes.NewReader(data)); err != nil {
				return fmt.Errorf("tryboot: write %s: %w", p, err)
			}
			s.step("wrote " + f.rel)
		}
		if err := syncTree(dst); err != nil {
			return fmt.Errorf("tryboot: sync %s: %w", dst, err)
		}
		s.step("slot synced")
		// Last: tryboot.txt, complete under a temporary name first.
		tmp := filepath.Join(root, trybootTmp)
		if err := writeFileSync(tmp, []byte(trial)); err != nil {
			return fmt.Errorf("tryboot: %w", err)
		}
		s.step("tryboot.tmp written")
		if err := os.Rename(tmp, filepath.Join(root, trybootTxt)); err != nil {
			return fmt.Errorf("tryboot: %w", err)
		}
		if err := syncDir(root); err != nil {
			return fmt.Errorf("tryboot: %w", err)
		}
		armed = true
		s.step("tryboot.txt written")
		return nil
	})
	if err != nil {
		if !armed {
			// Nothing points at the half-written slot: forget the trial
			// so the next apply need not wait for a reboot.
			st.Trial, st.TrialBoots = "", 0
			if serr := s.save(st); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		return err
	}
	staged.Close()
	s.stagedBoot = false
	if err := os.Remove(s.stagedPath()); err != nil {
		return fmt.Errorf("tryboot: %w", err)
	}
	return nil
}

// syncTree fsyncs every directory under root, and root.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return syncDir(p)
	})
}

// Reboot restarts the machine: into the trial once (the tryboot flag)
// when a trial is marked and has not booted yet, plainly otherwise.
func (s *Slots) Reboot() error {
	s.mu.Lock()
	arg := ""
	ss, _, err := s.snapshot()
	if err == nil && ss.Trial != "" && ss.TrialBoots == 0 && ss.Booted != ss.Trial {
		err = s.withBoot(false, func(root string) error {
			b, err := os.ReadFile(filepath.Join(root, trybootTxt))
			if err != nil {
				return err
			}
			p, err := images.OSPrefix(string(b))
			if err != nil {
				return err
			}
			if p == prefixOf(ss.Trial) {
				arg = TrybootArg
			}
			return nil
		})
	}
	s.mu.Unlock()
	// A reboot must happen even when the trial cannot be checked: then
	// plainly, into the active slot, and the trial counts as fallen back.
	if rerr := s.cfg.Restart.Restart(arg); rerr != nil {
		return errors.Join(rerr, err)
	}
	return nil
}

// ClearTrial removes tryboot.txt, then the state's trial.
func (s *Slots) ClearTrial() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, st, err := s.snapshot()
	if err != nil {
		return err
	}
	if err := s.withBoot(true, func(root string) error {
		return removeSynced(filepath.Join(root, trybootTxt))
	}); err != nil {
		return fmt.Errorf("tryboot: %w", err)
	}
	if s.stagedBoot {
		os.Remove(s.stagedPath())
		s.stagedBoot = false
	}
	st.Trial, st.TrialBoots = "", 0
	return s.save(st)
}

// Boot counts a trial boot, or records that the firmware booted the
// active slot although a trial was marked (the trial ran once already, a
// crash before the reboot, or the firmware found the trial slot not
// viable) and drops tryboot.txt.
func (s *Slots) Boot() (updates.BootResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, st, err := s.snapshot()
	if err != nil {
		return updates.BootResult{}, err
	}
	flag, err := trybootFlag(s.cfg.DeviceTree)
	if err != nil {
		return updates.BootResult{}, err
	}
	var res updates.BootResult
	switch {
	case st.Trial != "" && ss.Booted == st.Trial && flag:
		st.TrialBoots++
	case st.Trial != "":
		// Either the old slot booted, or the trial slot's root without
		// the tryboot flag (nothing but config.txt points there, so
		// only a hand-made change does that): no trial either way.
		stale := false
		if err := s.withBoot(false, func(root string) error {
			_, err := os.Stat(filepath.Join(root, trybootTxt))
			stale = err == nil
			return nil
		}); err != nil {
			return updates.BootResult{}, err
		}
		if stale {
			if err := s.withBoot(true, func(root string) error {
				return removeSynced(filepath.Join(root, trybootTxt))
			}); err != nil {
				return updates.BootResult{}, fmt.Errorf("tryboot: %w", err)
			}
		}
		res.FellBack, res.FromTrial = true, st.Trial
		res.Why = gokrazyslots.TakeDeadlineNote(s.cfg.Dir)
		st.Trial, st.TrialBoots = "", 0
	default:
		// A note without a fallback is stale (a reboot raced a commit).
		gokrazyslots.TakeDeadlineNote(s.cfg.Dir)
		return updates.BootResult{State: ss}, nil
	}
	if err := s.save(st); err != nil {
		return updates.BootResult{}, err
	}
	ss.Trial, ss.TrialBoots = st.Trial, st.TrialBoots
	res.State = ss
	return res, nil
}

// Commit makes config.txt the trial's configuration (tryboot.txt): in
// place at the same length, one small write; then it drops tryboot.txt and
// the state's trial.
func (s *Slots) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, st, err := s.snapshot()
	if err != nil {
		return err
	}
	if !ss.InTrial() {
		return errors.New("tryboot: commit: not running a trial")
	}
	if err := s.withBoot(true, func(root string) error {
		next, err := os.ReadFile(filepath.Join(root, trybootTxt))
		if err != nil {
			return err
		}
		if p, err := images.OSPrefix(string(next)); err != nil || p != prefixOf(ss.Booted) {
			return fmt.Errorf("tryboot.txt boots %q (%v), not the running slot %s", p, err, ss.Booted)
		}
		s.step("tryboot.txt checked")
		if err := replaceConfig(root, next); err != nil {
			return err
		}
		s.step("config.txt switched")
		return removeSynced(filepath.Join(root, trybootTxt))
	}); err != nil {
		return fmt.Errorf("tryboot: commit: %w", err)
	}
	s.step("tryboot.txt dropped")
	st.Trial, st.TrialBoots = "", 0
	return s.save(st)
}

// replaceConfig writes config.txt. At the same length (both padded by
// images) it is overwritten in place, so the file's clusters and size do
// not change; otherwise a complete config.tmp is renamed over it, which on
// FAT is not atomic (README).
func replaceConfig(root string, next []byte) error {
	p := filepath.Join(root, configTxt)
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.Size() == int64(len(next)) {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(next, 0); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	tmp := filepath.Join(root, configTmp)
	if err := writeFileSync(tmp, next); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(root)
}
