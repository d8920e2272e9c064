// Command probe is the e2e test's helper inside the qemu image (test images
// only, never a release image): it counts boots in /perm, reports what the
// test checks over HTTP on :8089, asks gokrazy (over its unix socket, the
// only place it listens) to reboot, serves boxd's admin socket under /v1/ so
// the host can drive boxd as boxctl would, and hands out boxd's log lines
// from gokrazy's log buffer under /boxdlog.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	gokrazySocket = "/run/gokrazy-http.sock"
	// boxdSocket is boxd's admin socket in its default data directory.
	boxdSocket = "/perm/box/boxd.sock"
)

func unixClient(sock string) *http.Transport {
	return &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
}

var gokrazy = &http.Client{Timeout: 5 * time.Second, Transport: unixClient(gokrazySocket)}

func countBoot() (int, error) {
	p := "/perm/probe/boots"
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		return 0, err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	n++
	if err := os.WriteFile(p, []byte(strconv.Itoa(n)+"\n"), 0o644); err != nil {
		return 0, err
	}
	f, err := os.Open(p)
	if err == nil {
		f.Sync()
		f.Close()
	}
	return n, nil
}

func main() {
	boots, err := countBoot()
	if err != nil {
		log.Printf("probe: counting boots: %v", err)
	}
	http.HandleFunc("/state", func(w http.ResponseWriter, r *http.Request) {
		var perm, root syscall.Stat_t
		syscall.Stat("/perm", &perm)
		syscall.Stat("/", &root)
		var sfs syscall.Statfs_t
		syscall.Statfs("/perm", &sfs)
		cmdline, _ := os.ReadFile("/proc/cmdline")
		lasttime, _ := os.ReadFile("/perm/box/lasttime")
		ui := false
		if resp, err := gokrazy.Get("http://gokrazy/"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ui = resp.StatusCode == http.StatusOK
		}
		_, pw := os.Stat("/etc/gokr-pw.txt")
		_, tpm := os.Stat("/dev/tpmrm0")
		json.NewEncoder(w).Encode(map[string]any{
			"boots":          boots,
			"perm_mounted":   perm.Dev != root.Dev,
			"perm_ext4":      sfs.Type == 0xef53,
			"perm_bytes":     int64(sfs.Blocks) * sfs.Bsize,
			"gokrazy_ui":     ui,
			"gokr_pw_absent": os.IsNotExist(pw),
			"tpm":            tpm == nil,
			"cmdline":        strings.TrimSpace(string(cmdline)),
			"lasttime":       strings.TrimSpace(string(lasttime)),
			"now":            time.Now().UTC().Format(time.RFC3339),
		})
	})
	http.HandleFunc("/reboot", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		// Answer first: gokrazy kills this program while rebooting.
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintln(w, "rebooting")
		go func() {
			time.Sleep(200 * time.Millisecond)
			// kexec=off: a real reboot, so qemu (-no-reboot) exits and
			// the harness boots whatever the boot partition now says.
			// boxd gets 3 s after SIGTERM to close its store.
			resp, err := gokrazy.Post("http://gokrazy/reboot?kexec=off&wait_per_signal=3s", "", nil)
			if err != nil {
				log.Printf("probe: reboot: %v", err)
				return
			}
			resp.Body.Close()
		}()
	})
	http.Handle("/v1/", &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "boxd"
		},
		Transport: unixClient(boxdSocket),
	})
	http.HandleFunc("/boxdlog", func(w http.ResponseWriter, r *http.Request) {
		// gokrazy's /log streams the buffered lines first, then waits for
		// more: read for a moment and hand back what came.
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://gokrazy/log?path=/user/boxd&stream=stderr", nil)
		resp, err := (&http.Client{Transport: unixClient(gokrazySocket)}).Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Write(b)
	})
	log.Fatal(http.ListenAndServe(":8089", nil))
}
