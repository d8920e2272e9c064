package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ on Linux, fixed at 100 by the kernel ABI for /proc.
const clockTicks = 100

// ProcSample is what the tool reads about a server process.
type ProcSample struct {
	RSSKiB int64
	CPU    time.Duration // user + system
}

// Prober samples a process; procfs is the real one, tests inject a fake.
type Prober interface {
	Sample() (ProcSample, error)
}

// procfs samples /proc/PID.
type procfs struct{ pid int }

// NewProcProber returns a Prober for a local PID.
func NewProcProber(pid int) Prober { return procfs{pid: pid} }

func (p procfs) Sample() (ProcSample, error) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return ProcSample{}, fmt.Errorf("proc: %w", err)
	}
	rss, err := parseVmRSS(st)
	if err != nil {
		return ProcSample{}, fmt.Errorf("proc %d: %w", p.pid, err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return ProcSample{}, fmt.Errorf("proc: %w", err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return ProcSample{}, fmt.Errorf("proc %d: %w", p.pid, err)
	}
	return ProcSample{RSSKiB: rss, CPU: cpu}, nil
}

// parseVmRSS finds "VmRSS:  1234 kB" in /proc/PID/status.
func parseVmRSS(status []byte) (int64, error) {
	for _, line := range bytes.Split(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := strings.Fields(string(rest))
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("status: malformed VmRSS line %q", line)
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("status: malformed VmRSS %q", f[0])
		}
		return v, nil
	}
	return 0, fmt.Errorf("status: no VmRSS line")
}

// parseStatCPU returns utime+stime from /proc/PID/stat. The command name may
// hold spaces and parentheses, so fields are counted after the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	// After the name: state is field 3 of the man page, utime 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("stat: malformed cpu field %q", s)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
