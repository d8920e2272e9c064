package tistest

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/chatsecure/box/tpm/tis"
)

var (
	_ tis.Regs   = (*Model)(nil)
	_ tis.SPIBus = (*SPIDevice)(nil)
	_ tis.Clock  = (*Clock)(nil)
)

// TestModelByHand walks the FIFO state machine register by register, the
// way the PTP describes it, without the driver.
func TestModelByHand(t *testing.T) {
	resp := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0, 0, 0xAB, 0xCD}
	var got []byte
	m := NewModel(Knobs{}, func(cmd []byte) ([]byte, error) { got = cmd; return resp, nil })
	sts := func() uint32 {
		t.Helper()
		v, err := m.Read32(0, offSts)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := sts(); v != 0xFFFFFFFF {
		t.Fatalf("STS before locality = %#x, want all-ones", v)
	}
	if v, _ := m.Read8(0, offAccess); v != accValid {
		t.Fatalf("ACCESS = %#x, want tpmRegValidSts only", v)
	}
	m.Write8(0, offAccess, accRequest)
	if v, _ := m.Read8(0, offAccess); v != accValid|accActive {
		t.Fatalf("ACCESS after requestUse = %#x", v)
	}
	if v := sts(); v&stReady != 0 {
		t.Fatalf("STS %#x: Ready before commandReady was written", v)
	}
	m.Write8(0, offSts, stReady)
	if v := sts(); v&stReady == 0 || v&stValid != 0 {
		t.Fatalf("STS %#x, want commandReady without stsValid (as qemu)", v)
	}
	cmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 2}
	for i, b := range cmd {
		m.Write8(0, offFIFO, b)
		v := sts()
		if want := i < len(cmd)-1; (v&stExpect != 0) != want || v&stValid == 0 {
			t.Fatalf("after byte %d STS = %#x, want Expect=%v", i, v, want)
		}
	}
	m.Write8(0, offSts, stGo)
	if !bytes.Equal(got, cmd) {
		t.Fatalf("backend got % x", got)
	}
	if v := sts(); v&(stValid|stDataAvail) != stValid|stDataAvail || int(v>>8&0xFFFF) != len(resp) {
		t.Fatalf("STS after tpmGo = %#x", v)
	}
	var out []byte
	for range resp {
		b, _ := m.Read8(0, offFIFO)
		out = append(out, b)
	}
	if !bytes.Equal(out, resp) || sts()&stDataAvail != 0 {
		t.Fatalf("response % x, STS %#x", out, sts())
	}
	if v := m.Violations(); len(v) > 0 {
		t.Fatal(v)
	}
	m.Read8(0, offFIFO)
	if v := m.Violations(); len(v) == 0 || !strings.Contains(v[len(v)-1], "read without data") {
		t.Errorf("reading an empty FIFO was not flagged: %q", v)
	}
}

func TestSPIFrameWithWaitStates(t *testing.T) {
	m := NewModel(Knobs{}, nil)
	d := NewSPIDevice(m)
	d.WaitStates = 2
	xfer := func(w ...byte) []byte {
		r := make([]byte, len(w))
		if err := d.Tx(w, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	d.Select(true)
	// 4-byte read of DID_VID at locality 0.
	if r := xfer(0x83, 0xD4, 0x0F, 0x00); !bytes.Equal(r, []byte{0xFF, 0xFF, 0xFF, 0x00}) {
		t.Fatalf("header MISO % x, want wait state on the last byte", r)
	}
	if r := xfer(0); r[0] != 0 {
		t.Fatalf("first wait byte %#x, want 0", r[0])
	}
	if r := xfer(0); r[0] != 1 {
		t.Fatalf("second wait byte %#x, want 1 (ready)", r[0])
	}
	if r := xfer(0, 0, 0, 0); binary.LittleEndian.Uint32(r) != DIDVID {
		t.Fatalf("DID_VID % x", r)
	}
	d.Select(false)
	if d.Frames() != 1 || d.WaitPolls() != 2 || len(d.Violations()) != 0 {
		t.Fatalf("frames %d polls %d violations %q", d.Frames(), d.WaitPolls(), d.Violations())
	}

	// Releasing CS in a wait state is a host error the model reports.
	d.Select(true)
	xfer(0x80, 0xD4, 0x00, 0x00)
	d.Select(false)
	if len(d.Violations()) != 1 {
		t.Errorf("CS released mid-frame not flagged: %q", d.Violations())
	}
	if err := d.Tx([]byte{0}, nil); err == nil {
		t.Error("transfer without chip select accepted")
	}
}
