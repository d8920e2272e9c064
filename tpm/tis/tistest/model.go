package tistest

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// Register layout and bits, from the PTP FIFO interface (see doc.go for
// why they are not shared with package tis).
const (
	offAccess  = 0x000
	offIntfCap = 0x014
	offSts     = 0x018
	offFIFO    = 0x024
	offDIDVID  = 0xF00
	offRID     = 0xF04

	accValid   = 0x80
	accActive  = 0x20
	accPending = 0x04
	accRequest = 0x02

	stValid     = 0x80
	stReady     = 0x40
	stGo        = 0x20
	stDataAvail = 0x10
	stExpect    = 0x08
	stSelfTest  = 0x04
	stRetry     = 0x02
	stFamily2   = 1 << 26 // tpmFamily = TPM 2.0

	// DIDVID is what the model reports in TPM_DID_VID: an Infineon SLB9670.
	DIDVID = 0x001B15D1

	fifoCapacity = 4096
)

// A Backend executes one TPM 2.0 command.
type Backend func(cmd []byte) ([]byte, error)

// Knobs make the model behave like a particular (or broken) TPM. The zero
// value is a well-behaved TPM whose locality 0 is not yet held.
type Knobs struct {
	LocalityHeld    bool // firmware left locality 0 active
	AccessInvalid   int  // ACCESS reads without tpmRegValidSts after power-on (writes are lost meanwhile)
	GrantDelay      int  // ACCESS reads after requestUse before the grant
	NeverGrant      bool // requestUse is never granted
	Burst           int  // largest burstCount reported (0 means 64)
	BurstZeroReads  int  // STS reads with burstCount 0 after each FIFO access
	StsInvalidReads int  // STS reads with stsValid clear (and Expect/dataAvail wrong) after each FIFO access
	ReadyDelay      int  // STS reads after commandReady (from Idle) before Ready
	NeverReady      bool // commandReady never sets
	ExecReads       int  // STS reads during execution before dataAvail
	NeverComplete   bool // execution never finishes
	AbortAfter      int  // the TPM drops the next command after this many bytes (one-shot, 0: never)
	NeedStartup     bool // power-on state: TPM_RC_INITIALIZE until TPM2_Startup
	Busy            int  // answer the next commands TPM_RC_RETRY, this many of them
	DropByte        int  // lose response byte at this index once, as a noisy bus would (0: never)
	Leftover        bool // power-on with a half-written command in the FIFO (a crashed previous owner)
	DropLocality    bool // the locality is taken away at the next tpmGo (one-shot)
}

type fifoState int

const (
	idle fifoState = iota
	ready
	reception
	execution
	completion
)

var stateNames = [...]string{"Idle", "Ready", "Reception", "Execution", "Completion"}

func (s fifoState) String() string { return stateNames[s] }

// Access names one kind of register access, for Stats.
type Access struct {
	Reg   string // "ACCESS", "STS", "DATA_FIFO", "DID_VID", ...
	Width int    // 8 or 32
	Write bool
}

// Model is a TIS FIFO register model in front of a Backend. It implements
// tis.Regs. Protocol violations by the driver (FIFO reads without data,
// writes in the wrong state, access at an inactive locality, ...) are
// recorded, not fatal, so tests can assert there were none.
type Model struct {
	mu      sync.Mutex
	k       Knobs
	backend Backend
	closeFn func() error

	active     int // active locality, -1 none
	requested  [5]bool
	grantIn    int // ACCESS reads until a pending grant; -1 none
	st         fifoState
	readyIn    int // STS reads until Idle becomes Ready; -1 none
	cmd, resp  []byte
	rpos       int
	execIn     int
	zeroBurst  int
	invalidSts int
	abortAt    int
	budget     int // FIFO bytes allowed by the last burstCount read

	needStartup bool
	violations  []string
	stats       map[Access]int
	commands    int
	startups    int
	aborts      int
	retries     int
}

// NewModel returns a model in power-on state according to k.
func NewModel(k Knobs, b Backend) *Model {
	m := &Model{k: k, backend: b, active: -1, grantIn: -1, readyIn: -1,
		abortAt: k.AbortAfter, needStartup: k.NeedStartup, stats: map[Access]int{}}
	if k.LocalityHeld {
		m.active = 0
	}
	if k.Leftover {
		m.st = reception
		m.cmd = []byte{0x80, 0x01, 0x00, 0x00, 0x00, 0x40} // 6 of 64 bytes
	}
	if m.k.Burst <= 0 {
		m.k.Burst = 64
	}
	return m
}

// Close releases the backend (the simulator).
func (m *Model) Close() error {
	if m.closeFn == nil {
		return nil
	}
	return m.closeFn()
}

// Violations returns the protocol violations seen so far.
func (m *Model) Violations() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.violations...)
}

// Stats counts register accesses by register, width and direction.
func (m *Model) Stats() map[Access]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[Access]int, len(m.stats))
	for k, v := range m.stats {
		out[k] = v
	}
	return out
}

// Commands is the number of commands executed (tpmGo accepted).
func (m *Model) Commands() int { m.mu.Lock(); defer m.mu.Unlock(); return m.commands }

// Startups is the number of TPM2_Startup commands seen while NeedStartup.
func (m *Model) Startups() int { m.mu.Lock(); defer m.mu.Unlock(); return m.startups }

// Aborts counts commands the TPM dropped (commandReady during reception or
// execution, or the AbortAfter knob).
func (m *Model) Aborts() int { m.mu.Lock(); defer m.mu.Unlock(); return m.aborts }

// ResponseRetries counts responseRetry writes in Completion.
func (m *Model) ResponseRetries() int { m.mu.Lock(); defer m.mu.Unlock(); return m.retries }

// ActiveLocality is the active locality, -1 for none.
func (m *Model) ActiveLocality() int { m.mu.Lock(); defer m.mu.Unlock(); return m.active }

// SetKnobs changes the knobs of a running model (e.g. to make a TPM hang
// after it has answered some commands).
func (m *Model) SetKnobs(k Knobs) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k.Burst <= 0 {
		k.Burst = 64
	}
	m.k = k
	m.abortAt = k.AbortAfter
}

func (m *Model) violate(format string, args ...any) {
	m.violations = append(m.violations, fmt.Sprintf(format, args...))
}

func regName(off int) string {
	switch {
	case off == offAccess:
		return "ACCESS"
	case off == offIntfCap:
		return "INTF_CAPABILITY"
	case off >= offSts && off < offSts+4:
		return "STS"
	case off == offFIFO:
		return "DATA_FIFO"
	case off >= offDIDVID && off < offDIDVID+4:
		return "DID_VID"
	case off == offRID:
		return "RID"
	}
	return fmt.Sprintf("%#03x", off)
}

func (m *Model) check(loc, off, width int, write bool) error {
	if loc < 0 || loc > 4 || off < 0 || off+width/8 > 0x1000 {
		return fmt.Errorf("tistest: access outside the TIS window: locality %d offset %#x", loc, off)
	}
	if width == 32 && off%4 != 0 {
		return fmt.Errorf("tistest: misaligned 32-bit access at %#x", off)
	}
	m.stats[Access{regName(off), width, write}]++
	return nil
}

// Read8 implements tis.Regs.
func (m *Model) Read8(loc, off int) (uint8, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(loc, off, 8, false); err != nil {
		return 0, err
	}
	switch {
	case off == offAccess:
		return m.accessRead(loc), nil
	case off >= offSts && off < offSts+4:
		if m.active != loc {
			return 0xFF, nil
		}
		return uint8(m.stsRead() >> (8 * (off - offSts))), nil
	case off == offFIFO:
		return m.fifoRead(loc), nil
	case off >= offDIDVID && off < offDIDVID+4:
		return uint8(uint32(DIDVID) >> (8 * (off - offDIDVID))), nil
	case off == offRID:
		return 0x10, nil
	}
	return 0xFF, nil
}

// Read32 implements tis.Regs.
func (m *Model) Read32(loc, off int) (uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(loc, off, 32, false); err != nil {
		return 0, err
	}
	switch off {
	case offAccess:
		m.violate("32-bit read of the 8-bit ACCESS register")
		return uint32(m.accessRead(loc)), nil
	case offIntfCap:
		return 0x30000017, nil // FIFO interface, 8/32-bit transfers
	case offSts:
		if m.active != loc {
			return 0xFFFFFFFF, nil
		}
		return m.stsRead(), nil
	case offFIFO:
		var v uint32
		for i := range 4 {
			v |= uint32(m.fifoRead(loc)) << (8 * i)
		}
		return v, nil
	case offDIDVID:
		return DIDVID, nil
	}
	return 0xFFFFFFFF, nil
}

// Write8 implements tis.Regs.
func (m *Model) Write8(loc, off int, v uint8) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(loc, off, 8, true); err != nil {
		return err
	}
	switch off {
	case offAccess:
		m.accessWrite(loc, v)
	case offSts:
		m.stsWrite(loc, v)
	case offFIFO:
		m.fifoWrite(loc, v)
	default:
		m.violate("8-bit write to %s", regName(off))
	}
	return nil
}

// Write32 implements tis.Regs.
func (m *Model) Write32(loc, off int, v uint32) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.check(loc, off, 32, true); err != nil {
		return err
	}
	switch off {
	case offSts:
		m.stsWrite(loc, uint8(v))
	case offFIFO:
		for i := range 4 {
			m.fifoWrite(loc, uint8(v>>(8*i)))
		}
	default:
		m.violate("32-bit write to %s", regName(off))
	}
	return nil
}

func (m *Model) accessRead(loc int) uint8 {
	if m.k.AccessInvalid > 0 {
		m.k.AccessInvalid--
		return 0
	}
	if m.grantIn >= 0 && m.active == -1 {
		if m.grantIn == 0 {
			m.grant()
		} else {
			m.grantIn--
		}
	}
	v := uint8(accValid)
	if m.active == loc {
		v |= accActive
	}
	if m.requested[loc] {
		v |= accRequest
	}
	for l, r := range m.requested {
		if r && l != loc {
			v |= accPending
		}
	}
	return v
}

// grant gives the bus to the lowest requesting locality.
func (m *Model) grant() {
	m.grantIn = -1
	for l, r := range m.requested {
		if r {
			m.requested[l] = false
			m.active = l
			return
		}
	}
}

func (m *Model) accessWrite(loc int, v uint8) {
	if m.k.AccessInvalid > 0 {
		m.violate("ACCESS write %#04x before tpmRegValidSts", v)
		return
	}
	if v&accRequest != 0 && m.active != loc {
		m.requested[loc] = true
		if m.active == -1 && !m.k.NeverGrant {
			m.grantIn = m.k.GrantDelay
		}
	}
	if v&accActive != 0 && m.active == loc {
		m.active = -1
		if !m.k.NeverGrant {
			m.grantIn = 0
		}
	}
	if v&^(accRequest|accActive) != 0 {
		m.violate("ACCESS write %#04x sets bits the driver should not use", v)
	}
}

func (m *Model) expecting() bool {
	if len(m.cmd) < 6 {
		return true
	}
	return len(m.cmd) < int(binary.BigEndian.Uint32(m.cmd[2:6]))
}

// stsRead computes STS and advances the read-driven timers (execution,
// readiness, invalid and zero-burst windows).
func (m *Model) stsRead() uint32 {
	switch {
	case m.st == execution && m.execIn > 0:
		m.execIn--
	case m.st == execution && !m.k.NeverComplete:
		m.st = completion
	case m.st == idle && m.readyIn > 0:
		m.readyIn--
	case m.st == idle && m.readyIn == 0 && !m.k.NeverReady:
		m.readyIn = -1
		m.st = ready
	}
	v := uint32(stFamily2 | stSelfTest)
	burst := 0
	switch m.st {
	case ready:
		v |= stReady
		burst = fifoCapacity
	case reception:
		if m.expecting() {
			v |= stExpect
		}
		burst = fifoCapacity - len(m.cmd)
	case completion:
		if m.rpos < len(m.resp) {
			v |= stDataAvail
		}
		burst = len(m.resp) - m.rpos
	}
	switch {
	case m.st == ready:
		// Like qemu's tpm-tis: Ready shows commandReady without stsValid.
	case m.invalidSts > 0:
		// Not settled yet: Expect and dataAvail must not be trusted.
		m.invalidSts--
		v ^= stExpect | stDataAvail
	default:
		v |= stValid
	}
	burst = min(burst, m.k.Burst)
	if m.zeroBurst > 0 {
		m.zeroBurst--
		burst = 0
	}
	m.budget = burst
	return v | uint32(burst)<<8
}

func (m *Model) stsWrite(loc int, v uint8) {
	if m.active != loc {
		m.violate("STS write %#04x at inactive locality %d", v, loc)
		return
	}
	if v&stReady != 0 {
		switch m.st {
		case idle:
			if m.readyIn < 0 && !m.k.NeverReady {
				m.readyIn = m.k.ReadyDelay
			}
		case reception, execution:
			m.aborts++
			m.toIdle()
		case completion:
			m.toIdle()
		}
	}
	if v&stGo != 0 {
		if m.st == reception && !m.expecting() {
			m.execute()
			if m.k.DropLocality {
				m.k.DropLocality = false
				m.active = -1
			}
		} else {
			m.violate("tpmGo in state %v (command %d bytes)", m.st, len(m.cmd))
		}
	}
	if v&stRetry != 0 && m.st == completion {
		m.rpos = 0
		m.retries++
	}
}

func (m *Model) toIdle() {
	m.st = idle
	m.cmd, m.resp, m.rpos = nil, nil, 0
	m.readyIn = -1
}

func (m *Model) fifoAccessed() {
	if m.budget <= 0 {
		m.violate("DATA_FIFO access beyond the reported burstCount")
	}
	m.budget--
	m.zeroBurst = m.k.BurstZeroReads
	m.invalidSts = m.k.StsInvalidReads
}

func (m *Model) fifoWrite(loc int, b uint8) {
	if m.active != loc {
		m.violate("DATA_FIFO write at inactive locality %d", loc)
		return
	}
	m.fifoAccessed()
	switch m.st {
	case ready:
		m.st = reception
		m.cmd = nil
	case reception:
		if !m.expecting() {
			m.violate("DATA_FIFO write after the complete %d-byte command", len(m.cmd))
			return
		}
	default:
		m.violate("DATA_FIFO write in state %v", m.st)
		return
	}
	m.cmd = append(m.cmd, b)
	if m.abortAt > 0 && len(m.cmd) == m.abortAt {
		m.abortAt = 0
		m.k.AbortAfter = 0
		m.aborts++
		m.toIdle()
	}
}

func (m *Model) fifoRead(loc int) uint8 {
	if m.active != loc {
		return 0xFF // no side effect at an inactive locality
	}
	m.fifoAccessed()
	if m.st != completion || m.rpos >= len(m.resp) {
		m.violate("DATA_FIFO read without data (state %v)", m.st)
		return 0xFF
	}
	if m.k.DropByte > 0 && m.rpos == m.k.DropByte && m.rpos+1 < len(m.resp) {
		m.k.DropByte = 0
		m.rpos++
	}
	b := m.resp[m.rpos]
	m.rpos++
	return b
}

// execute runs the received command. NeedStartup emulates a TPM fresh from
// power-on in front of an already started backend.
func (m *Model) execute() {
	m.commands++
	m.st = execution
	m.execIn = m.k.ExecReads
	m.rpos = 0
	cc := binary.BigEndian.Uint32(m.cmd[6:10])
	switch {
	case m.needStartup && cc == 0x144:
		m.needStartup = false
		m.startups++
		m.resp = respHeader(0)
	case m.needStartup:
		m.resp = respHeader(0x100) // TPM_RC_INITIALIZE
	case m.k.Busy > 0:
		m.k.Busy--
		m.resp = respHeader(0x922) // TPM_RC_RETRY
	default:
		resp, err := m.backend(m.cmd)
		if err != nil {
			m.violate("backend: %v", err)
			resp = respHeader(0x101) // TPM_RC_FAILURE
		}
		m.resp = resp
	}
	m.cmd = nil
}

func respHeader(rc uint32) []byte {
	r := []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(r[6:], rc)
	return r
}
