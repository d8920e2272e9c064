// Package permtime keeps the wall clock from going backwards across reboots
// on boxes without a real-time clock (the Raspberry Pi): it stores the last
// known time under /perm and, at boot, moves a clock that starts earlier
// forward to it. TLS certificate checks and TOTP codes need a clock that is
// at least roughly right before NTP (gokrazy's ntp, when reachable) corrects
// it.
//
// Clock and Store are injected; permtimetest has in-memory twins.
// It imports config/atomicfile, golang.org/x/sys/unix and the standard library.
package permtime
