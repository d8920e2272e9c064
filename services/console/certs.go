package console

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

type certInfo struct {
	Subject, Issuer string
	DNSNames        []string
	NotBefore       time.Time
	NotAfter        time.Time
	Fingerprint     string
	SelfSigned      bool
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func describeCert(pemBytes []byte) (certInfo, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "CERTIFICATE" {
		return certInfo{}, errors.New("no PEM certificate")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return certInfo{}, err
	}
	return certInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), DNSNames: c.DNSNames,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, Fingerprint: fingerprint(c.Raw),
		SelfSigned: bytes.Equal(c.RawIssuer, c.RawSubject)}, nil
}

// checkKeyPair is what an upload must pass: PEM certificate chain and key
// that parse and belong together, a leaf valid now and for a server.
func checkKeyPair(certPEM, keyPEM []byte, now time.Time) (certInfo, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return certInfo{}, fmt.Errorf("the certificate and key do not form a pair: %w", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return certInfo{}, fmt.Errorf("the certificate does not parse: %w", err)
	}
	if now.Before(leaf.NotBefore) || !now.Before(leaf.NotAfter) {
		return certInfo{}, fmt.Errorf("the certificate is valid only from %s to %s", leaf.NotBefore.UTC().Format(time.DateOnly), leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if len(leaf.ExtKeyUsage) > 0 {
		ok := false
		for _, u := range leaf.ExtKeyUsage {
			ok = ok || u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny
		}
		if !ok {
			return certInfo{}, errors.New("the certificate is not for TLS servers (no serverAuth usage)")
		}
	}
	return describeCert(certPEM)
}

func (s *Service) certPage(w http.ResponseWriter, r *http.Request, c *call, status int, msg, flash string) {
	var d struct {
		Cert certInfo
		Err  string
	}
	pemBytes, err := s.box.Certificate(r.Context())
	if err == nil {
		d.Cert, err = describeCert(pemBytes)
	}
	if err != nil {
		d.Err = err.Error()
	}
	s.render(w, r, c, status, "certificates", pageData{Title: "Certificates", Nav: "certificates", Error: msg, Flash: flash, Data: d})
}

func (s *Service) getCertificates(w http.ResponseWriter, r *http.Request, c *call) {
	s.certPage(w, r, c, 200, "", "")
}

func (s *Service) getCertificatePEM(w http.ResponseWriter, r *http.Request, c *call) {
	pemBytes, err := s.box.Certificate(r.Context())
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="chatsecure-box.pem"`)
	w.Write(pemBytes)
}

func formFile(r *http.Request, name string) ([]byte, error) {
	f, _, err := r.FormFile(name)
	if err != nil {
		if v := r.PostFormValue(name + "_text"); v != "" {
			return []byte(v), nil
		}
		return nil, fmt.Errorf("choose the %s file", name)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 256<<10))
}

func (s *Service) postCertificates(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	certPEM, err := formFile(r, "cert")
	if err != nil {
		s.certPage(w, r, c, 400, err.Error(), "")
		return
	}
	keyPEM, err := formFile(r, "key")
	if err != nil {
		s.certPage(w, r, c, 400, err.Error(), "")
		return
	}
	info, err := checkKeyPair(certPEM, keyPEM, s.now())
	if err != nil {
		s.certPage(w, r, c, 400, "Not installed: "+err.Error()+".", "")
		return
	}
	if err := s.box.InstallCertificate(ctx, certPEM, keyPEM, c.who(), c.origin); err != nil {
		s.certPage(w, r, c, 500, "Not installed: "+err.Error(), "")
		return
	}
	s.audit(ctx, c, "certificate-installed", info.Subject+" "+info.Fingerprint)
	s.certPage(w, r, c, 200, "", flashes["cert"])
}
