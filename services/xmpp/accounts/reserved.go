package accounts

import "strings"

// ReservedPrefix starts the localparts the box keeps for itself: the
// one-shot login of its own health check (package xmpp, HealthLogin). No
// account with such a name can be created, renamed to, or given a
// password, so a health login can never become, or collide with, a
// person's account.
const ReservedPrefix = "_box-healthcheck-"

// IsReserved reports whether localpart (already normalized) is kept for the
// box itself.
func IsReserved(localpart string) bool { return strings.HasPrefix(localpart, ReservedPrefix) }
