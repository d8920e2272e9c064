package images

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestCheckStatic(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\nfunc main() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "static")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := CheckStatic(bin, elf.EM_X86_64); err != nil {
		t.Errorf("static Go binary rejected: %v", err)
	}
	if err := CheckStatic(bin, elf.EM_AARCH64); err == nil {
		t.Errorf("amd64 binary accepted for arm64")
	}
	// Any Debian binary is dynamically linked against glibc.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckStatic(sh, elf.EM_X86_64); err == nil {
		t.Errorf("dynamic %s accepted", sh)
	}
	if err := CheckStatic(src, elf.EM_X86_64); err == nil {
		t.Errorf("a Go source file accepted as a binary")
	}
}

func TestGoBuilderCgoStatic(t *testing.T) {
	needTools(t, "gcc")
	b := GoBuilder{Dir: moduleDir(t)}
	target, _ := LookupTarget("amd64")
	out := filepath.Join(t.TempDir(), "cgoprobe")
	if err := b.Build(context.Background(), target, Program{Pkg: "./images/testdata/cgoprobe", Dest: "/user/cgoprobe", Cgo: true}, out); err != nil {
		t.Fatalf("static cgo build: %v", err)
	}
}

func TestParseProgram(t *testing.T) {
	p, err := ParseProgram("./cmd/boxd:cgo")
	if err != nil || p.Dest != "/user/boxd" || !p.Cgo || p.Pkg != "./cmd/boxd" {
		t.Errorf("ParseProgram = %+v, %v", p, err)
	}
	for _, bad := range []string{"", ":cgo", "./x:static"} {
		if _, err := ParseProgram(bad); err == nil {
			t.Errorf("ParseProgram(%q) accepted", bad)
		}
	}
}

func moduleDir(t *testing.T) string {
	t.Helper()
	d, err := moduleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
