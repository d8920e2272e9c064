package updates_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chatsecure/box/updates"
	"github.com/chatsecure/box/updates/devslots"
	"github.com/chatsecure/box/updates/trust"
	"github.com/chatsecure/box/updates/updatestest"
)

const crashRuns = 30

// TestCrashChild is the apply the crash test kills; it runs only when
// re-executed by TestCrashDuringApply.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("UPDATES_CRASH_DIR")
	if dir == "" {
		t.Skip("only run as TestCrashDuringApply's child")
	}
	killAt, _ := strconv.ParseInt(os.Getenv("UPDATES_CRASH_AT"), 10, 64)
	set, err := trust.LoadSet(os.DirFS(os.Getenv("UPDATES_CRASH_TRUST")), "trust")
	if err != nil {
		t.Fatal(err)
	}
	s, err := devslots.Open(filepath.Join(dir, "slots"), updates.SlotInfo{}, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	floor := &updatestest.Floor{}
	floor.Raise(1)
	u, err := updates.New(updates.Config{Target: "amd64", Slots: s, Floor: floor, Trust: &updatestest.TrustStore{}, History: &updatestest.History{}, Root: set})
	if err != nil {
		t.Fatal(err)
	}
	var seen int64
	_, err = u.ApplyFile(ctx, os.Getenv("UPDATES_CRASH_BUNDLE"), func(p updates.Progress) {
		seen++
		if killAt > 0 && seen >= killAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashDuringApply kills the apply (a re-exec of this test binary) at
// random points: on a progress report, or after a random delay. Each time
// the active slot and the boot pointer must be as before, or the pointer
// must name a fully written trial slot; and the next apply must succeed.
func TestCrashDuringApply(t *testing.T) {
	if testing.Short() {
		t.Skip("re-execs the test binary")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	big, bigBoot := bytes.Repeat([]byte("system 2.0.0 crash root "), 64_000), bytes.Repeat([]byte("k"), 200_000) // 1.5 MB, 0.2 MB
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	// Keys, trust files and the bundle are shared by all runs; each run
	// gets fresh slots.
	f := newFixture(t)
	shared := t.TempDir()
	os.Mkdir(filepath.Join(shared, "trust"), 0o755)
	for i, k := range f.keys {
		os.WriteFile(filepath.Join(shared, "trust", strconv.Itoa(i)+".pub"), k.Public().Marshal(), 0o644)
	}
	os.WriteFile(filepath.Join(shared, "trust", "threshold"), []byte("2"), 0o644)
	bpath := f.bundle(spec{root: big, boot: bigBoot})
	var killed, finished, marked int
	for run := range crashRuns {
		work := t.TempDir()
		f.dir = filepath.Join(work, "slots")
		f.install()
		f.reopen()
		before := snapshot(t, f.dir)
		stateBefore, _ := os.ReadFile(filepath.Join(f.dir, devslots.StateFile))

		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = append(os.Environ(), "UPDATES_CRASH_DIR="+work, "UPDATES_CRASH_TRUST="+shared, "UPDATES_CRASH_BUNDLE="+bpath)
		// 10 progress reports in all (1 MiB chunks): pick one, or a delay.
		if run%2 == 0 {
			cmd.Env = append(cmd.Env, "UPDATES_CRASH_AT="+strconv.Itoa(1+rng.IntN(10)))
			err = cmd.Run()
		} else {
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.AfterFunc(time.Duration(rng.IntN(60))*time.Millisecond, func() { cmd.Process.Kill() })
			err = cmd.Wait()
		}
		var exit *exec.ExitError
		switch {
		case err == nil:
			finished++
		case errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled():
			killed++
		default:
			t.Fatalf("run %d: child failed without being killed: %v\n%s", run, err, out.String())
		}

		after := snapshot(t, f.dir)
		for _, name := range []string{"rootA.img", "bootA.img"} {
			if before[name] != after[name] {
				t.Fatalf("run %d: active %s changed", run, name)
			}
		}
		stateNow, _ := os.ReadFile(filepath.Join(f.dir, devslots.StateFile))
		if !bytes.Equal(stateNow, stateBefore) {
			// The only other state allowed: B fully written and marked.
			marked++
			var st updates.SlotState
			if err := json.Unmarshal(stateNow, &st); err != nil {
				t.Fatalf("run %d: state file unreadable: %v", run, err)
			}
			if st.Active != "A" || st.Trial != "B" || st.Slots["B"].Version != "2.0.0" {
				t.Fatalf("run %d: state = %+v", run, st)
			}
			fileIs(t, f.slots.Path("B", "root"), big)
			fileIs(t, f.slots.Path("B", "boot"), bigBoot)
		}
		// The next apply succeeds and the trial boots.
		f.reopen()
		if _, err := f.u.ApplyFile(ctx, bpath, nil); err != nil {
			t.Fatalf("run %d: apply after crash: %v", run, err)
		}
		if br, err := f.u.Boot(ctx); err != nil || br.State.Booted != "B" {
			t.Fatalf("run %d: boot after crash: %+v %v", run, br, err)
		}
		fileIs(t, f.slots.Path("B", "root"), big)
	}
	t.Logf("%d runs: %d killed (%d after the trial mark), %d finished before the kill", crashRuns, killed, marked, finished)
	if killed == 0 {
		t.Fatal("no run was killed: the test tested nothing")
	}
}
