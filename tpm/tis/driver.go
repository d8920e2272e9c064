package tis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Sizes of TPM 2.0 command and response buffers the driver accepts.
const (
	headerSize    = 10
	maxResponse   = 8192
	responseTries = 3 // reads of one response before giving up (Linux: 3)
)

// Config tunes a TPM driver; the zero value is the production setting.
type Config struct {
	Locality int      // 0..4; the box uses 0
	Clock    Clock    // nil: real time
	Timeouts Timeouts // zero fields: DefaultTimeouts
}

// TPM is a TPM 2.0 behind a TIS FIFO interface. It implements go-tpm's
// transport.TPMCloser. One TPM value must own the device: Send is serialised
// by a mutex, and Open additionally holds a process lock on the device node.
type TPM struct {
	mu     sync.Mutex
	regs   Regs
	fifo   FIFOBurster // nil: byte-wise FIFO access through regs
	closer io.Closer   // backend resources, may be nil
	loc    int
	clk    Clock
	to     Timeouts
	closed bool
	didVID uint32
	stats  Stats
}

// Stats counts what the driver did, for the health report and tests.
type Stats struct {
	Commands int // commands sent to the TPM, retries and Startup included
	Retries  int // TPM_RC_RETRY answers that were retried
	Startups int // TPM2_Startup(CLEAR) sent after TPM_RC_INITIALIZE
	Failures int // commands that failed in the FIFO protocol (timeout, protocol error)

	ResponseRetries int // responses read again with responseRetry after a framing error
}

// New checks that a TIS TPM answers on regs (DID_VID) and returns a driver
// for it. closer, if not nil, is closed by Close.
func New(regs Regs, closer io.Closer, cfg Config) (*TPM, error) {
	if cfg.Locality < 0 || cfg.Locality >= numLocality {
		return nil, fmt.Errorf("tis: locality %d out of range 0..4", cfg.Locality)
	}
	t := &TPM{regs: regs, closer: closer, loc: cfg.Locality, clk: cfg.Clock, to: cfg.Timeouts.orDefault()}
	if t.clk == nil {
		t.clk = realClock{}
	}
	if b, ok := regs.(FIFOBurster); ok {
		t.fifo = b
	}
	did, err := regs.Read32(t.loc, regDIDVID)
	if err != nil {
		return nil, fmt.Errorf("tis: read DID_VID: %w", err)
	}
	if did == 0 || did == 0xFFFFFFFF {
		return nil, fmt.Errorf("%w: DID_VID reads %#010x", ErrNoDevice, did)
	}
	t.didVID = did
	return t, nil
}

// VendorID and DeviceID come from TPM_DID_VID (e.g. 0x15D1/0x001B for an
// Infineon SLB9670, 0x1014/0x0001 for qemu's tpm-tis).
func (t *TPM) VendorID() uint16 { return uint16(t.didVID) }

// DeviceID is the device half of TPM_DID_VID.
func (t *TPM) DeviceID() uint16 { return uint16(t.didVID >> 16) }

// Send runs one TPM 2.0 command and returns its response. If the TPM has
// not been started since power-on (TPM_RC_INITIALIZE), Send issues
// TPM2_Startup(CLEAR) and runs the command again.
func (t *TPM) Send(cmd []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	resp, err := t.transmitRetry(cmd)
	if err != nil {
		return nil, err
	}
	if responseCode(resp) != rcInitialize || commandCode(cmd) == ccStartup {
		return resp, nil
	}
	if err := t.startup(); err != nil {
		return nil, err
	}
	return t.transmitRetry(cmd)
}

// transmitRetry runs cmd, repeating it while the TPM answers TPM_RC_RETRY;
// after that it returns the TPM's last answer, a TPM_RC_RETRY response.
func (t *TPM) transmitRetry(cmd []byte) ([]byte, error) {
	for delay := retryFirst; ; delay *= 2 {
		resp, err := t.transmit(cmd)
		if err != nil || responseCode(resp) != rcRetry || delay > retryMax {
			return resp, err
		}
		t.stats.Retries++
		t.clk.Sleep(delay)
	}
}

// Stats returns the driver's counters.
func (t *TPM) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Close relinquishes the locality and releases the backend.
func (t *TPM) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	t.closed = true
	var errs []error
	if acc, err := t.regs.Read8(t.loc, regAccess); err == nil && accessHeld(acc) {
		if err := t.regs.Write8(t.loc, regAccess, accessActive); err != nil {
			errs = append(errs, fmt.Errorf("tis: relinquish locality: %w", err))
		}
	}
	if t.closer != nil {
		if err := t.closer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("tis: close backend: %w", err))
		}
	}
	return errors.Join(errs...)
}

// transmit runs one command through the FIFO. On any failure after the
// command started it aborts with commandReady so the next command starts
// from a clean state.
func (t *TPM) transmit(cmd []byte) ([]byte, error) {
	if len(cmd) < headerSize || int(binary.BigEndian.Uint32(cmd[2:6])) != len(cmd) {
		return nil, fmt.Errorf("tis: malformed command: %d bytes", len(cmd))
	}
	t.stats.Commands++
	if err := t.requestLocality(); err != nil {
		t.stats.Failures++
		return nil, err
	}
	if err := t.ready(); err != nil {
		t.stats.Failures++
		return nil, err
	}
	resp, err := t.exchange(cmd)
	if err != nil {
		t.stats.Failures++
		t.abort()
		return nil, err
	}
	return resp, nil
}

func (t *TPM) exchange(cmd []byte) ([]byte, error) {
	if err := t.writeCommand(cmd); err != nil {
		return nil, err
	}
	if err := t.regs.Write8(t.loc, regSts, stsGo); err != nil {
		return nil, fmt.Errorf("tis: write tpmGo: %w", err)
	}
	cc := commandCode(cmd)
	if _, err := t.waitSts(stsValid|stsDataAvail, stsValid|stsDataAvail, t.to.execution(cc),
		fmt.Sprintf("response to command %#x", cc)); err != nil {
		return nil, err
	}
	resp, err := t.readResponse()
	for try := 1; err != nil && errors.Is(err, ErrProtocol) && try < responseTries; try++ {
		// A byte lost or doubled on the bus (SPI) garbles the framing;
		// responseRetry makes the TPM send the response again.
		t.stats.ResponseRetries++
		if err := t.regs.Write8(t.loc, regSts, stsRetry); err != nil {
			return nil, fmt.Errorf("tis: write responseRetry: %w", err)
		}
		if _, err := t.waitSts(stsValid|stsDataAvail, stsValid|stsDataAvail, t.to.C, "response after responseRetry"); err != nil {
			return nil, err
		}
		resp, err = t.readResponse()
	}
	if err != nil {
		return nil, err
	}
	// Response consumed: tell the TPM so it can go idle.
	if err := t.regs.Write8(t.loc, regSts, stsReady); err != nil {
		return nil, fmt.Errorf("tis: write commandReady after response: %w", err)
	}
	return resp, nil
}

// abort drops a command in flight with commandReady, if the locality is
// still ours (writes at another locality are ignored anyway). Best effort:
// a TPM that no longer answers must not hide the original error.
func (t *TPM) abort() {
	if acc, err := t.regs.Read8(t.loc, regAccess); err == nil && accessHeld(acc) {
		_ = t.regs.Write8(t.loc, regSts, stsReady)
	}
}
