//go:build !linux

package xmpp

// Parking needs MSG_PEEK semantics checked only on Linux; elsewhere a
// session's reader blocks in its read as before.
const canPark = false

func (r *rawConn) peekReady(fd uintptr) bool { return true }
