package updates_test

import (
	"bytes"
	"os"
	"testing"
)

// BenchmarkApply measures a whole apply (verify pass, write, fsync,
// read-back, trial mark) of a 32 MiB root into dev slot files.
func BenchmarkApply(b *testing.B) {
	f := newFixture(b)
	root := bytes.Repeat([]byte("0123456789abcdef"), 2<<20)
	path := f.bundle(spec{root: root, boot: []byte("boot")})
	b.SetBytes(int64(len(root)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.u.ApplyFile(ctx, path, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures verification alone (signatures and the payload
// hash pass) of the same bundle.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	root := bytes.Repeat([]byte("0123456789abcdef"), 2<<20)
	path := f.bundle(spec{root: root, boot: []byte("boot")})
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	b.SetBytes(int64(len(root)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.u.Verify(ctx, fh, st.Size(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
