//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatsecure/box/images"
)

// state is what the probe program (images/testdata/probe, standing in for
// boxd) reports from inside the guest.
type state struct {
	Boots        int    `json:"boots"`
	PermMounted  bool   `json:"perm_mounted"`
	PermExt4     bool   `json:"perm_ext4"`
	GokrazyUI    bool   `json:"gokrazy_ui"`
	GokrPwAbsent bool   `json:"gokr_pw_absent"`
	Cmdline      string `json:"cmdline"`
	Lasttime     string `json:"lasttime"`
	Now          string `json:"now"`
	TPM          bool   `json:"tpm"`
}

const probePort = 8089

func moduleRoot(t *testing.T) string {
	d, err := moduleRootB()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func moduleRootB() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func TestBootRebootPersist(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))

	prog, err := images.ParseProgram("./images/testdata/probe")
	if err != nil {
		t.Fatal(err)
	}
	target, _ := images.LookupTarget("amd64")
	layout := images.DefaultLayout()
	layout.PermBytes = 64 << 20
	buildStart := time.Now()
	res, err := images.Build(ctx, images.Options{
		Target: target, Version: "e2e", Out: filepath.Join(dir, "box-amd64-e2e.img"),
		Programs: []images.Program{prog}, Layout: layout, ModuleDir: moduleRoot(t),
		WorkDir: filepath.Join(dir, "work"), Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image built in %s", time.Since(buildStart).Round(time.Millisecond))
	checkImage(t, res, target, layout)

	probeHost, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	webHost, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	m := &Machine{Image: res.Image, Layout: layout, Dir: dir, Fwd: map[int]int{probePort: probeHost, 80: webHost}}
	t.Cleanup(m.Kill)

	var prev state
	for boot := 1; boot <= 2; boot++ {
		if boot == 2 {
			// Start the second boot's clock in the past, like a Pi without
			// RTC (and no NTP: user networking is restricted): boxinit
			// must move it forward to the time saved in /perm.
			m.RTCBase = "2020-06-01T00:00:00"
		}
		var st state
		var start time.Time
		for try := 1; ; try++ {
			start = time.Now()
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
			st, err = waitReady(ctx, m, hostPort(probeHost), 150*time.Second)
			if err == nil {
				break
			}
			// Multi-threaded TCG now and then crashes the guest kernel in
			// an interrupt (seen: a fatal exception in sched_clock_cpu at
			// a patched NOP); that is the emulator, not the image, so such
			// a boot is tried once more. A dying init or a missing root
			// fails at once.
			if try == 1 && m.Exited() && serialHas(m.Serial, "Fatal exception") == nil &&
				serialHas(m.Serial, "Attempted to kill init") != nil && serialHas(m.Serial, "Unable to mount root") != nil {
				t.Logf("boot %d: guest kernel crashed under TCG; retrying once: %s", boot, serialLine(m.Serial, "RIP:"))
				m.WaitExit(10 * time.Second)
				continue
			}
			dumpSerial(t, m.Serial)
			t.Fatalf("boot %d: %v", boot, err)
		}
		t.Logf("boot %d: boot-to-ready %s (kernel: %s)", boot, time.Since(start).Round(100*time.Millisecond), serialLine(m.Serial, "Run /gokrazy/init"))

		if st.Boots != boot {
			t.Errorf("boot %d: probe counted %d boots in /perm; want %d (data in /perm lost?)", boot, st.Boots, boot)
		}
		if !st.PermMounted || !st.PermExt4 {
			t.Errorf("boot %d: /perm mounted=%v ext4=%v; want an ext4 /perm", boot, st.PermMounted, st.PermExt4)
		}
		if !st.GokrazyUI {
			t.Errorf("boot %d: gokrazy's web UI does not answer on its unix socket", boot)
		}
		if !st.GokrPwAbsent {
			t.Errorf("boot %d: /etc/gokr-pw.txt exists; gokrazy would listen on the network", boot)
		}
		// gokrazy's kernels have no TPM driver built in, so no /dev/tpmrm0:
		// boxd reaches swtpm's TIS registers with its own driver.
		t.Logf("boot %d: /dev/tpmrm0 present: %v", boot, st.TPM)
		if !strings.Contains(st.Cmdline, "root=PARTUUID=") {
			t.Errorf("boot %d: kernel cmdline %q lacks root=PARTUUID=", boot, st.Cmdline)
		}
		last, err := time.Parse(time.RFC3339Nano, st.Lasttime)
		if err != nil {
			t.Errorf("boot %d: /perm/box/lasttime %q: %v", boot, st.Lasttime, err)
		} else if prev.Lasttime != "" {
			before, _ := time.Parse(time.RFC3339Nano, prev.Lasttime)
			if last.Before(before) {
				t.Errorf("boot %d: saved time went back from %s to %s", boot, before, last)
			}
			if now, err := time.Parse(time.RFC3339, st.Now); err != nil || now.Before(before.Truncate(time.Second)) {
				t.Errorf("boot %d: guest clock %q (%v) is before the time saved last boot, %s", boot, st.Now, err, before)
			}
		}
		// gokrazy's HTTP server must not be reachable from the network.
		if resp, err := (&http.Client{Timeout: 3 * time.Second}).Get("http://" + hostPort(webHost) + "/"); err == nil {
			resp.Body.Close()
			t.Errorf("boot %d: gokrazy answered on guest port 80 with %s; want no listener", boot, resp.Status)
		}
		if err := serialHas(m.Serial, "cmdline: "); err != nil {
			t.Errorf("boot %d: gokrazy's init could not read cmdline.txt with its FAT reader: %v", boot, err)
		}
		prev = st

		resp, err := http.Post("http://"+hostPort(probeHost)+"/reboot", "", nil)
		if err != nil {
			t.Fatalf("boot %d: reboot: %v", boot, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("boot %d: reboot: %s %s", boot, resp.Status, body)
		}
		if err := m.WaitExit(90 * time.Second); err != nil {
			dumpSerial(t, m.Serial)
			t.Fatalf("boot %d: %v", boot, err)
		}
	}
}

func waitReady(ctx context.Context, m *Machine, addr string, timeout time.Duration) (state, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		resp, err := c.Get("http://" + addr + "/state")
		if err == nil {
			var st state
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil && st.GokrazyUI {
				return st, nil
			}
		}
		last = err
		if m.Exited() {
			return state{}, fmt.Errorf("qemu exited before the box was ready: %v", last)
		}
		select {
		case <-ctx.Done():
			return state{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return state{}, fmt.Errorf("box not ready within %s: %v", timeout, last)
}

// serialLine returns the first line of the serial log containing s.
func serialLine(path, s string) string {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func serialHas(path, s string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			return nil
		}
	}
	return fmt.Errorf("%q not in %s", s, path)
}

func dumpSerial(t *testing.T, path string) {
	b, _ := os.ReadFile(path)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	t.Logf("serial log tail:\n%s", b)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
