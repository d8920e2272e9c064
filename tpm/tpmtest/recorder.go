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
	commands  [][]byte
	responses [][]byte
}

// Send implements transport.TPM.
func (r *Recorder) Send(cmd []byte) ([]byte, error) {
	rsp, err := r.TPM.Send(cmd)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands = append(r.commands, bytes.Clone(cmd))
	if err == nil {
		r.responses = append(r.responses, bytes.Clone(rsp))
	}
	return rsp, err
}

// Commands returns the commands sent so far.
func (r *Recorder) Commands() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.commands...)
}

// Responses returns the responses received so far.
func (r *Recorder) Responses() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.responses...)
}

// Reset forgets what was recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commands, r.responses = nil, nil
}

// Seen reports whether any 8-byte run of secret appears in any recorded
// command or response.
func (r *Recorder) Seen(secret []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	const run = 8
	for _, msgs := range [][][]byte{r.commands, r.responses} {
		for _, m := range msgs {
			for i := 0; i+run <= len(secret); i++ {
				if bytes.Contains(m, secret[i:i+run]) {
					return true
				}
			}
			if len(secret) < run && len(secret) > 0 && bytes.Contains(m, secret) {
				return true
			}
		}
	}
	return false
}
