package sign

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs boxsign in dir and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func must(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := run(t, args...)
	if code != 0 {
		t.Fatalf("boxsign %v: exit %d: %s", args, code, errs)
	}
	return out
}

func refused(t *testing.T, why string, args ...string) {
	t.Helper()
	code, out, errs := run(t, args...)
	if code != 1 || !strings.Contains(errs, why) {
		t.Fatalf("boxsign %v: exit %d, stdout %q, stderr %q; want exit 1 saying %q", args, code, out, errs, why)
	}
}

func setup(t *testing.T) (dir, bundle string) {
	dir = t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		must(t, "keygen", filepath.Join(dir, n))
	}
	os.WriteFile(filepath.Join(dir, "root.img"), bytes.Repeat([]byte("root"), 5000), 0o644)
	os.WriteFile(filepath.Join(dir, "boot.img"), []byte("boot"), 0o644)
	bundle = filepath.Join(dir, "v2.boxupdate")
	must(t, "bundle", "-target", "amd64", "-version", "2.0.0", "-build", "20", "-out", bundle,
		"root="+filepath.Join(dir, "root.img"), "boot="+filepath.Join(dir, "boot.img"))
	return dir, bundle
}

func TestKeygen(t *testing.T) {
	dir, _ := setup(t)
	st, err := os.Stat(filepath.Join(dir, "a.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("a.key mode %v (%v), want 0600", st.Mode(), err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "a.key"))
	refused(t, "exists", "keygen", filepath.Join(dir, "a"))
	after, _ := os.ReadFile(filepath.Join(dir, "a.key"))
	if !bytes.Equal(before, after) {
		t.Fatal("keygen overwrote a key")
	}
}

func TestSignVerify(t *testing.T) {
	dir, b := setup(t)
	p := func(n string) string { return filepath.Join(dir, n) }
	refused(t, "0 valid of threshold 1", "verify", "-trust", p("a.pub"), b)
	must(t, "sign", "-key", p("a.key"), b)
	if out := must(t, "verify", "-trust", p("a.pub"), b); out != "2.0.0\n" {
		t.Fatalf("verify printed %q", out)
	}
	refused(t, "1 valid of threshold 2", "verify", "-trust", p("a.pub")+","+p("b.pub"), b)
	must(t, "verify", "-trust", p("a.pub")+","+p("b.pub"), "-threshold", "1", b)
	refused(t, "not in the trusted set", "verify", "-trust", p("c.pub"), b)
	refused(t, "below -min-version 2.1.0", "verify", "-trust", p("a.pub"), "-min-version", "2.1.0", b)
	must(t, "verify", "-trust", p("a.pub"), "-min-version", "2.0.0", b)
	refused(t, "another target", "verify", "-trust", p("a.pub"), "-target", "pi", b)
	must(t, "sign", "-key", p("b.key"), b)
	must(t, "verify", "-trust", p("a.pub")+","+p("b.pub"), b)

	out := must(t, "inspect", b)
	for _, want := range []string{"version:     2.0.0", "build:       20", "target:      amd64", "payload:     root", "signature:   key"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "signature:"); n != 2 {
		t.Errorf("inspect shows %d signatures, want 2", n)
	}

	// A flipped payload byte is caught even with valid signatures.
	raw, _ := os.ReadFile(b)
	raw[len(raw)-10] ^= 1
	bad := p("bad.boxupdate")
	os.WriteFile(bad, raw, 0o644)
	refused(t, "sha256 mismatch", "verify", "-trust", p("a.pub"), bad)
	os.WriteFile(bad, raw[:len(raw)-100], 0o644)
	refused(t, "truncated", "verify", "-trust", p("a.pub"), bad)
	refused(t, "no such file", "verify", "-trust", p("a.pub"), b+"x")
}

func TestRotationCLI(t *testing.T) {
	dir, b := setup(t)
	p := func(n string) string { return filepath.Join(dir, n) }
	stmt := p("rot1.json")
	// a and b (threshold 2) hand trust to c alone.
	must(t, "rotate", "-seq", "1", "-new", p("c.pub"), "-threshold", "1", "-key", p("a.key"), "-out", stmt)
	must(t, "rotate", "-key", p("b.key"), stmt)
	must(t, "attach", "-rotation", stmt, b)
	must(t, "sign", "-key", p("c.key"), b)
	if out := must(t, "verify", "-trust", p("a.pub")+","+p("b.pub"), b); out != "2.0.0\n" {
		t.Fatalf("verify after rotation printed %q", out)
	}
	if out := must(t, "inspect", b); !strings.Contains(out, "rotation:    seq 1, 1 of") {
		t.Fatalf("inspect: %s", out)
	}
	// With only a's signature on the statement, the chain does not verify.
	weak := p("weak.json")
	must(t, "rotate", "-seq", "1", "-new", p("c.pub"), "-threshold", "1", "-key", p("a.key"), "-out", weak)
	must(t, "attach", "-rotation", weak, b)
	refused(t, "rotation 1", "verify", "-trust", p("a.pub")+","+p("b.pub"), b)
}

func TestDevRootDefault(t *testing.T) {
	_, b := setup(t)
	refused(t, "threshold 2", "verify", b)
	must(t, "sign", "-key", "../trust/testdata/dev1.key,../trust/testdata/dev3.key", b)
	if out := must(t, "verify", b); out != "2.0.0\n" {
		t.Fatalf("verify printed %q", out)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"sign", "x"}, {"verify"}, {"keygen"}, {"bundle", "-out", "x"}, {"sign", "-nope", "x"}} {
		if code, _, errs := run(t, args...); code != 2 || !strings.Contains(errs, "usage") {
			t.Errorf("boxsign %v: exit %d, stderr %q; want 2 with usage", args, code, errs)
		}
	}
}
