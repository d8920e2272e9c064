package console

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is the console's own Prometheus registry (not the global one, so
// two services in one process or one test never collide).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	logins   *prometheus.CounterVec
	csrf     prometheus.Counter
	denied   prometheus.Counter
	redeemed prometheus.Counter
}

func newMetrics(s *Service) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "box_console_http_requests_total", Help: "Console HTTP answers by status class.",
		}, []string{"code"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "box_console_logins_total", Help: "Console sign-in attempts by result (ok, failed, throttled).",
		}, []string{"result"}),
		csrf: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "box_console_csrf_rejected_total", Help: "POSTs refused for a missing or wrong CSRF token.",
		}),
		denied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "box_console_denied_total", Help: "Requests refused for want of a session or role.",
		}),
		redeemed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "box_invites_redeemed_web_total", Help: "Accounts made through the web invite page.",
		}),
	}
	for _, r := range []string{"ok", "failed", "throttled"} {
		m.logins.WithLabelValues(r) // exported at 0 from the start, so rates work
	}
	m.reg.MustRegister(m.requests, m.logins, m.csrf, m.denied, m.redeemed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&boxCollector{s})
	return m
}

// handler serves /metrics without authentication: only for the separate
// metrics listener, which the operator binds to a monitoring network.
func (m *metrics) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return mux
}

func (s *Service) getMetrics(w http.ResponseWriter, r *http.Request, c *call) {
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// boxCollector reads the box's status at scrape time.
type boxCollector struct{ s *Service }

var (
	descUp       = prometheus.NewDesc("box_subsystem_up", "1 if the subsystem reports healthy.", []string{"subsystem"}, nil)
	descState    = prometheus.NewDesc("box_state", "1 for the box's current state.", []string{"state"}, nil)
	descUptime   = prometheus.NewDesc("box_uptime_seconds", "Seconds since boxd started.", nil, nil)
	descSessions = prometheus.NewDesc("box_xmpp_sessions", "Connected XMPP sessions.", nil, nil)
	descMsgs     = prometheus.NewDesc("box_xmpp_messages_per_minute", "Messages routed in the last minute.", nil, nil)
	descDisk     = prometheus.NewDesc("box_data_disk_bytes", "Data file system size and use.", []string{"kind"}, nil)
	descTemp     = prometheus.NewDesc("box_cpu_temperature_celsius", "CPU temperature where the board has a sensor.", nil, nil)
	descPeople   = prometheus.NewDesc("box_console_people", "People known to the console by role.", []string{"role"}, nil)
	descInvites  = prometheus.NewDesc("box_invites_active", "Invites that can still be redeemed.", nil, nil)
)

func (b *boxCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descState, descUptime, descSessions, descMsgs, descDisk, descTemp, descPeople, descInvites} {
		ch <- d
	}
}

func (b *boxCollector) Collect(ch chan<- prometheus.Metric) {
	s := b.s
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := s.box.Status(ctx)
	for name, h := range st.Health {
		v := 0.0
		if h.OK {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, v, name)
	}
	ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, 1, st.State)
	ch <- prometheus.MustNewConstMetric(descUptime, prometheus.GaugeValue, st.Uptime.Seconds())
	if st.Sessions >= 0 {
		ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(st.Sessions))
	}
	if st.MessagesPerMinute >= 0 {
		ch <- prometheus.MustNewConstMetric(descMsgs, prometheus.GaugeValue, st.MessagesPerMinute)
	}
	if used, total, ok := diskUsage(s.opts.DataDir); ok {
		ch <- prometheus.MustNewConstMetric(descDisk, prometheus.GaugeValue, float64(used), "used")
		ch <- prometheus.MustNewConstMetric(descDisk, prometheus.GaugeValue, float64(total), "total")
	}
	if t, ok := cpuTemp(s.opts.ThermalGlob); ok {
		ch <- prometheus.MustNewConstMetric(descTemp, prometheus.GaugeValue, t)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT role, count(*) FROM console_users GROUP BY role`)
	if err == nil {
		for rows.Next() {
			var role string
			var n int
			if rows.Scan(&role, &n) == nil {
				ch <- prometheus.MustNewConstMetric(descPeople, prometheus.GaugeValue, float64(n), role)
			}
		}
		rows.Close()
	}
	if list, err := s.invites.List(ctx); err == nil {
		n, now := 0, s.now()
		for _, i := range list {
			if i.Status(now) == nil {
				n++
			}
		}
		ch <- prometheus.MustNewConstMetric(descInvites, prometheus.GaugeValue, float64(n))
	}
}
