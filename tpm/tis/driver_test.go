package tis_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"

	"github.com/chatsecure/box/tpm/tis"
	"github.com/chatsecure/box/tpm/tis/tistest"
)

var _ transport.TPMCloser = (*tis.TPM)(nil)

// rig is one driver on one model, reached either directly (MMIO-like
// register accesses) or through the SPI byte model.
type rig struct {
	tpm   *tis.TPM
	model *tistest.Model
	spi   *tistest.SPIDevice
	clock *tistest.Clock
}

func newRig(t testing.TB, k tistest.Knobs, spiWait int) *rig {
	t.Helper()
	m, err := tistest.NewSimulated(k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	r := &rig{model: m, clock: tistest.NewClock()}
	var regs tis.Regs = m
	if spiWait >= 0 {
		r.spi = tistest.NewSPIDevice(m)
		r.spi.WaitStates = spiWait
		regs = tis.NewSPI(r.spi)
	}
	r.tpm, err = tis.New(regs, nil, tis.Config{Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) checkClean(t *testing.T) {
	t.Helper()
	if v := r.model.Violations(); len(v) > 0 {
		t.Errorf("register protocol violations: %q", v)
	}
	if r.spi != nil {
		if v := r.spi.Violations(); len(v) > 0 {
			t.Errorf("SPI framing violations: %q", v)
		}
	}
}

func getRandom(t *testing.T, tpm transport.TPM, n int) []byte {
	t.Helper()
	rsp, err := tpm2.GetRandom{BytesRequested: uint16(n)}.Execute(tpm)
	if err != nil {
		t.Fatalf("GetRandom: %v", err)
	}
	if len(rsp.RandomBytes.Buffer) != n {
		t.Fatalf("GetRandom returned %d bytes, want %d", len(rsp.RandomBytes.Buffer), n)
	}
	return rsp.RandomBytes.Buffer
}

// exercise drives real TPM2 commands through the driver: two GetRandoms and
// a CreatePrimary whose key is then read back with ReadPublic.
func exercise(t *testing.T, tpm transport.TPM) {
	t.Helper()
	a, b := getRandom(t, tpm, 32), getRandom(t, tpm, 32)
	if bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 32)) {
		t.Fatalf("GetRandom returned %x twice", a)
	}
	cp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(tpm)
	if err != nil {
		t.Fatalf("CreatePrimary: %v", err)
	}
	defer tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(tpm)
	rp, err := tpm2.ReadPublic{ObjectHandle: cp.ObjectHandle}.Execute(tpm)
	if err != nil {
		t.Fatalf("ReadPublic: %v", err)
	}
	if !bytes.Equal(rp.Name.Buffer, cp.Name.Buffer) {
		t.Fatalf("ReadPublic name %x, CreatePrimary name %x", rp.Name.Buffer, cp.Name.Buffer)
	}
}

func TestCommandsThroughTheFIFO(t *testing.T) {
	for _, tc := range []struct {
		name    string
		k       tistest.Knobs
		spiWait int // -1: direct register access
	}{
		{"direct", tistest.Knobs{}, -1},
		{"locality held by firmware", tistest.Knobs{LocalityHeld: true}, -1},
		{"slow locality grant", tistest.Knobs{GrantDelay: 7}, -1},
		{"ACCESS not valid yet after reset", tistest.Knobs{AccessInvalid: 4}, -1},
		{"burst 1", tistest.Knobs{Burst: 1}, -1},
		{"burst 3, burstCount 0 and stsValid late", tistest.Knobs{Burst: 3, BurstZeroReads: 2, StsInvalidReads: 2}, -1},
		{"slow commandReady", tistest.Knobs{ReadyDelay: 5}, -1},
		{"slow execution", tistest.Knobs{ExecReads: 40}, -1},
		{"leftover half command", tistest.Knobs{Leftover: true}, -1},
		{"spi", tistest.Knobs{}, 0},
		{"spi wait states", tistest.Knobs{}, 3},
		{"spi wait states, burst 7", tistest.Knobs{Burst: 7, StsInvalidReads: 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.k, tc.spiWait)
			exercise(t, r.tpm)
			r.checkClean(t)
			if got := r.tpm.VendorID(); got != 0x15D1 {
				t.Errorf("VendorID = %#x, want 0x15d1", got)
			}
			if tc.spiWait > 0 && r.spi.WaitPolls() < r.spi.Frames()*tc.spiWait {
				t.Errorf("%d wait-state polls for %d frames of %d wait states", r.spi.WaitPolls(), r.spi.Frames(), tc.spiWait)
			}
			if tc.k == (tistest.Knobs{}) && r.clock.Slept() != 0 {
				t.Errorf("slept %v although the TPM never made the driver wait", r.clock.Slept())
			}
			if tc.k.Leftover && r.model.Aborts() != 1 {
				t.Errorf("leftover command: %d aborts, want 1", r.model.Aborts())
			}
		})
	}
}

func TestAccessWidths(t *testing.T) {
	r := newRig(t, tistest.Knobs{}, -1)
	getRandom(t, r.tpm, 8)
	for a, n := range r.model.Stats() {
		ok := map[string]bool{
			"ACCESS/8/false": true, "ACCESS/8/true": true, "STS/32/false": true, "STS/8/true": true,
			"DATA_FIFO/8/false": true, "DATA_FIFO/8/true": true, "DID_VID/32/false": true,
		}[fmt.Sprintf("%s/%d/%v", a.Reg, a.Width, a.Write)]
		if !ok {
			t.Errorf("%d unexpected accesses %+v", n, a)
		}
	}
	if r.model.Stats()[tistest.Access{Reg: "STS", Width: 32, Write: true}] != 0 {
		t.Error("STS written with 32-bit stores; the driver uses exact 8-bit control writes")
	}
}

func TestLocality(t *testing.T) {
	t.Run("held by firmware: no request", func(t *testing.T) {
		r := newRig(t, tistest.Knobs{LocalityHeld: true}, -1)
		getRandom(t, r.tpm, 8)
		if n := r.model.Stats()[tistest.Access{Reg: "ACCESS", Width: 8, Write: true}]; n != 0 {
			t.Errorf("%d ACCESS writes although locality 0 was held", n)
		}
	})
	t.Run("requested, then relinquished on Close", func(t *testing.T) {
		r := newRig(t, tistest.Knobs{}, -1)
		if sts, _ := r.model.Read32(0, 0x18); sts != 0xFFFFFFFF {
			t.Fatalf("model STS before locality = %#x, want all-ones", sts)
		}
		getRandom(t, r.tpm, 8)
		if l := r.model.ActiveLocality(); l != 0 {
			t.Fatalf("active locality %d, want 0", l)
		}
		if err := r.tpm.Close(); err != nil {
			t.Fatal(err)
		}
		if l := r.model.ActiveLocality(); l != -1 {
			t.Errorf("active locality after Close %d, want none", l)
		}
		if _, err := r.tpm.Send(make([]byte, 10)); !errors.Is(err, tis.ErrClosed) {
			t.Errorf("Send after Close: %v, want ErrClosed", err)
		}
	})
	t.Run("never granted", func(t *testing.T) {
		r := newRig(t, tistest.Knobs{NeverGrant: true}, -1)
		_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(r.tpm)
		wantTimeout(t, err, r.clock.Slept(), 750*time.Millisecond, "locality 0 not granted")
	})
}

// wantTimeout checks err is a timeout that took fake spec time d.
func wantTimeout(t *testing.T, err error, slept, d time.Duration, msg string) {
	t.Helper()
	if !errors.Is(err, tis.ErrTimeout) {
		t.Fatalf("error %v, want ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
	if slept < d || slept > d+d/10+10*time.Millisecond {
		t.Errorf("gave up after %v of fake time, want about %v", slept, d)
	}
}

func TestNeverReady(t *testing.T) {
	r := newRig(t, tistest.Knobs{NeverReady: true}, -1)
	_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(r.tpm)
	wantTimeout(t, err, r.clock.Slept(), 2*time.Second, "not ready")
}

func TestNeverCompletes(t *testing.T) {
	r := newRig(t, tistest.Knobs{NeverComplete: true}, -1)
	_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(r.tpm)
	wantTimeout(t, err, r.clock.Slept(), 30*time.Second, "response to command 0x17b")
	if r.model.Aborts() != 1 {
		t.Errorf("hung command: %d aborts, want 1 (commandReady)", r.model.Aborts())
	}

	// Key generation gets the long timeout.
	before := r.clock.Slept()
	_, err = tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(tpm2.ECCSRKTemplate)}.Execute(r.tpm)
	wantTimeout(t, err, r.clock.Slept()-before, 300*time.Second, "response to command 0x131")

	// Once the TPM recovers, the driver works again: every failure left
	// the FIFO aborted, not half-used.
	r.model.SetKnobs(tistest.Knobs{})
	exercise(t, r.tpm)
	r.checkClean(t)
}

func TestAbortedCommand(t *testing.T) {
	r := newRig(t, tistest.Knobs{AbortAfter: 7, Burst: 4}, -1)
	_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(r.tpm)
	if !errors.Is(err, tis.ErrProtocol) || !strings.Contains(err.Error(), "stopped expecting data after 8 of 12") {
		t.Fatalf("error %v, want ErrProtocol about Expect dropping", err)
	}
	exercise(t, r.tpm)
}

func TestStartupAfterPowerOn(t *testing.T) {
	r := newRig(t, tistest.Knobs{NeedStartup: true}, 2)
	exercise(t, r.tpm)
	if n := r.model.Startups(); n != 1 {
		t.Errorf("%d TPM2_Startup commands, want 1", n)
	}
	if s := r.tpm.Stats(); s.Startups != 1 || s.Failures != 0 {
		t.Errorf("driver stats %+v", s)
	}
	r.checkClean(t)
}

func TestConcurrentSendsAreSerialised(t *testing.T) {
	r := newRig(t, tistest.Knobs{Burst: 2}, 1)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 4 {
		wg.Go(func() {
			for range 10 {
				if _, err := (tpm2.GetRandom{BytesRequested: 16}).Execute(r.tpm); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r.checkClean(t)
	if n := r.model.Commands(); n != 40 {
		t.Errorf("model ran %d commands, want 40", n)
	}
}

func TestMalformedCommand(t *testing.T) {
	r := newRig(t, tistest.Knobs{}, -1)
	for _, cmd := range [][]byte{nil, {0x80, 0x01, 0, 0, 0, 10}, {0x80, 0x01, 0, 0, 0, 99, 0, 0, 1, 0x7b}} {
		if _, err := r.tpm.Send(cmd); err == nil {
			t.Errorf("Send(% x) succeeded", cmd)
		}
	}
	if n := r.model.Commands(); n != 0 {
		t.Errorf("%d malformed commands reached the TPM", n)
	}
}

func TestLocalityLostMidCommand(t *testing.T) {
	r := newRig(t, tistest.Knobs{DropLocality: true}, -1)
	_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(r.tpm)
	if !errors.Is(err, tis.ErrLocalityLost) || !strings.Contains(err.Error(), "locality 0") {
		t.Fatalf("error %v, want ErrLocalityLost for locality 0", err)
	}
	if s := r.clock.Slept(); s > time.Millisecond {
		t.Errorf("waited %v for a locality that was gone", s)
	}
	exercise(t, r.tpm) // requests the locality again
	r.checkClean(t)
}

func TestBadResponses(t *testing.T) {
	getRandomCmd := []byte{0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8}
	for _, tc := range []struct {
		name string
		resp []byte
		want string
	}{
		{"shorter than announced", []byte{0x80, 0x01, 0, 0, 0, 20, 0, 0, 0, 0, 1, 2}, "no more data after 2 bytes"},
		{"longer than announced", []byte{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0, 1, 2}, "data beyond the 10 announced"},
		{"size below header", []byte{0x80, 0x01, 0, 0, 0, 4, 0, 0, 0, 0}, "announces 4 bytes"},
		{"size huge", []byte{0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, "announces 4294967295 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tistest.NewModel(tistest.Knobs{Burst: 5}, func([]byte) ([]byte, error) { return tc.resp, nil })
			tpm, err := tis.New(m, nil, tis.Config{Clock: tistest.NewClock()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tpm.Send(getRandomCmd)
			if !errors.Is(err, tis.ErrProtocol) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrProtocol saying %q", err, tc.want)
			}
		})
	}
}

// floating is a bus with nothing on it: every read returns all-ones.
type floating struct{}

func (floating) Read8(int, int) (uint8, error)   { return 0xFF, nil }
func (floating) Read32(int, int) (uint32, error) { return 0xFFFFFFFF, nil }
func (floating) Write8(int, int, uint8) error    { return nil }
func (floating) Write32(int, int, uint32) error  { return nil }

func TestNothingAnswers(t *testing.T) {
	if _, err := tis.New(floating{}, nil, tis.Config{}); !errors.Is(err, tis.ErrNoDevice) {
		t.Errorf("floating bus: %v, want ErrNoDevice", err)
	}
	m := tistest.NewModel(tistest.Knobs{}, nil)
	spi := tistest.NewSPIDevice(m)
	spi.WaitForever = true
	if _, err := tis.New(tis.NewSPI(spi), nil, tis.Config{}); !errors.Is(err, tis.ErrNoDevice) {
		t.Errorf("SPI flow control never released: %v, want ErrNoDevice", err)
	}
	if _, err := tis.New(m, nil, tis.Config{Locality: 5}); err == nil {
		t.Error("locality 5 accepted")
	}
}

func TestBusyTPMIsRetried(t *testing.T) {
	r := newRig(t, tistest.Knobs{Busy: 3}, -1)
	getRandom(t, r.tpm, 8)
	if got, want := r.clock.Slept(), (20+40+80)*time.Millisecond; got != want {
		t.Errorf("slept %v between retries, want %v", got, want)
	}
	if n := r.model.Commands(); n != 4 {
		t.Errorf("%d commands reached the TPM, want 4", n)
	}
	if s := r.tpm.Stats(); s != (tis.Stats{Commands: 4, Retries: 3}) {
		t.Errorf("driver stats %+v", s)
	}

	// A TPM that stays busy: the caller gets TPM_RC_RETRY after 20 ms
	// doubling while under 2 s (8 tries, 2.54 s asleep), as from Linux.
	r.model.SetKnobs(tistest.Knobs{Busy: 1000})
	before, cmds := r.clock.Slept(), r.model.Commands()
	_, err := tpm2.GetRandom{BytesRequested: 8}.Execute(r.tpm)
	if !errors.Is(err, tpm2.TPMRCRetry) {
		t.Fatalf("error %v, want TPM_RC_RETRY", err)
	}
	if got := r.clock.Slept() - before; got != 2540*time.Millisecond {
		t.Errorf("retried for %v, want 2.54s", got)
	}
	if n := r.model.Commands() - cmds; n != 8 {
		t.Errorf("%d tries, want 8", n)
	}
}

func TestLostResponseByteIsReadAgain(t *testing.T) {
	for _, at := range []int{3, 10, 20} { // in the size field, the code, the data
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			r := newRig(t, tistest.Knobs{DropByte: at, Burst: 8}, 1)
			getRandom(t, r.tpm, 32)
			if n := r.model.ResponseRetries(); n != 1 {
				t.Errorf("%d responseRetry writes, want 1", n)
			}
			if s := r.tpm.Stats(); s.ResponseRetries != 1 || s.Failures != 0 {
				t.Errorf("driver stats %+v", s)
			}
			r.checkClean(t)
		})
	}
}
