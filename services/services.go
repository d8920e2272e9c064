package services

import (
	"context"
	"net/http"
)

// A Service is one thing the box serves (XMPP, push, console, ...).
// The appliance starts each in its own goroutine once the store is open.
type Service interface {
	// Name is short and stable: it names the service in logs, health
	// reports and the admin API.
	Name() string
	// Run serves until ctx is done and returns nil after a clean stop.
	// It returns an error only when the service cannot go on.
	Run(ctx context.Context) error
}

// Health is one subsystem's line in the health report.
type Health struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// A HealthReporter can say how it is doing.
type HealthReporter interface {
	Health() Health
}

// An AdminHandler adds endpoints to the local admin API (unix socket, used by
// boxctl). Patterns are net/http ServeMux patterns under /v1/<name>/.
type AdminHandler interface {
	RegisterAdmin(mux *http.ServeMux)
}
