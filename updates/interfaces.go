package updates

import (
	"io"
	"time"

	"github.com/chatsecure/box/updates/trust"
)

// A Floor is the anti-rollback floor: a bundle's build number must be above
// it. Raise never lowers it (a TPM NV counter only counts up); raising to a
// value at or below the floor is a no-op.
type Floor interface {
	Get() (uint64, error)
	Raise(uint64) error
}

// A TrustStore keeps the key set reached through rotation statements.
// Get reports ok=false while the image's root set still applies.
type TrustStore interface {
	Get() (set trust.Set, ok bool, err error)
	Put(trust.Set) error
}

// History records what happened to each update.
type History interface {
	Append(Record) error
}

// Outcome is how an update attempt ended (so far).
type Outcome string

// Outcomes, in the order an update can go through them.
const (
	Refused    Outcome = "refused"     // verification failed; nothing written
	Failed     Outcome = "failed"      // writing the inactive slot failed; old system still next
	Applied    Outcome = "applied"     // inactive slot written, trial boot pending
	Trial      Outcome = "trial"       // booted into the new slot on trial
	Committed  Outcome = "committed"   // health checks passed; new slot active
	RolledBack Outcome = "rolled-back" // trial not committed; old slot is next boot
	Abandoned  Outcome = "abandoned"   // pending trial cancelled before booting it
	KeyRotated Outcome = "key-rotated" // a new signing key set was accepted
)

// A Record is one line of the update history.
type Record struct {
	When      time.Time `json:"when"`
	From      string    `json:"from,omitempty"`
	FromBuild uint64    `json:"from_build,omitempty"`
	To        string    `json:"to,omitempty"`
	ToBuild   uint64    `json:"to_build,omitempty"`
	Outcome   Outcome   `json:"outcome"`
	Why       string    `json:"why,omitempty"`
}

// SlotInfo is what is installed in a slot.
type SlotInfo struct {
	Version string `json:"version,omitempty"`
	Build   uint64 `json:"build,omitempty"`
}

// SlotState is the A/B picture at one moment.
type SlotState struct {
	Active     string              `json:"active"`      // committed slot: the fallback
	Booted     string              `json:"booted"`      // slot running now
	Trial      string              `json:"trial"`       // slot marked for a trial boot, "" if none
	TrialBoots int                 `json:"trial_boots"` // boots of Trial so far without commit
	Slots      map[string]SlotInfo `json:"slots"`
}

// Inactive is the slot an update writes to.
func (s SlotState) Inactive() string {
	if s.Active == "A" {
		return "B"
	}
	return "A"
}

// InTrial reports whether the running system is an uncommitted trial.
func (s SlotState) InTrial() bool { return s.Trial != "" && s.Booted == s.Trial }

// A Partition is one payload's place in the inactive slot.
type Partition interface {
	io.WriterAt
	io.ReaderAt
	Sync() error
	Close() error
}

// BootResult is what Slots.Boot found.
type BootResult struct {
	State SlotState
	// FellBack is set when a trial slot had already been booted without a
	// commit, so this boot went back to the active slot.
	FellBack  bool
	FromTrial string // the abandoned trial slot when FellBack
	// Why, when the driver knows it, says why the trial fell back (e.g.
	// the image's init rebooted it at its deadline); it goes into the
	// history record.
	Why string
}

// Slots is the A/B partition pair and its boot pointer.
//
// Every method that changes the state is atomic: after a crash the state is
// the old one or the new one.
type Slots interface {
	State() (SlotState, error)
	// Capacity returns how many bytes a payload name may have, and an
	// error for names the slot has no partition for.
	Capacity(payload string) (int64, error)
	// Required lists the payloads a bundle must carry: a slot is only
	// bootable when every one of its partitions is from the same release.
	Required() []string
	// OpenInactive opens the inactive slot's partition for payload.
	OpenInactive(payload string) (Partition, error)
	// MarkTrial makes the inactive slot, now holding info, the next boot,
	// once; the boot after that goes back to the active slot unless Commit
	// was called.
	MarkTrial(info SlotInfo) error
	// ClearTrial makes the active slot the next boot again.
	ClearTrial() error
	// Boot is called once at every start: it counts a trial boot, or falls
	// back when the trial was already booted without a commit.
	Boot() (BootResult, error)
	// Commit makes the booted trial slot the active one.
	Commit() error
}

// Phase names a step of an apply, for progress reports.
type Phase string

// Phases of Apply, in order.
const (
	PhaseVerify   Phase = "verify"   // hashing payloads in the bundle, nothing written yet
	PhaseWrite    Phase = "write"    // streaming to the inactive slot
	PhaseReadBack Phase = "readback" // hashing what was written
	PhaseDone     Phase = "done"     // trial boot marked
)

// Progress is one progress report. Done and Total count bytes of all
// payloads within the phase.
type Progress struct {
	Phase   Phase  `json:"phase"`
	Payload string `json:"payload,omitempty"`
	Done    int64  `json:"done"`
	Total   int64  `json:"total"`
}

// ProgressFunc receives progress; it must not block for long.
type ProgressFunc func(Progress)
