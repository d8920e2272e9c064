//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/chatsecure/box/images"
)

// Machine is the emulated box: one disk image, a persistent swtpm state
// directory, and host ports forwarded (on 127.0.0.1 only) to guest ports.
type Machine struct {
	Image  string
	Layout images.Layout
	Dir    string      // swtpm state, kernel copies, serial logs
	Fwd    map[int]int // guest port → host port
	// RTCBase, if set, is qemu's -rtc base= for the next start: the
	// guest's clock starts there (like a Pi without RTC).
	RTCBase string
	// TPMState is swtpm's state directory (default Dir/tpm). Pointing it
	// at a fresh directory is a new, empty TPM: the sealed key no longer
	// opens.
	TPMState string
	boots    int
	qemu     *exec.Cmd
	swtpm    *exec.Cmd
	done     chan struct{} // closed when qemu has exited
	err      error         // qemu's exit status, valid after done
	Serial   string        // serial log of the current boot
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start boots the machine: bootloader step, swtpm, qemu.
func (m *Machine) Start(ctx context.Context) error {
	m.boots++
	ps := m.Layout.Partitions()
	kernel, err := images.ReadBootFile(m.Image, ps[0].Offset(), "/vmlinuz")
	if err != nil {
		return err
	}
	raw, err := images.ReadBootFile(m.Image, ps[0].Offset(), "/cmdline.txt")
	if err != nil {
		return err
	}
	cmdline, err := images.ParseCmdlineFile(raw)
	if err != nil {
		return err
	}
	kpath := filepath.Join(m.Dir, fmt.Sprintf("vmlinuz.%d", m.boots))
	if err := os.WriteFile(kpath, kernel, 0o644); err != nil {
		return err
	}

	tpmDir := m.TPMState
	if tpmDir == "" {
		tpmDir = filepath.Join(m.Dir, "tpm")
	}
	if err := os.MkdirAll(tpmDir, 0o700); err != nil {
		return err
	}
	sock := filepath.Join(tpmDir, "swtpm.sock")
	os.Remove(sock)
	tpmLog, err := os.Create(filepath.Join(m.Dir, fmt.Sprintf("swtpm.%d.log", m.boots)))
	if err != nil {
		return err
	}
	m.swtpm = exec.CommandContext(ctx, "swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+tpmDir,
		"--ctrl", "type=unixio,path="+sock,
		"--flags", "not-need-init,startup-clear")
	m.swtpm.Stdout, m.swtpm.Stderr = tpmLog, tpmLog
	if err := m.swtpm.Start(); err != nil {
		return fmt.Errorf("e2e: start swtpm (Debian swtpm): %w", err)
	}
	if err := waitFile(ctx, sock, 10*time.Second); err != nil {
		return fmt.Errorf("e2e: swtpm socket: %w", err)
	}

	netdev := "user,id=n0,restrict=on" // no traffic leaves the guest but the forwards
	for guest, host := range m.Fwd {
		netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", host, guest)
	}
	m.Serial = filepath.Join(m.Dir, fmt.Sprintf("serial.%d.log", m.boots))
	serial, err := os.Create(m.Serial)
	if err != nil {
		return err
	}
	args := []string{
		"-accel", "tcg,thread=multi", "-cpu", "max", "-m", "1024", "-smp", "2",
		"-no-reboot", "-nographic", "-nodefaults", "-serial", "stdio", "-monitor", "none",
		"-kernel", kpath, "-append", cmdline,
		"-drive", "file=" + m.Image + ",format=raw,if=virtio",
		"-netdev", netdev, "-device", "virtio-net-pci,netdev=n0",
		"-chardev", "socket,id=chrtpm,path=" + sock,
		"-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0",
		// A hardware watchdog (the gokrazy kernel has CONFIG_I6300ESB_WDT=y):
		// if nothing feeds it, it resets the guest, and -no-reboot makes
		// that an exit the test sees.
		"-device", "i6300esb", "-action", "watchdog=reset",
	}
	if m.RTCBase != "" {
		args = append(args, "-rtc", "base="+m.RTCBase)
	}
	m.qemu = exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	m.qemu.Stdout, m.qemu.Stderr = serial, serial
	if err := m.qemu.Start(); err != nil {
		m.stopTPM()
		return fmt.Errorf("e2e: start qemu (Debian qemu-system-x86): %w", err)
	}
	m.done = make(chan struct{})
	go func() { m.err = m.qemu.Wait(); serial.Close(); tpmLog.Close(); close(m.done) }()
	return nil
}

// WaitExit waits for qemu to exit on its own (the guest rebooted or powered
// off) and stops swtpm.
func (m *Machine) WaitExit(timeout time.Duration) error {
	defer m.stopTPM()
	select {
	case <-m.done:
		var ee *exec.ExitError
		if m.err != nil && !errors.As(m.err, &ee) {
			return m.err
		}
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("e2e: qemu still running after %s", timeout)
	}
}

// Exited reports whether qemu has exited.
func (m *Machine) Exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// Kill stops qemu and swtpm if they still run.
func (m *Machine) Kill() {
	if m.qemu != nil && m.qemu.Process != nil {
		select {
		case <-m.done:
		default:
			m.qemu.Process.Kill()
			<-m.done
		}
	}
	m.stopTPM()
}

func (m *Machine) stopTPM() {
	if m.swtpm != nil && m.swtpm.Process != nil {
		m.swtpm.Process.Kill()
		m.swtpm.Wait()
		m.swtpm = nil
	}
}

func waitFile(ctx context.Context, p string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not appear within %s", p, d)
}

// hostPort formats a loopback address.
func hostPort(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
