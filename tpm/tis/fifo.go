package tis

import (
	"encoding/binary"
	"fmt"
	"time"
)

// accessHeld reports whether an ACCESS value says "valid and ours". A bus
// that floats high reads 0xFF, which sets the reserved bit: not held.
func accessHeld(acc uint8) bool {
	return acc&(accessValid|accessReserved|accessActive) == accessValid|accessActive
}

// accessValid8 reports tpmRegValidSts on a TPM that is actually there.
func accessValid8(acc uint8) bool {
	return acc&(accessValid|accessReserved) == accessValid
}

// requestLocality makes t.loc the active locality. Firmware often leaves
// locality 0 held; then no request is written. Checked before every command
// because STS and DATA_FIFO read all-ones (and ignore writes) otherwise.
func (t *TPM) requestLocality() error {
	acc, err := t.regs.Read8(t.loc, regAccess)
	if err != nil {
		return fmt.Errorf("tis: read ACCESS: %w", err)
	}
	if accessHeld(acc) {
		return nil
	}
	if !accessValid8(acc) {
		// Right after reset ACCESS is not valid yet, and writes to it
		// may be lost.
		err = t.poll(t.to.A, func() (bool, error) {
			acc, err = t.regs.Read8(t.loc, regAccess)
			return err == nil && accessValid8(acc), err
		})
		if err != nil {
			return fmt.Errorf("tis: ACCESS never valid (ACCESS=%#04x): %w", acc, err)
		}
		if accessHeld(acc) {
			return nil
		}
	}
	if err := t.regs.Write8(t.loc, regAccess, accessRequest); err != nil {
		return fmt.Errorf("tis: request locality %d: %w", t.loc, err)
	}
	err = t.poll(t.to.A, func() (bool, error) {
		acc, err = t.regs.Read8(t.loc, regAccess)
		return err == nil && accessHeld(acc), err
	})
	if err != nil {
		return fmt.Errorf("tis: locality %d not granted (ACCESS=%#04x): %w", t.loc, acc, err)
	}
	return nil
}

// checkLocality explains an all-ones STS: if the locality is gone, waiting
// longer cannot help.
func (t *TPM) checkLocality() error {
	acc, err := t.regs.Read8(t.loc, regAccess)
	if err != nil {
		return fmt.Errorf("tis: read ACCESS: %w", err)
	}
	if !accessHeld(acc) {
		return fmt.Errorf("%w: locality %d (ACCESS=%#04x)", ErrLocalityLost, t.loc, acc)
	}
	return nil
}

// ready brings the FIFO to the Ready state. From Completion or Reception a
// TPM may first go Idle and need commandReady written again, so it is
// rewritten on every poll; in Ready it is a no-op.
func (t *TPM) ready() error {
	sts, err := t.regs.Read32(t.loc, regSts)
	if err != nil {
		return fmt.Errorf("tis: read STS: %w", err)
	}
	if sts != stsAllOnes && sts&stsReady != 0 {
		return nil
	}
	err = t.poll(t.to.B, func() (bool, error) {
		if err := t.regs.Write8(t.loc, regSts, stsReady); err != nil {
			return false, err
		}
		sts, err = t.regs.Read32(t.loc, regSts)
		return err == nil && sts != stsAllOnes && sts&stsReady != 0, err
	})
	if err != nil {
		return fmt.Errorf("tis: TPM not ready for a command (STS=%#010x): %w", sts, err)
	}
	return nil
}

// waitSts polls STS until sts&mask == want. All-ones never matches: that
// is a lost locality or an absent TPM, not a status.
func (t *TPM) waitSts(mask, want uint32, timeout time.Duration, what string) (uint32, error) {
	var sts uint32
	err := t.poll(timeout, func() (bool, error) {
		var err error
		sts, err = t.regs.Read32(t.loc, regSts)
		if err != nil {
			return false, err
		}
		if sts == stsAllOnes {
			return false, t.checkLocality()
		}
		return sts&mask == want, nil
	})
	if err != nil {
		return sts, fmt.Errorf("tis: waiting for %s (STS=%#010x): %w", what, sts, err)
	}
	return sts, nil
}

// burst waits for a non-zero burstCount and returns it; it is re-read
// before every chunk because it changes as the TPM drains or fills its
// FIFO. stsValid is not required: it qualifies Expect and dataAvail only,
// and qemu's tpm-tis reports Ready without it.
func (t *TPM) burst() (int, error) {
	var sts uint32
	err := t.poll(t.to.A, func() (bool, error) {
		var err error
		sts, err = t.regs.Read32(t.loc, regSts)
		if err != nil {
			return false, err
		}
		if sts == stsAllOnes {
			return false, t.checkLocality()
		}
		return burstCount(sts) > 0, nil
	})
	if err != nil {
		return 0, fmt.Errorf("tis: burstCount stays 0 (STS=%#010x): %w", sts, err)
	}
	return burstCount(sts), nil
}

// writeCommand writes cmd into DATA_FIFO: all bytes but the last in bursts,
// checking after each that the TPM still expects data, then the last byte,
// after which Expect must drop.
func (t *TPM) writeCommand(cmd []byte) error {
	for i := 0; i < len(cmd)-1; {
		n, err := t.burst()
		if err != nil {
			return fmt.Errorf("tis: write command: %w", err)
		}
		n = min(n, len(cmd)-1-i)
		if err := t.writeFIFO(cmd[i : i+n]); err != nil {
			return err
		}
		i += n
		sts, err := t.waitSts(stsValid, stsValid, t.to.C, "stsValid")
		if err != nil {
			return fmt.Errorf("tis: write command: %w", err)
		}
		if sts&stsExpect == 0 {
			return fmt.Errorf("%w: TPM stopped expecting data after %d of %d command bytes", ErrProtocol, i, len(cmd))
		}
	}
	if err := t.writeFIFO(cmd[len(cmd)-1:]); err != nil {
		return err
	}
	sts, err := t.waitSts(stsValid, stsValid, t.to.C, "stsValid")
	if err != nil {
		return fmt.Errorf("tis: write command: %w", err)
	}
	if sts&stsExpect != 0 {
		return fmt.Errorf("%w: TPM expects more than the %d command bytes", ErrProtocol, len(cmd))
	}
	return nil
}

// readResponse reads the 10-byte header, then as many bytes as it announces.
func (t *TPM) readResponse() ([]byte, error) {
	resp := make([]byte, headerSize)
	if err := t.readChunked(resp); err != nil {
		return nil, err
	}
	size := int(binary.BigEndian.Uint32(resp[2:6]))
	if size < headerSize || size > maxResponse {
		return nil, fmt.Errorf("%w: response header announces %d bytes", ErrProtocol, size)
	}
	resp = append(resp, make([]byte, size-headerSize)...)
	if err := t.readChunked(resp[headerSize:]); err != nil {
		return nil, err
	}
	sts, err := t.waitSts(stsValid, stsValid, t.to.C, "stsValid")
	if err != nil {
		return nil, fmt.Errorf("tis: read response: %w", err)
	}
	if sts&stsDataAvail != 0 {
		return nil, fmt.Errorf("%w: TPM has data beyond the %d announced response bytes", ErrProtocol, size)
	}
	return resp, nil
}

func (t *TPM) readChunked(p []byte) error {
	for i := 0; i < len(p); {
		sts, err := t.waitSts(stsValid, stsValid, t.to.C, "stsValid")
		if err != nil {
			return fmt.Errorf("tis: read response: %w", err)
		}
		if sts&stsDataAvail == 0 {
			return fmt.Errorf("%w: TPM has no more data after %d bytes", ErrProtocol, i)
		}
		n, err := t.burst()
		if err != nil {
			return fmt.Errorf("tis: read response: %w", err)
		}
		n = min(n, len(p)-i)
		if err := t.readFIFO(p[i : i+n]); err != nil {
			return err
		}
		i += n
	}
	return nil
}

func (t *TPM) writeFIFO(p []byte) error {
	if t.fifo != nil {
		if err := t.fifo.WriteFIFO(t.loc, p); err != nil {
			return fmt.Errorf("tis: write DATA_FIFO: %w", err)
		}
		return nil
	}
	for _, b := range p {
		if err := t.regs.Write8(t.loc, regFIFO, b); err != nil {
			return fmt.Errorf("tis: write DATA_FIFO: %w", err)
		}
	}
	return nil
}

func (t *TPM) readFIFO(p []byte) error {
	if t.fifo != nil {
		if err := t.fifo.ReadFIFO(t.loc, p); err != nil {
			return fmt.Errorf("tis: read DATA_FIFO: %w", err)
		}
		return nil
	}
	for i := range p {
		b, err := t.regs.Read8(t.loc, regFIFO)
		if err != nil {
			return fmt.Errorf("tis: read DATA_FIFO: %w", err)
		}
		p[i] = b
	}
	return nil
}

// poll calls cond until it reports true, fails, or timeout passes on t.clk.
// Sleeps back off from 10 µs to 1 ms: short commands finish fast, long ones
// do not spin.
func (t *TPM) poll(timeout time.Duration, cond func() (bool, error)) error {
	deadline := t.clk.Now().Add(timeout)
	wait := 10 * time.Microsecond
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if !t.clk.Now().Before(deadline) {
			return fmt.Errorf("%w after %v", ErrTimeout, timeout)
		}
		t.clk.Sleep(wait)
		wait = min(2*wait, time.Millisecond)
	}
}
