//go:build prosody

package interop

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests validate the interop script against Prosody 0.12 from Debian
// (package prosody), started on 127.0.0.1 on a free port as user prosody
// with its own config and data in a temporary directory.
//
// Prosody modules the script needs: roster, saslauth, tls, disco (core IM),
// carbons (XEP-0280) and blocklist (XEP-0191); offline (XEP-0160) is
// auto-loaded by Prosody and must not be disabled.

var fullModules = []string{"roster", "saslauth", "tls", "disco", "carbons", "blocklist", "ping"}

func TestSlixmppAgainstProsody(t *testing.T) {
	p := startProsody(t, fullModules)
	Run(t, Config{Addr: p.addr, Domain: "localhost", User1: "alice", Password1: "alice-pw",
		User2: "bob", Password2: "bob-pw", CAFile: p.caFile, Mech: "SCRAM-SHA-1"})
}

// Without mod_carbons the script must fail, and name the carbons step: the
// harness can tell a server that lacks a feature.
func TestSlixmppFailsWithoutCarbons(t *testing.T) {
	var mods []string
	for _, m := range fullModules {
		if m != "carbons" {
			mods = append(mods, m)
		}
	}
	p := startProsody(t, mods)
	if err := HaveSlixmpp(t.Context(), ""); err != nil {
		t.Skip(err)
	}
	rep, err := Exec(t.Context(), Config{Addr: p.addr, Domain: "localhost", User1: "alice", Password1: "alice-pw",
		User2: "bob", Password2: "bob-pw", CAFile: p.caFile})
	if err == nil {
		t.Fatalf("passed against a server without carbons:\n%s", rep.Output)
	}
	if !strings.Contains(err.Error(), `"carbons to a second resource"`) {
		t.Fatalf("error %v does not name the carbons step; output:\n%s", err, rep.Output)
	}
	if passed := len(rep.Steps) - 1; passed < 6 {
		t.Fatalf("only %d steps passed before carbons:\n%s", passed, rep.Output)
	}
}

type prosody struct {
	addr, caFile string
}

// startProsody runs Prosody with the given modules and accounts alice and
// bob; it is stopped when the test ends.
func startProsody(t *testing.T, modules []string) *prosody {
	t.Helper()
	bin, err := exec.LookPath("prosody")
	if err != nil {
		missing(t, "prosody is not installed (apt-get install prosody)")
	}
	if os.Geteuid() != 0 {
		missing(t, "starting Prosody as user prosody needs root")
	}
	u, err := user.Lookup("prosody")
	if err != nil {
		t.Fatalf("user prosody: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}

	// Not t.TempDir: its parent is private to root and Prosody drops to
	// user prosody.
	dir, err := os.MkdirTemp("", "interop-prosody-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	crt, key := selfSigned(t)
	caFile := filepath.Join(dir, "localhost.crt")
	write(t, caFile, crt, 0o644)
	write(t, filepath.Join(dir, "localhost.key"), key, 0o640)
	port := freePort(t)
	cfg := filepath.Join(dir, "prosody.cfg.lua")
	write(t, cfg, []byte(prosodyConfig(dir, port, modules)), 0o644)
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, acct := range [][2]string{{"alice", "alice-pw"}, {"bob", "bob-pw"}} {
		cmd := exec.CommandContext(ctx, "prosodyctl", "--config", cfg, "register", acct[0], "localhost", acct[1])
		cmd.SysProcAttr, cmd.Dir = cred, dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("prosodyctl register %s: %v\n%s", acct[0], err, out)
		}
	}

	logf, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", cfg, "-F")
	cmd.SysProcAttr, cmd.Dir, cmd.Stdout, cmd.Stderr = cred, dir, logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prosody: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			for _, f := range []string{"stdout.log", "prosody.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil && len(b) > 0 {
					t.Logf("%s:\n%s", f, b)
				}
			}
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
			t.Fatalf("prosody exited: %v\n%s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prosody does not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &prosody{addr: addr, caFile: caFile}
}

func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

func prosodyConfig(dir string, port int, modules []string) string {
	q := make([]string, len(modules))
	for i, m := range modules {
		q[i] = strconv.Quote(m)
	}
	return fmt.Sprintf(`-- written by services/xmpp/interop's prosody test
data_path = %[1]q
pidfile = %[2]q
run_as_root = false
network_backend = "epoll"
network_settings = { nagle = false }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { %[3]d }
c2s_direct_tls_ports = { }
c2s_require_encryption = true
allow_registration = false
authentication = "internal_hashed"
storage = "internal"
modules_enabled = { %[4]s }
modules_disabled = { "s2s"; "dialback" }
log = { { levels = { min = "warn" }, to = "file", filename = %[5]q } }
certificates = %[6]q
ssl = { certificate = %[7]q; key = %[8]q }
VirtualHost "localhost"
`, filepath.Join(dir, "data"), filepath.Join(dir, "prosody.pid"), port, strings.Join(q, "; "),
		filepath.Join(dir, "prosody.log"), dir, filepath.Join(dir, "localhost.crt"), filepath.Join(dir, "localhost.key"))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned makes an ECDSA P-256 certificate for localhost.
func selfSigned(t *testing.T) (crtPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

func write(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}
