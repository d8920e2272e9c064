package appliance

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
)

// servePprof serves net/http/pprof on a loopback address, for profiling a
// running boxd under load (cmd/xmppload). Off unless -pprof is given; a
// non-loopback address is refused: profiles show memory contents.
func servePprof(addr string, log *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("appliance: pprof address: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return errors.New("appliance: pprof listens on a loopback IP only")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("appliance: pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Warn("pprof profiling endpoint is on", "addr", ln.Addr().String())
	go http.Serve(ln, mux)
	return nil
}
