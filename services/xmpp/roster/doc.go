// Package roster keeps each user's contact list and presence subscription
// states (RFC 6121 §2 and §3): none/to/from/both plus pending-out (ask) and
// pending-in, persisted in the store, with roster versioning (§2.6) as one
// counter per user.
//
// The subscription state machine is pure functions on Item (subscription.go),
// so it is tested without a database. It imports database/sql and elem.
package roster
