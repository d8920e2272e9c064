package appliance

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
)

// gcPercent is boxd's GOGC. With many held XMPP sessions the box runs out
// of RAM long before CPU: at 50 the heap grows to 1.5× what is live
// instead of 2×, so a held session costs about 17 instead of 22 KiB of RSS
// (xmppload hold, 1000→5000 sessions), for more frequent but, with a
// small live heap, short collections.
const gcPercent = 50

// tuneGC applies gcPercent unless GOGC is set, and a soft memory limit of
// three quarters of RAM unless GOMEMLIMIT is set, so that the collector
// works harder before the box runs out of memory rather than after.
func tuneGC(log *slog.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
		log.Debug("gc: GOGC", "percent", gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if total, ok := memTotal(); ok {
			debug.SetMemoryLimit(total / 4 * 3)
			log.Debug("gc: soft memory limit", "bytes", total/4*3)
		}
	}
}

// memTotal is MemTotal from /proc/meminfo, in bytes.
func memTotal() (int64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	return parseMemTotal(b)
}

func parseMemTotal(b []byte) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemTotal:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil || kb <= 0 {
			return 0, false
		}
		return kb * 1024, true
	}
	return 0, false
}
