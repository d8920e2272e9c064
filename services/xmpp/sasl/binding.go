package sasl

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"hash"
)

// Bindings returns the channel binding data of a server-side TLS
// connection: tls-exporter (RFC 9266) on TLS 1.3 only, where the exporter is
// safe without extended master secret checks, and tls-server-end-point
// (RFC 5929 §4) whenever the certificate is known.
func Bindings(cs tls.ConnectionState, cert *x509.Certificate) map[string][]byte {
	if !cs.HandshakeComplete {
		return nil
	}
	m := make(map[string][]byte, 2)
	if cs.Version == tls.VersionTLS13 {
		if ekm, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32); err == nil {
			m["tls-exporter"] = ekm
		}
	}
	if cert != nil {
		var h hash.Hash
		switch cert.SignatureAlgorithm {
		case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
			h = sha512.New384()
		case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
			h = sha512.New()
		default:
			// MD5, SHA-1 and SHA-256 all use SHA-256; so does Ed25519,
			// which RFC 5929 does not cover.
			h = sha256.New()
		}
		h.Write(cert.Raw)
		m["tls-server-end-point"] = h.Sum(nil)
	}
	return m
}
