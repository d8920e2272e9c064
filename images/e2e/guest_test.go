//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/chatsecure/box/appliance/adminapi"
)

// guest talks to the probe inside the guest: its own /state, /reboot and
// /boxdlog, and boxd's admin API, which the probe serves under /v1/.
type guest struct {
	base string // http://127.0.0.1:port
	hc   *http.Client
}

func newGuest(addr string) *guest {
	// argon2id and SQLCipher under TCG are slow: unlock takes seconds.
	return &guest{base: "http://" + addr, hc: &http.Client{Timeout: 90 * time.Second}}
}

// do sends in as JSON (nil: no body) and decodes a 2xx answer into out.
func (g *guest) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, body)
	if err != nil {
		return err
	}
	resp, err := g.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w: %s", method, path, err, b)
	}
	return nil
}

func (g *guest) probeState(ctx context.Context) (state, error) {
	var st state
	err := g.do(ctx, http.MethodGet, "/state", nil, &st)
	return st, err
}

func (g *guest) status(ctx context.Context) (adminapi.Status, error) {
	var st adminapi.Status
	err := g.do(ctx, http.MethodGet, "/v1/status", nil, &st)
	return st, err
}

func (g *guest) boxdLog(ctx context.Context) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/boxdlog", nil)
	resp, err := g.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// settled reports whether boxd has left boot: the admin API answers with a
// state other than boot, and not "busy" (the System lock held).
func settled(st adminapi.Status) bool {
	if st.State == "" || st.State == "boot" {
		return false
	}
	return !strings.HasPrefix(st.Health["boxd"].Detail, "busy")
}

// logValue finds key=value in the last boxd log line that contains msg.
func logValue(log, msg, key string) string {
	val := ""
	re := regexp.MustCompile(`(?:^|\s)` + regexp.QuoteMeta(key) + `=("[^"]*"|\S+)`)
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, msg) {
			if m := re.FindStringSubmatch(l); m != nil {
				val = strings.Trim(m[1], `"`)
			}
		}
	}
	return val
}

// logTime is the time= of the first boxd log line that contains msg.
func logTime(log, msg string) time.Time {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, msg) {
			t, _ := time.Parse(time.RFC3339Nano, logValue(l, "", "time"))
			return t
		}
	}
	return time.Time{}
}
