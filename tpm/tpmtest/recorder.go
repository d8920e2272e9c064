package tpmtest

import (
	"bytes"
	"sync"

	"github.com/google/go-tpm/tpm2/transport"
)

// A Recorder passes commands to a TPM and keeps a copy of every command and
// response, as a bus sniffer would see them.
type Recorder struct {
	TPM transport.TPM

	mu        sync.Mutex
	exchanges []Exchange
}

// An Exchange is one command and the TPM's response (nil if the transport
// failed).
type Exchange struct {
	Command, Response []byte
}

// Send implements transport.TPM.
func (r *Recorder) Send(cmd []byte) ([]byte, error) {
	// Copy the command before sending it: the simulator works on the
	// caller's buffer in place (it decrypts parameters there), so a copy
	// taken afterwards would show what the TPM saw, not what was on the bus.
	e := Exchange{Command: bytes.Clone(cmd)}
	rsp, err := r.TPM.Send(cmd)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		e.Response = bytes.Clone(rsp)
	}
	r.exchanges = append(r.exchanges, e)
	return rsp, err
}

// Exchanges returns what was recorded, in order.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.exchanges...)
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = nil
}

// Seen reports whether secret, or any 8-byte run of it, appears in any
// recorded command or response.
func (r *Recorder) Seen(secret []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	const run = 8
	for _, e := range r.exchanges {
		for _, m := range [][]byte{e.Command, e.Response} {
			if len(secret) > 0 && bytes.Contains(m, secret) {
				return true
			}
			for i := 0; i+run <= len(secret); i++ {
				if bytes.Contains(m, secret[i:i+run]) {
					return true
				}
			}
		}
	}
	return false
}
