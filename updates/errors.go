package updates

import "errors"

// Reasons an update is refused or fails. Errors from Verify and Apply wrap
// one of these (or a bundle/trust error) with detail.
var (
	ErrWrongProduct = errors.New("bundle is for another product")
	ErrWrongTarget  = errors.New("bundle is for another target")
	ErrDowngrade    = errors.New("build number not above the anti-rollback floor")
	ErrTooOld       = errors.New("running version is below the bundle's minimum")
	ErrPayloadHash  = errors.New("payload sha256 mismatch")
	ErrReadBack     = errors.New("read-back sha256 mismatch")
	ErrNoPartition  = errors.New("no partition for payload")
	ErrMissing      = errors.New("bundle lacks a payload the slot needs")
	ErrTooLarge     = errors.New("payload larger than its partition")
	ErrTrialRunning = errors.New("running an uncommitted trial")
	ErrBusy         = errors.New("another update is being applied")
)
