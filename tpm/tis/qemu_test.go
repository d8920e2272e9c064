package tis_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestQEMU checks the MMIO backend against a real TIS: it boots the stock
// gokrazy kernel.amd64 (no CONFIG_TCG_TPM) in qemu with -device tpm-tis on
// swtpm and internal/qemuinit as /init, which drives the TPM through
// /dev/mem and reports on the serial console.
//
// Opt in with TIS_QEMU=1: it takes about a minute under TCG. Needs Debian
// packages qemu-system-x86 and swtpm; TIS_QEMU_KERNEL overrides the kernel
// (default: the newest github.com/gokrazy/kernel.amd64 in the module cache).
func TestQEMU(t *testing.T) {
	if os.Getenv("TIS_QEMU") == "" {
		t.Skip("set TIS_QEMU=1 to boot qemu with tpm-tis and swtpm")
	}
	for _, tool := range []string{"qemu-system-x86_64", "swtpm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	kernel := os.Getenv("TIS_QEMU_KERNEL")
	if kernel == "" {
		// The images code pulls the module; this package does not require it.
		out, err := exec.Command(goTool, "env", "GOMODCACHE").Output()
		if err != nil {
			t.Fatal(err)
		}
		found, _ := filepath.Glob(filepath.Join(string(bytes.TrimSpace(out)), "github.com/gokrazy/kernel.amd64@*", "vmlinuz"))
		if len(found) == 0 {
			t.Skip("no gokrazy kernel.amd64 in the module cache; set TIS_QEMU_KERNEL")
		}
		kernel = found[len(found)-1]
	}

	dir := t.TempDir()
	build := exec.Command(goTool, "build", "-o", filepath.Join(dir, "init"), "./internal/qemuinit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build init: %v\n%s", err, out)
	}
	initBin, err := os.ReadFile(filepath.Join(dir, "init"))
	if err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(dir, "initrd")
	if err := os.WriteFile(initrd, cpioNewc(map[string][]byte{"init": initBin}), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // hang guard only
	defer cancel()
	state := filepath.Join(dir, "swtpm")
	os.Mkdir(state, 0o700)
	sock := filepath.Join(dir, "swtpm.sock")
	swtpm := exec.CommandContext(ctx, "swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+state, "--ctrl", "type=unixio,path="+sock)
	var swtpmOut bytes.Buffer
	swtpm.Stdout, swtpm.Stderr = &swtpmOut, &swtpmOut
	if err := swtpm.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { swtpm.Process.Kill(); swtpm.Wait() }()
	for range 100 {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	qemu := exec.CommandContext(ctx, "qemu-system-x86_64", "-M", "q35", "-m", "256", "-nographic", "-no-reboot",
		"-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1 quiet",
		"-chardev", "socket,id=chrtpm,path="+sock, "-tpmdev", "emulator,id=tpm0,chardev=chrtpm",
		"-device", "tpm-tis,tpmdev=tpm0")
	out, err := qemu.CombinedOutput()
	var report []string
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, "TIS-"); i >= 0 {
			report = append(report, strings.TrimSpace(l[i:]))
		}
	}
	t.Logf("qemu report:\n%s", strings.Join(report, "\n"))
	if err != nil || !strings.Contains(string(out), "TIS-DONE") || strings.Contains(string(out), "TIS-FAIL") {
		t.Fatalf("qemu: %v\n%s\nswtpm: %s", err, out, swtpmOut.Bytes())
	}
}

// cpioNewc writes a minimal initramfs: regular files in the root.
func cpioNewc(files map[string][]byte) []byte {
	var b bytes.Buffer
	ino := 1
	add := func(name string, mode int, data []byte) {
		fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		ino++
		b.WriteString(name)
		b.WriteByte(0)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(data)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	for name, data := range files {
		add(name, 0o100755, data)
	}
	add("TRAILER!!!", 0, nil)
	return b.Bytes()
}
