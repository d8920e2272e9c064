package tis

import "time"

// Timeouts bound every wait of the driver; no poll loop runs without one.
type Timeouts struct {
	A    time.Duration // locality grant, burstCount becoming non-zero
	B    time.Duration // commandReady after writing it
	C    time.Duration // stsValid after a FIFO access
	D    time.Duration // command execution (dataAvail after tpmGo)
	Long time.Duration // execution of key-generating commands (CreatePrimary, Create, CreateLoaded)
}

// DefaultTimeouts are the PTP values the brief names (A 750 ms, B/C 2 s,
// D 30 s) plus Linux's 300 s for key generation, which an SLB9670 generating
// an RSA key can need.
var DefaultTimeouts = Timeouts{
	A:    750 * time.Millisecond,
	B:    2 * time.Second,
	C:    2 * time.Second,
	D:    30 * time.Second,
	Long: 300 * time.Second,
}

func (t Timeouts) orDefault() Timeouts {
	d := DefaultTimeouts
	if t.A > 0 {
		d.A = t.A
	}
	if t.B > 0 {
		d.B = t.B
	}
	if t.C > 0 {
		d.C = t.C
	}
	if t.D > 0 {
		d.D = t.D
	}
	if t.Long > 0 {
		d.Long = t.Long
	}
	return d
}

// Command codes whose execution time is Long rather than D.
const (
	ccCreatePrimary = 0x131
	ccCreate        = 0x153
	ccCreateLoaded  = 0x191
	ccStartup       = 0x144
)

func (t Timeouts) execution(cc uint32) time.Duration {
	switch cc {
	case ccCreatePrimary, ccCreate, ccCreateLoaded:
		return t.Long
	}
	return t.D
}
