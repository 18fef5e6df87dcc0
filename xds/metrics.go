package xds

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are registered on a registry of our own (never the global one),
// so that two Servers in one test binary do not collide.
type metrics struct {
	reg *prometheus.Registry

	pushes      *prometheus.CounterVec
	nacks       *prometheus.CounterVec
	connected   prometheus.Gauge
	translation *prometheus.HistogramVec
	revToPub    prometheus.Histogram
	publishes   *prometheus.CounterVec
	errors      *prometheus.CounterVec
	revision    prometheus.Gauge
}

// latencyBuckets span 100µs to ~13s: an endpoints-only publish is well
// under a millisecond, a full rebuild of a large config takes seconds.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 2, 18)

// newMetrics registers the xDS metrics on reg. With reg nil it creates a
// registry and adds the Go and process collectors too; a caller passing its
// own registry is expected to have registered those already.
func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	m := &metrics{
		reg: reg,
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xds_push_total",
			Help: "xDS responses sent to Envoys, by resource type.",
		}, []string{"type"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xds_nack_total",
			Help: "xDS responses rejected by Envoys (requests carrying error_detail), by resource type.",
		}, []string{"type"}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xds_connected_proxies",
			Help: "Envoy nodes with at least one open ADS stream.",
		}),
		translation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "xds_translation_duration_seconds",
			Help:    "Time to translate a store snapshot into Envoy resources; mode is full or endpoints (only changed upstreams).",
			Buckets: latencyBuckets,
		}, []string{"mode"}),
		revToPub: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "xds_revision_to_publish_seconds",
			Help: "From the moment the publish loop's store watch fired for a revision to the moment the cache held " +
				"the configuration of that revision (one sample per publish, for the oldest revision it covers).",
			Buckets: latencyBuckets,
		}),
		publishes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xds_publish_total",
			Help: "Publish cycles, by mode (full, endpoints, noop).",
		}, []string{"mode"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xds_translation_errors_total",
			Help: "Problems found while publishing, by stage (translate, validate, consistency).",
		}, []string{"stage"}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "xds_published_revision",
			Help: "Store revision whose configuration the xDS cache holds.",
		}),
	}
	reg.MustRegister(m.pushes, m.nacks, m.connected, m.translation, m.revToPub, m.publishes, m.errors, m.revision)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
