package tryboot

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/tryboot/tryboottest"
)

const crashRuns = 30

// TestCrashChild is the MarkTrial or Commit the crash test kills; it runs
// only when re-executed by TestCrashDuringMarkTrial or TestCrashDuringCommit.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("TRYBOOT_CRASH_DIR")
	if dir == "" {
		t.Skip("only run as the crash tests' child")
	}
	killStep, _ := strconv.Atoi(os.Getenv("TRYBOOT_CRASH_STEP"))
	delay, _ := time.ParseDuration(os.Getenv("TRYBOOT_CRASH_DELAY"))
	booted, _ := strconv.Atoi(os.Getenv("TRYBOOT_CRASH_BOOTED"))
	b := boxAt(t, dir, tryboottest.Pi4)
	b.booted = booted
	cfg := b.config()
	steps := 0
	cfg.Step = func(string) {
		if steps++; killStep > 0 && steps >= killStep {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kill := func() {
		if delay > 0 {
			time.AfterFunc(delay, func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) })
		}
	}
	switch os.Getenv("TRYBOOT_CRASH_PHASE") {
	case "mark":
		applyPayload(t, s, "2.0.0", filepath.Join(dir, "v2.vfat"))
		kill()
		err = s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2})
	case "commit":
		kill()
		err = s.Commit()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// crashChild runs the child and reports whether it was killed.
func crashChild(t *testing.T, dir, phase string, booted, step int, delay time.Duration) bool {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TRYBOOT_CRASH_DIR="+dir, "TRYBOOT_CRASH_PHASE="+phase,
		"TRYBOOT_CRASH_BOOTED="+strconv.Itoa(booted), "TRYBOOT_CRASH_STEP="+strconv.Itoa(step), "TRYBOOT_CRASH_DELAY="+delay.String())
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && ee.Sys().(syscall.WaitStatus).Signaled() {
		return true
	}
	if err != nil {
		t.Fatalf("child (%s, step %d, delay %s) failed: %v\n%s", phase, step, delay, err, out)
	}
	return false
}

// countSteps runs MarkTrial (and Commit) on a fresh box and counts the
// Step calls, so the kills cover every step.
func countSteps(t *testing.T) (mark, commit int) {
	b := newBox(t, tryboottest.Pi4)
	b.boot(false)
	cfg := b.config()
	n := 0
	cfg.Step = func(string) { n++ }
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, "2.0.0")
	if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
		t.Fatal(err)
	}
	mark, n = n, 0
	s.Reboot()
	b.reboot()
	cfg.Booted = func() (int, error) { return b.booted, nil }
	if s, err = Open(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Boot(); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	return mark, n
}

// checkNormalPath asserts what any boot without the tryboot flag (a
// reboot, the watchdog, a power cut) starts: a whole release, v1 from a/
// or (after a commit) v2 from b/, never a mix or a missing file.
func checkNormalPath(t *testing.T, b *box, allowV2 bool) string {
	t.Helper()
	for _, model := range models {
		fw, err := tryboottest.Resolve(b.read, model, false)
		if err != nil {
			t.Fatalf("%s: normal boot path broken: %v", model, err)
		}
		dtb := fmt.Sprintf("%s dtb", model)
		switch {
		case fw.Prefix == "a/" && bytes.Equal(fw.Kernel, kernelOf("1.0.0")) && string(fw.DTB) == dtb+" 1.0.0" && partnroff(fw.Cmdline) == "1":
		case allowV2 && fw.Prefix == "b/" && bytes.Equal(fw.Kernel, kernelOf("2.0.0")) && string(fw.DTB) == dtb+" 2.0.0" && partnroff(fw.Cmdline) == "2":
		default:
			t.Fatalf("%s: normal boot: prefix %q, kernel %d bytes, dtb %q, cmdline %q", model, fw.Prefix, len(fw.Kernel), fw.DTB, fw.Cmdline)
		}
	}
	fw, _ := tryboottest.Resolve(b.read, tryboottest.Pi4, false)
	return fw.Prefix
}

func partnroff(cmdline string) string {
	m := partnroffRe.FindStringSubmatch(cmdline)
	if m == nil {
		return ""
	}
	return m[1]
}

// checkTrialPath asserts that a tryboot.txt, if there is one, boots a
// whole v2 from b/.
func checkTrialPath(t *testing.T, b *box) bool {
	t.Helper()
	if _, err := b.read("/tryboot.txt"); err != nil {
		return false
	}
	for _, model := range models {
		fw, err := tryboottest.Resolve(b.read, model, true)
		if err != nil || fw.Prefix != "b/" || !bytes.Equal(fw.Kernel, kernelOf("2.0.0")) || string(fw.DTB) != fmt.Sprintf("%s dtb 2.0.0", model) || partnroff(fw.Cmdline) != "2" {
			t.Fatalf("%s: tryboot.txt present but the trial boot is not a whole v2: prefix %q %v", model, fw.Prefix, err)
		}
	}
	return true
}

// TestCrashDuringMarkTrial kills MarkTrial at every kind of point (at a
// step, or after a random delay). Each time the normal boot path must be
// the untouched v1; a tryboot.txt must only exist with a whole v2 behind
// it; the next boot must open the slots, and the next apply must succeed
// and boot v2 on trial.
func TestCrashDuringMarkTrial(t *testing.T) {
	if testing.Short() {
		t.Skip("re-execs the test binary")
	}
	markSteps, _ := countSteps(t)
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	v2 := release(t, "2.0.0", "box")
	killed, withTryboot := 0, 0
	for run := range crashRuns {
		b := newBox(t, tryboottest.Pi4)
		b.boot(false)
		b.open() // first start records v1
		copyFile(t, v2, filepath.Join(filepath.Dir(b.bootDir), "v2.vfat"))
		step, delay := 1+rng.IntN(markSteps), time.Duration(0)
		if run%3 == 2 {
			step, delay = 0, time.Duration(rng.IntN(30_000))*time.Microsecond
		}
		if crashChild(t, filepath.Dir(b.bootDir), "mark", b.booted, step, delay) {
			killed++
		}
		checkNormalPath(t, b, false)
		if checkTrialPath(t, b) {
			withTryboot++
		}
		// Power comes back: a plain boot.
		b.boot(false)
		s := b.open()
		if _, err := s.Boot(); err != nil {
			t.Fatalf("run %d: Boot after the crash: %v", run, err)
		}
		apply(t, s, "2.0.0")
		if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
			t.Fatalf("run %d: MarkTrial after the crash: %v", run, err)
		}
		s.Reboot()
		b.reboot()
		if b.booted != partB || b.kernelVersion() != "2.0.0" {
			t.Fatalf("run %d: trial after the crash boots root %d kernel %s", run, b.booted, b.kernelVersion())
		}
	}
	t.Logf("%d runs, %d killed, %d left a (whole) tryboot.txt", crashRuns, killed, withTryboot)
	if killed < crashRuns/2 {
		t.Errorf("only %d of %d runs were killed", killed, crashRuns)
	}
}

// TestCrashDuringCommit kills Commit in a trial boot: the normal boot
// path is then v1 (a/) or v2 (b/), whole, and the next boot agrees.
func TestCrashDuringCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("re-execs the test binary")
	}
	_, commitSteps := countSteps(t)
	rng := rand.New(rand.NewPCG(8, uint64(time.Now().UnixNano())))
	seen := map[string]int{}
	for run := range crashRuns / 2 {
		b := newBox(t, tryboottest.Pi4)
		b.boot(false)
		s := b.open()
		apply(t, s, "2.0.0")
		if err := s.MarkTrial(updates.SlotInfo{Version: "2.0.0", Build: 2}); err != nil {
			t.Fatal(err)
		}
		s.Reboot()
		b.reboot()
		if r, err := b.open().Boot(); err != nil || !r.State.InTrial() {
			t.Fatalf("trial Boot = %+v, %v", r, err)
		}
		step, delay := 1+rng.IntN(commitSteps+1), time.Duration(0)
		if run%3 == 2 {
			step, delay = 0, time.Duration(rng.IntN(3000))*time.Microsecond
		}
		crashChild(t, filepath.Dir(b.bootDir), "commit", b.booted, step, delay)
		prefix := checkNormalPath(t, b, true)
		seen[prefix]++
		b.boot(false)
		r, err := b.open().Boot()
		if err != nil {
			t.Fatalf("run %d: Boot after the crash: %v", run, err)
		}
		if want := map[string]string{"a/": "A", "b/": "B"}[prefix]; r.State.Active != want || r.State.Booted != want || r.State.InTrial() {
			t.Fatalf("run %d: after a crash in Commit config.txt boots %s but the state says %+v", run, prefix, r.State)
		}
	}
	t.Logf("commit crashes left the normal path at %v", seen)
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
