package load

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Result is one run of one mode against one server, as written by -json and
// read back by the report command.
type Result struct {
	Label string `json:"label"` // server name: box, prosody, ejabberd
	Case  string `json:"case"`  // mode and load, e.g. "login 2000@2000/s"
	Mode  string `json:"mode"`

	// login
	Logins       int     `json:"logins,omitempty"`
	Failed       int     `json:"failed,omitempty"`
	LoginsPerSec float64 `json:"logins_per_s,omitempty"`
	Login        Summary `json:"login_latency"`

	// hold
	IdleRSSKiB   int64      `json:"idle_rss_kib,omitempty"`
	Steps        []HoldStep `json:"steps,omitempty"`
	KiBPerHeld   float64    `json:"kib_per_session,omitempty"`      // last step vs idle
	KiBPerHeldSt float64    `json:"kib_per_session_step,omitempty"` // last step vs the one before

	// msg
	Clients         int     `json:"clients,omitempty"`
	OfferedPerSec   float64 `json:"offered_per_s,omitempty"`
	Sent            int     `json:"sent,omitempty"`
	Delivered       int     `json:"delivered,omitempty"`
	DeliveredPerSec float64 `json:"delivered_per_s,omitempty"`
	Lost            int     `json:"lost,omitempty"`
	Latency         Summary `json:"latency"`
	CPUPerMsgUs     float64 `json:"server_cpu_us_per_msg,omitempty"`

	ServerCPUSec float64 `json:"server_cpu_s,omitempty"`
	ToolCPUSec   float64 `json:"tool_cpu_s"`
	WallSec      float64 `json:"wall_s"`
}

// HoldStep is the server's RSS with a number of sessions held.
type HoldStep struct {
	Sessions int   `json:"sessions"`
	RSSKiB   int64 `json:"rss_kib"`
}

// metric is one row of the side-by-side report.
type metric struct {
	name string
	get  func(*Result) (float64, bool)
}

func metricsFor(mode string) []metric {
	f := func(name string, get func(*Result) float64) metric {
		return metric{name, func(r *Result) (float64, bool) { return get(r), true }}
	}
	switch mode {
	case "login":
		return []metric{
			f("logins/s", func(r *Result) float64 { return r.LoginsPerSec }),
			f("login p50 ms", func(r *Result) float64 { return r.Login.P50 }),
			f("login p99 ms", func(r *Result) float64 { return r.Login.P99 }),
			f("failed", func(r *Result) float64 { return float64(r.Failed) }),
		}
	case "hold":
		return []metric{
			f("idle RSS MiB", func(r *Result) float64 { return float64(r.IdleRSSKiB) / 1024 }),
			f("KiB/session, all over idle", func(r *Result) float64 { return r.KiBPerHeld }),
			f("KiB/session, last step", func(r *Result) float64 { return r.KiBPerHeldSt }),
		}
	case "msg":
		return []metric{
			f("offered msg/s", func(r *Result) float64 { return r.OfferedPerSec }),
			f("delivered msg/s", func(r *Result) float64 { return r.DeliveredPerSec }),
			f("latency p50 ms", func(r *Result) float64 { return r.Latency.P50 }),
			f("latency p99 ms", func(r *Result) float64 { return r.Latency.P99 }),
			f("latency max ms", func(r *Result) float64 { return r.Latency.Max }),
			f("not delivered by drain end", func(r *Result) float64 { return float64(r.Lost) }),
			f("server CPU µs/msg", func(r *Result) float64 { return r.CPUPerMsgUs }),
			f("tool CPU s", func(r *Result) float64 { return r.ToolCPUSec }),
		}
	}
	return nil
}

// stepMetrics adds one row per hold step: KiB per session over idle with
// that many sessions held (the issue asks for 1000 and 5000).
func stepMetrics(byLabel map[string][]*Result) []metric {
	var counts []int
	for _, runs := range byLabel {
		for _, r := range runs {
			for _, st := range r.Steps {
				if !slices.Contains(counts, st.Sessions) {
					counts = append(counts, st.Sessions)
				}
			}
		}
	}
	slices.Sort(counts)
	var ms []metric
	for _, n := range counts {
		ms = append(ms, metric{fmt.Sprintf("KiB/session at %d over idle", n), func(r *Result) (float64, bool) {
			for _, st := range r.Steps {
				if st.Sessions == n {
					return float64(st.RSSKiB-r.IdleRSSKiB) / float64(n), true
				}
			}
			return 0, false
		}})
	}
	return ms
}

// writeResult writes r as JSON to path ("-" is stdout).
func writeResult(path string, stdout io.Writer, r *Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("result: %w", err)
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("result: %w", err)
	}
	return nil
}

// ReadResults loads every *.json result under dir.
func ReadResults(dir string) ([]*Result, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	sort.Strings(files)
	var rs []*Result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		r := &Result{}
		if err := json.Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("report: %s: %w", f, err)
		}
		if r.Label == "" || r.Case == "" || metricsFor(r.Mode) == nil {
			return nil, fmt.Errorf("report: %s: missing label, case or known mode", f)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// medianOf is the median of a metric over repeated runs.
func medianOf(runs []*Result, m metric) (float64, bool) {
	vs := make([]float64, 0, len(runs))
	for _, r := range runs {
		if v, ok := m.get(r); ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
}

// Report prints one table per case with a column per server (the median of repeated runs) and the ratios
// base/other, e.g. box/prosody and box/ejabberd. Labels appear in the order
// given by order (others after, sorted); base defaults to the first present.
func Report(w io.Writer, rs []*Result, order []string, base string) error {
	if len(rs) == 0 {
		return fmt.Errorf("report: no results")
	}
	present := map[string]bool{}
	var cases []string
	byCase := map[string]map[string][]*Result{}
	modeOf := map[string]string{}
	for _, r := range rs {
		present[r.Label] = true
		if byCase[r.Case] == nil {
			byCase[r.Case] = map[string][]*Result{}
			cases = append(cases, r.Case)
			modeOf[r.Case] = r.Mode
		}
		byCase[r.Case][r.Label] = append(byCase[r.Case][r.Label], r)
	}
	var labels []string
	for _, l := range order {
		if present[l] && !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	var rest []string
	for l := range present {
		if !slices.Contains(labels, l) {
			rest = append(rest, l)
		}
	}
	sort.Strings(rest)
	labels = append(labels, rest...)
	if base == "" || !present[base] {
		base = labels[0]
	}
	var others []string
	for _, l := range labels {
		if l != base {
			others = append(others, l)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, c := range cases {
		hdr := []string{c}
		hdr = append(hdr, labels...)
		for _, o := range others {
			hdr = append(hdr, base+"/"+o)
		}
		fmt.Fprintln(tw, strings.Join(hdr, "\t")+"\t")
		ms := metricsFor(modeOf[c])
		if modeOf[c] == "hold" {
			ms = append(ms, stepMetrics(byCase[c])...)
		}
		for _, m := range ms {
			row := []string{m.name}
			vals := map[string]float64{}
			for _, l := range labels {
				v, ok := medianOf(byCase[c][l], m)
				if !ok {
					row = append(row, "-")
					continue
				}
				vals[l] = v
				row = append(row, fmtNum(v))
			}
			for _, o := range others {
				bv, ok1 := vals[base]
				ov, ok2 := vals[o]
				if !ok1 || !ok2 || ov == 0 {
					row = append(row, "-")
					continue
				}
				row = append(row, fmt.Sprintf("%.2f", bv/ov))
			}
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		fmt.Fprintln(tw, "\t")
	}
	return tw.Flush()
}

func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100 || v <= -100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10 || v <= -10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
