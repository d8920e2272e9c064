package console

import (
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/chatsecure/box/services"
)

type healthLine struct {
	Name string
	services.Health
}

type dashboard struct {
	St        BoxStatus
	Health    []healthLine
	DiskUsed  uint64
	DiskTotal uint64
	HasDisk   bool
	TempC     float64
	HasTemp   bool
	People    int
	Invites   int
}

// diskUsage measures the file system holding the data directory.
func diskUsage(dir string) (used, total uint64, ok bool) {
	var st syscall.Statfs_t
	if dir == "" || syscall.Statfs(dir, &st) != nil {
		return 0, 0, false
	}
	total = st.Blocks * uint64(st.Bsize)
	free := st.Bavail * uint64(st.Bsize)
	return total - free, total, total > 0
}

// cpuTemp reads the first thermal zone (millidegrees Celsius); boards
// without one (most VMs) have none and the dashboard leaves it out.
func cpuTemp(glob string) (float64, bool) {
	paths, _ := filepath.Glob(glob)
	sort.Strings(paths)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			continue
		}
		return float64(v) / 1000, true
	}
	return 0, false
}

func sortedHealth(h map[string]services.Health) []healthLine {
	out := make([]healthLine, 0, len(h))
	for k, v := range h {
		out = append(out, healthLine{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Service) getDashboard(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	d := dashboard{St: s.box.Status(ctx)}
	d.Health = sortedHealth(d.St.Health)
	d.DiskUsed, d.DiskTotal, d.HasDisk = diskUsage(s.opts.DataDir)
	d.TempC, d.HasTemp = cpuTemp(s.opts.ThermalGlob)
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM console_users`).Scan(&d.People)
	if list, err := s.invites.List(ctx); err == nil {
		now := s.now()
		for _, i := range list {
			if i.Status(now) == nil {
				d.Invites++
			}
		}
	}
	s.render(w, r, c, 200, "dashboard", pageData{Title: "Dashboard", Nav: "dashboard", Data: d})
}
