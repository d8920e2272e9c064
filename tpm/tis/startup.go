package tis

import (
	"encoding/binary"
	"fmt"
	"time"
)

// rcInitialize is TPM_RC_INITIALIZE: the TPM is not started since power-on.
// On a PC the firmware sends TPM2_Startup; a Pi has no such firmware.
const rcInitialize = 0x100

// rcRetry is TPM_RC_RETRY: the TPM was busy, send the command again. The
// Linux driver retries it for the caller (swtpm behind qemu returns it to
// a TPM2_Load now and then); with no kernel driver, this one must.
const rcRetry = 0x922

// Retry pacing as in Linux's tpm_transmit_cmd: sleep 20 ms, doubling,
// until a delay would exceed 2 s.
const (
	retryFirst = 20 * time.Millisecond
	retryMax   = 2 * time.Second
)

func commandCode(cmd []byte) uint32 {
	if len(cmd) < headerSize {
		return 0
	}
	return binary.BigEndian.Uint32(cmd[6:10])
}

func responseCode(resp []byte) uint32 {
	if len(resp) < headerSize {
		return 0
	}
	return binary.BigEndian.Uint32(resp[6:10])
}

// startup sends TPM2_Startup(TPM_SU_CLEAR). TPM_RC_INITIALIZE in reply means
// someone else started it meanwhile, which is fine too.
func (t *TPM) startup() error {
	cmd := []byte{
		0x80, 0x01, // TPM_ST_NO_SESSIONS
		0x00, 0x00, 0x00, 0x0C, // size
		0x00, 0x00, 0x01, 0x44, // TPM_CC_Startup
		0x00, 0x00, // TPM_SU_CLEAR
	}
	t.stats.Startups++
	resp, err := t.transmit(cmd)
	if err != nil {
		return fmt.Errorf("tis: TPM2_Startup: %w", err)
	}
	if rc := responseCode(resp); rc != 0 && rc != rcInitialize {
		return fmt.Errorf("tis: TPM2_Startup(CLEAR) failed: TPM_RC %#x", rc)
	}
	return nil
}
