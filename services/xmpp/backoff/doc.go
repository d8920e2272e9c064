// Package backoff slows down password guessing: after a few failed logins
// for one key (an account, or a client address) every further attempt must
// wait, doubling each time up to a cap. A success clears the key.
//
// Time comes from an injected clock so tests need no sleeps. It imports
// only the standard library.
package backoff
