package tis_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/chatsecure/box/tpm/tis"
	"github.com/chatsecure/box/tpm/tis/tistest"
)

// FuzzResponse feeds arbitrary TPM answers through the register model: the
// driver must return exactly a well-formed response (size field equal to
// its length) and an error for anything else, never hang or panic.
func FuzzResponse(f *testing.F) {
	hdr := func(size int, rc uint32, extra ...byte) []byte {
		b := []byte{0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[2:], uint32(size))
		binary.BigEndian.PutUint32(b[6:], rc)
		return append(b, extra...)
	}
	f.Add(hdr(12, 0, 0, 0), uint8(64))
	f.Add(hdr(10, 0x922), uint8(3))   // TPM_RC_RETRY forever
	f.Add(hdr(10, 0x100), uint8(1))   // TPM_RC_INITIALIZE forever
	f.Add(hdr(14, 0, 1, 2), uint8(5)) // shorter than announced
	f.Add(hdr(10, 0, 1), uint8(7))    // longer than announced
	f.Add([]byte{}, uint8(64))
	f.Fuzz(func(t *testing.T, resp []byte, burst uint8) {
		m := tistest.NewModel(tistest.Knobs{Burst: int(burst)}, func([]byte) ([]byte, error) { return resp, nil })
		fast := tis.Timeouts{A: time.Millisecond, B: time.Millisecond, C: time.Millisecond, D: 5 * time.Millisecond, Long: 5 * time.Millisecond}
		tpm, err := tis.New(m, nil, tis.Config{Clock: tistest.NewClock(), Timeouts: fast})
		if err != nil {
			t.Fatal(err)
		}
		out, err := tpm.Send([]byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8})
		wellFormed := len(resp) >= 10 && len(resp) <= 8192 && int(binary.BigEndian.Uint32(resp[2:6])) == len(resp)
		if err == nil && !bytes.Equal(out, resp) {
			t.Fatalf("driver returned % x for TPM answer % x", out, resp)
		}
		if wellFormed && err != nil {
			t.Fatalf("well-formed answer % x: %v", resp, err)
		}
		if !wellFormed && err == nil {
			t.Fatalf("malformed answer % x accepted", resp)
		}
		if v := m.Violations(); len(v) > 0 {
			t.Fatalf("protocol violations: %q", v)
		}
	})
}
