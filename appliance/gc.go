package appliance

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"
)

// boxd's GOGC moves between 50 and 100 with the live heap (adaptGC).
// With many held XMPP sessions the box runs out of RAM long before CPU:
// at 50 the heap grows to 1.5× what is live instead of 2×, so a held
// session costs about 15 instead of 20 KiB of RSS (xmppload hold,
// 1000→5000 sessions). With a small live heap that would only make
// collections frequent (each with its fixed cost: +12% CPU per login in a
// login burst), so GOGC stays high enough to leave gcHeadroom to grow.
const (
	gcPercentMin = 50
	gcPercentMax = 100
	gcHeadroom   = 8 << 20
)

// gcPercentFor is the GOGC for a live heap of live bytes.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return gcPercentMax
	}
	p := int(gcHeadroom * 100 / live)
	return min(max(p, gcPercentMin), gcPercentMax)
}

// tuneGC sets a soft memory limit of three quarters of RAM unless
// GOMEMLIMIT is set, so that the collector works harder before the box
// runs out of memory rather than after, and, unless GOGC is set, adapts
// GOGC to the live heap every second until ctx ends. It also gives the
// heap's free pages back after a burst (memtrim.go).
func tuneGC(ctx context.Context, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") == "" {
		if total, ok := memTotal(); ok {
			debug.SetMemoryLimit(total / 4 * 3)
			log.Debug("gc: soft memory limit", "bytes", total/4*3)
		}
	}
	go gcLoop(ctx, os.Getenv("GOGC") == "", log)
}

// gcLoop adapts GOGC (if adapt) and trims the heap after bursts
// (memtrim.go), once a second until ctx ends.
func gcLoop(ctx context.Context, adapt bool, log *slog.Logger) {
	cur := gcPercentMax
	trimmer := newMemTrimmer()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if trimmer.tick() {
			log.Info("gc: gave free heap back to the OS after a burst", "slack_mib", trimmer.lastSlack>>20)
		}
		if !adapt {
			continue
		}
		// The trimmer's tick has just read the live heap.
		live := trimmer.samples[0].Value
		if live.Kind() != metrics.KindUint64 {
			adapt = false
			continue
		}
		if p := gcPercentFor(live.Uint64()); p != cur {
			debug.SetGCPercent(p)
			cur = p
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
