package xmpp

import (
	"syscall"
	"unsafe"
)

const canPark = true

// peekReady reports whether a read would not block, reading nothing
// (recv with MSG_PEEK|MSG_DONTWAIT into one byte).
func (r *rawConn) peekReady(fd uintptr) bool {
	_, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&r.peekBuf[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return e != syscall.EAGAIN
}
