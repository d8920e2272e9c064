package adminapi

import "github.com/chatsecure/box/services"

// SocketName is the socket's file name inside the data directory.
const SocketName = "boxd.sock"

// Status is GET /v1/status.
type Status struct {
	State   string                     `json:"state"`
	Reason  string                     `json:"reason,omitempty"`
	Version string                     `json:"version"`
	Dev     bool                       `json:"dev"`
	DataDir string                     `json:"data_dir"`
	Uptime  string                     `json:"uptime"`
	LED     string                     `json:"led,omitempty"`
	Health  map[string]services.Health `json:"health"`
	// SetupCode is shown while the box is unclaimed: whoever enters it in
	// the console creates the first admin.
	SetupCode string `json:"setup_code,omitempty"`
	// RecoveryPending is true until an admin confirms having saved the
	// recovery code.
	RecoveryPending bool `json:"recovery_pending,omitempty"`
	// CertFingerprint is the SHA-256 of the box's TLS certificate, so the
	// first visit to the console can be checked.
	CertFingerprint string `json:"cert_fingerprint,omitempty"`
}

// UnlockRequest is POST /v1/unlock.
type UnlockRequest struct {
	RecoveryCode string `json:"recovery_code"`
}

// RecoveryCode is GET /v1/recovery: the code, while not yet confirmed.
type RecoveryCode struct {
	Code string `json:"code"`
}

// FactoryResetRequest is POST /v1/factory-reset; Confirm must be "erase".
type FactoryResetRequest struct {
	Confirm string `json:"confirm"`
	Who     string `json:"who,omitempty"`
}

// ButtonRequest is POST /v1/button: press the dev-mode fake button.
type ButtonRequest struct {
	Hold string `json:"hold"` // a duration such as "10s"; empty is a short press
}

// Error is the body of every non-2xx answer.
type Error struct {
	Error string `json:"error"`
}
