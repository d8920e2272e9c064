package appliance

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// loadTLS returns the box's certificate: the operator's files when the config
// names them, else a self-signed ECDSA P-256 certificate made once and kept
// inside the encrypted store (so its private key is never on disk in clear).
func (s *System) loadTLS(ctx context.Context) (tls.Certificate, error) {
	if s.cfg.TLS.CertFile != "" {
		c, err := tls.LoadX509KeyPair(s.path(s.cfg.TLS.CertFile), s.path(s.cfg.TLS.KeyFile))
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("tls: %w", err)
		}
		return c, nil
	}
	certPEM, err := s.getMeta(ctx, metaTLSCert)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := s.getMeta(ctx, metaTLSKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	if certPEM == "" || keyPEM == "" {
		c, k, err := selfSigned(s.cfg.XMPP.Domain, time.Now())
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := s.setMeta(ctx, metaTLSCert, string(c)); err != nil {
			return tls.Certificate{}, err
		}
		if err := s.setMeta(ctx, metaTLSKey, string(k)); err != nil {
			return tls.Certificate{}, err
		}
		certPEM, keyPEM = string(c), string(k)
		s.log.Info("made a self-signed TLS certificate", "domain", s.cfg.XMPP.Domain)
	}
	c, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tls: stored certificate: %w", err)
	}
	return c, nil
}

// ECDSA P-256 because every client of ours speaks it and a handshake costs a
// fraction of RSA-2048's on a Pi.
func selfSigned(domain string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	names := []string{"localhost"}
	if domain != "" && domain != "localhost" {
		names = append([]string{domain}, names...)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{"ChatSecure Box"}},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// Fingerprint is the certificate's SHA-256 as colon-separated hex, the form
// browsers show.
func Fingerprint(c tls.Certificate) string {
	if len(c.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(c.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
