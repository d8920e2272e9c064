package load

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"strconv"
	"testing"
)

// A message as servers deliver it in the msg mode.
const benchMsg = "<message from='user1@localhost/load' to='user2@localhost/load' type='chat' id='m17' " +
	"xmlns='jabber:client'><body>1234567890123</body></message>"

// The tool reads every delivered message; these show why the hot path
// skips encoding/xml (compare ns/op and allocs/op).
func BenchmarkReadRawMessage(b *testing.B) {
	stream := bytes.Repeat([]byte(benchMsg), 1024)
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	var buf []byte
	for i := 0; i < b.N; {
		br := bufio.NewReader(bytes.NewReader(stream))
		for k := 0; k < 1024 && i < b.N; k, i = k+1, i+1 {
			r, err := readRaw(br, buf[:0])
			if err != nil {
				b.Fatal(err)
			}
			buf = r[:0]
			if _, err := strconv.ParseInt(string(r.childText("body")), 10, 64); err != nil || r.name() != "message" {
				b.Fatal("bad message")
			}
		}
	}
}

func BenchmarkReadElemMessage(b *testing.B) {
	stream := append([]byte(streamHead), bytes.Repeat([]byte(benchMsg), 1024)...)
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	for i := 0; i < b.N; {
		d := xml.NewDecoder(bytes.NewReader(stream))
		if _, err := readStreamStart(d); err != nil {
			b.Fatal(err)
		}
		for k := 0; k < 1024 && i < b.N; k, i = k+1, i+1 {
			e, err := readElem(d)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := strconv.ParseInt(e.kid("body", "").Text, 10, 64); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// With the cache warm, a SCRAM login costs the tool a few HMACs, not
// PBKDF2's thousands.
func BenchmarkScramFinalCached(b *testing.B) {
	cache := NewScramCache()
	sf := []byte("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := newScramClient("SCRAM-SHA-1", "user", "pencil", cache)
		if err != nil {
			b.Fatal(err)
		}
		s.nonce, s.clientFirst = "fyko+d2lbbFgONRv9qkxdawL", "n=user,r=fyko+d2lbbFgONRv9qkxdawL"
		if _, err := s.Final(sf); err != nil {
			b.Fatal(err)
		}
	}
}
