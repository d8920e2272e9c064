// Package permtimetest has in-memory twins of permtime's Clock and Store.
// It imports permtime and the standard library.
package permtimetest
