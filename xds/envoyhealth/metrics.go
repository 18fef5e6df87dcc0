package envoyhealth

import "github.com/prometheus/client_golang/prometheus"

// Values of the result label of switchboard_envoy_health_polls_total.
const (
	resultOK      = "ok"
	resultError   = "error"
	resultSkipped = "skipped"
)

// pollMetrics make the poll's cost visible: it competes with xDS for
// Envoy's main thread and for our CPU.
type pollMetrics struct {
	duration  prometheus.Histogram
	bytes     prometheus.Counter
	polls     *prometheus.CounterVec
	upstreams prometheus.Gauge
}

func newPollMetrics(reg prometheus.Registerer) *pollMetrics {
	m := &pollMetrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_envoy_health_poll_duration_seconds",
			Help:    "Time to fetch and decode one Envoy's /clusters answer for host health.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_envoy_health_poll_response_bytes_total",
			Help: "Bytes of /clusters answers read from Envoys' admin listeners.",
		}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_envoy_health_polls_total",
			Help: "Health polls of one Envoy, by result: ok, error, or skipped (no upstream is health-checked).",
		}, []string{"result"}),
		upstreams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_envoy_health_polled_upstreams",
			Help: "Upstreams with active or passive health checks, whose clusters each poll asks Envoy for.",
		}),
	}
	// Every series exists from the start, so that alerts can be written.
	for _, r := range []string{resultOK, resultError, resultSkipped} {
		m.polls.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.bytes, m.polls, m.upstreams)
	}
	return m
}
