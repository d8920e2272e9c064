package updates_test

import (
	"bytes"
	"encoding/json"
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
	set, err := trust.LoadSet(os.DirFS(dir), "trust")
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
	_, err = u.ApplyFile(ctx, filepath.Join(dir, "v2.boxupdate"), func(p updates.Progress) {
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
	var killed, finished int
	for run := range crashRuns {
		f := newFixture(t)
		work := t.TempDir()
		os.Rename(f.dir, filepath.Join(work, "slots"))
		f.dir = filepath.Join(work, "slots")
		f.reopen()
		os.Mkdir(filepath.Join(work, "trust"), 0o755)
		for i, k := range f.keys {
			os.WriteFile(filepath.Join(work, "trust", strconv.Itoa(i)+".pub"), k.Public().Marshal(), 0o644)
		}
		os.WriteFile(filepath.Join(work, "trust", "threshold"), []byte("2"), 0o644)
		bpath := f.bundle(spec{root: big, boot: bigBoot})
		os.Rename(bpath, filepath.Join(work, "v2.boxupdate"))
		before := snapshot(t, f.dir)
		stateBefore, _ := os.ReadFile(filepath.Join(f.dir, devslots.StateFile))

		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "UPDATES_CRASH_DIR="+work)
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
		if err != nil {
			killed++
		} else {
			finished++
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
		if _, err := f.u.ApplyFile(ctx, filepath.Join(work, "v2.boxupdate"), nil); err != nil {
			t.Fatalf("run %d: apply after crash: %v", run, err)
		}
		if br, err := f.u.Boot(ctx); err != nil || br.State.Booted != "B" {
			t.Fatalf("run %d: boot after crash: %+v %v", run, br, err)
		}
		fileIs(t, f.slots.Path("B", "root"), big)
	}
	t.Logf("%d runs: %d killed, %d finished before the kill", crashRuns, killed, finished)
	if killed == 0 {
		t.Fatal("no run was killed: the test tested nothing")
	}
}
