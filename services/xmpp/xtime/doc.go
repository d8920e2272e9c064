// Package xtime answers XEP-0202 Entity Time for the server, in UTC, from
// an injected clock.
//
// It imports elem and router.
package xtime
