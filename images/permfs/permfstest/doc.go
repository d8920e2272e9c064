// Package permfstest has an in-memory twin of permfs.BLKPG for tests: it
// records what the kernel would have been told.
//
// It imports only the standard library.
package permfstest
