package tpmtest

import (
	"errors"
	"testing"
)

type echoTPM struct{ fail bool }

func (e echoTPM) Send(cmd []byte) ([]byte, error) {
	if e.fail {
		return nil, errors.New("gone")
	}
	// Like the simulator, scribble on the caller's buffer.
	rsp := append([]byte("rsp:"), cmd...)
	for i := range cmd {
		cmd[i] = 0
	}
	return rsp, nil
}

func TestRecorderSeen(t *testing.T) {
	secret := []byte("0123456789abcdefghijklmnopqrstuv")
	r := &Recorder{TPM: echoTPM{}}
	if _, err := r.Send([]byte("header" + string(secret[10:18]) + "trailer")); err != nil {
		t.Fatal(err)
	}
	if !r.Seen(secret) {
		t.Fatal("an 8-byte run of the secret in a command was not seen")
	}
	if got := string(r.Exchanges()[0].Command); got != "header"+string(secret[10:18])+"trailer" {
		t.Fatalf("recorded command %q, want the bytes as sent", got)
	}
	r.Reset()
	if _, err := r.Send([]byte("header" + string(secret[10:17]) + "trailer")); err != nil {
		t.Fatal(err)
	}
	if r.Seen(secret) {
		t.Fatal("a 7-byte run was reported as the secret")
	}
	r = &Recorder{TPM: echoTPM{fail: true}}
	if _, err := r.Send([]byte("x")); err == nil {
		t.Fatal("transport error not passed on")
	}
	if e := r.Exchanges(); len(e) != 1 || e[0].Response != nil {
		t.Fatalf("exchanges after a failed send: %+v", e)
	}
}
