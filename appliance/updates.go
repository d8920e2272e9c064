package appliance

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/devslots"
	"github.com/chatsecure/box/updates/gokrazyslots"
	"github.com/chatsecure/box/updates/source"
	"github.com/chatsecure/box/updates/trust"
	"github.com/chatsecure/box/updates/tryboot"
)

// Dev mode plays the boot firmware with partition files under the data dir.
const (
	dirSlots      = "slots"
	dirStaging    = "staging"
	devSlotBytes  = 512 << 20
	stagingMaxLen = 1 << 30
)

// target is the update target this binary runs on.
func target() string {
	if runtime.GOARCH == "arm64" {
		return "pi"
	}
	return "amd64"
}

// storeFloor keeps the anti-rollback floor in the store. A factory reset
// lowers it, so with a TPM it is paired with the TPM NV counter (floor.go).
type storeFloor struct{ s *System }

func (f storeFloor) Get() (uint64, error) {
	v, err := f.s.getMeta(context.Background(), metaUpdateFloor)
	if err != nil || v == "" {
		return 0, err
	}
	return strconv.ParseUint(v, 10, 64)
}

func (f storeFloor) Raise(n uint64) error {
	cur, err := f.Get()
	if err != nil || n <= cur {
		return err
	}
	return f.s.setMeta(context.Background(), metaUpdateFloor, strconv.FormatUint(n, 10))
}

// storeTrust keeps the signing key set reached by rotation.
type storeTrust struct{ s *System }

func (t storeTrust) Get() (trust.Set, bool, error) {
	v, err := t.s.getMeta(context.Background(), metaUpdateTrust)
	if err != nil || v == "" {
		return trust.Set{}, false, err
	}
	var set trust.Set
	if err := json.Unmarshal([]byte(v), &set); err != nil {
		return trust.Set{}, false, fmt.Errorf("appliance: stored trust set: %w", err)
	}
	return set, true, nil
}

func (t storeTrust) Put(set trust.Set) error {
	b, err := json.Marshal(set)
	if err != nil {
		return err
	}
	return t.s.setMeta(context.Background(), metaUpdateTrust, string(b))
}

// storeHistory appends to update_history.
type storeHistory struct{ s *System }

func (h storeHistory) Append(r updates.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = h.s.store.DB().Exec("INSERT INTO update_history(at, record) VALUES(?, ?)", r.When.UTC().Format(time.RFC3339), string(b))
	return err
}

// setupUpdates makes the updater once the store is open and runs its boot
// step. It returns the admin handler, or nil with the reason updates are
// unavailable. s.mu held.
func (s *System) setupUpdates(ctx context.Context) (services.AdminHandler, error) {
	slots, err := s.openSlots()
	if err != nil {
		return nil, err
	}
	u, err := updates.New(updates.Config{
		Target:  target(),
		Slots:   slots,
		Floor:   s.updateFloor(),
		Trust:   storeTrust{s},
		History: storeHistory{s},
	})
	if err != nil {
		return nil, err
	}
	staging, err := source.NewStaging(s.path(dirStaging), stagingMaxLen)
	if err != nil {
		return nil, err
	}
	s.updater = u
	if s.slotsBooted {
		// Boot counts a boot: once per process, not again when the
		// store reopens after an unlock or a factory reset.
		_, h := s.newUpdateCenter(u, staging)
		return h, nil
	}
	res, err := u.Boot(ctx)
	if err != nil {
		return nil, err
	}
	s.slotsBooted = true
	if res.FellBack {
		s.log.Warn("updates: the trial system did not commit; back on the old one")
	}
	s.trial = res.State.InTrial()
	_, h := s.newUpdateCenter(u, staging)
	return h, nil
}

// bootFSMount is where the tryboot driver mounts the Pi's boot FAT while
// it changes it (gokrazy's /tmp is a tmpfs).
const bootFSMount = "/tmp/box-bootfs"

// openSlots picks the A/B driver: partition files under the data dir in
// dev mode; on the image, the firmware's tryboot with slot directories
// when a Pi 4 or 5 booted one (then reboots go through the driver, which
// sets the tryboot flag for a pending trial), none on a Pi 4 or 5 that did
// not, else gokrazy's root partitions and cmdline.txt (amd64, Pi 3).
// Anywhere else (boxd outside dev mode on a machine that is not a gokrazy
// image) there is nothing safe to write to.
func (s *System) openSlots() (updates.Slots, error) {
	running := updates.SlotInfo{Version: s.version}
	if s.cfg.Dev {
		return devslots.Open(s.path(dirSlots), running, devSlotBytes)
	}
	if !gokrazyslots.OnGokrazy() {
		return nil, fmt.Errorf("not a gokrazy image: no A/B slot driver for this system")
	}
	disk, booted, err := gokrazyslots.Device()
	if err != nil {
		return nil, err
	}
	if tryboot.Detect(tryboot.DeviceTree) {
		tb, err := tryboot.Open(tryboot.Config{
			Disk: disk, Boot: tryboot.VFAT{Device: disk[1], Dir: bootFSMount},
			Dir: s.path(dirSlots), Booted: booted, DeviceTree: tryboot.DeviceTree,
			Restart: tryboot.SysRestarter{}, Initial: running,
		})
		if err != nil {
			return nil, err
		}
		if s.reboot != nil {
			s.reboot = tb.Reboot
		}
		return tb, nil
	}
	if tryboot.Pi45(tryboot.DeviceTree) {
		// gokrazyslots would edit the root cmdline.txt that this board
		// does not read when config.txt sends it to a slot directory.
		return nil, fmt.Errorf("this Pi 4/5 did not boot a tryboot slot directory (no chosen/os_prefix a/ or b/): an image from before the slot layout, or slot a/ is damaged; reflash to get updates")
	}
	return gokrazyslots.Open(gokrazyslots.Config{Disk: disk, Dir: s.path(dirSlots), Booted: booted, Initial: running})
}

// applying moves the state machine (and so the LED) in and out of updating.
func (s *System) applying(running bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if running {
		s.beforeUpdate = s.m.state
		s.setState(StateUpdating, "applying a signed update")
		return
	}
	if s.m.state == StateUpdating {
		s.setState(s.beforeUpdate, "update written; it runs on trial after the next reboot")
	}
}

// trialDeadline is how long a trial boot has to pass its health check;
// trialPoll is the pause between rounds. boxinit's own deadline (5 min by
// default, see cmd/boxinit) is the backstop when boxd itself hangs.
const (
	trialDeadline = 2 * time.Minute
	trialPoll     = 2 * time.Second
)

// commitTrial decides a trial boot: rounds of the health check
// (healthcheck.go) until every check passes (commit), one fails for good,
// or trialDeadline passes (abandon, with which check failed and why in the
// update history, then reboot into the old system). It runs on its own
// goroutine so the box serves (and boxctl answers) meanwhile. s.mu held by
// the caller.
func (s *System) commitTrial(ctx context.Context) {
	if !s.trial || s.updater == nil {
		return
	}
	s.trial = false
	u := s.updater
	go func() {
		round := func() checkReport {
			s.mu.Lock()
			checks := s.trialChecks(ctx)
			s.mu.Unlock()
			return runChecks(ctx, checks)
		}
		rep, ok := decideTrial(round, time.Now, func() { time.Sleep(trialPoll) }, trialDeadline)
		if !ok {
			why := "health check " + rep.String()
			s.log.Error("updates: trial boot unhealthy; abandoning", "why", why)
			if err := u.Abandon(ctx, why); err != nil {
				s.log.Error("updates: abandon", "err", err)
				return
			}
			// The old system is the next boot; go there now rather
			// than keep serving from the unhealthy one.
			if err := s.Reboot(ctx, "updates", "local"); err != nil {
				s.log.Error("updates: reboot after abandon", "err", err)
			}
			return
		}
		if err := u.Commit(ctx); err != nil {
			s.log.Error("updates: commit", "err", err)
			return
		}
		s.log.Info("updates: trial boot healthy; committed", "skipped", strings.Join(rep.skipped, "; "))
	}()
}

// decideTrial runs rounds until one passes (true), fails for good, or the
// deadline since the first round has passed (false, with the last round).
func decideTrial(round func() checkReport, now func() time.Time, wait func(), deadline time.Duration) (checkReport, bool) {
	end := now().Add(deadline)
	for {
		rep := round()
		if rep.ok() {
			return rep, true
		}
		if rep.final || !now().Before(end) {
			return rep, false
		}
		wait()
	}
}
