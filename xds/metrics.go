package xds

import (
	"net/http"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are registered on a registry of our own (never the global one),
// so that two Servers in one test binary do not collide. Names follow
// Prometheus conventions (application prefix, unit suffix), and every
// labelled series exists from the start at 0, so that an alert such as
// increase(switchboard_xds_nacks_total[5m]) > 0 works before the first NACK.
type metrics struct {
	reg *prometheus.Registry

	responses   *prometheus.CounterVec
	nacks       *prometheus.CounterVec
	connected   prometheus.Gauge
	quarantined prometheus.Gauge
	translation *prometheus.HistogramVec
	commitToPub prometheus.Histogram
	propagation *prometheus.HistogramVec
	publishes   *prometheus.CounterVec
	errors      *prometheus.CounterVec
	revision    prometheus.Gauge
}

// latencyBuckets span 50µs to ~10s in steps of 1.6×: the control plane's
// share of a change is aimed at ≤ 2 ms, a full rebuild of a large config
// takes seconds, and the steps are fine enough for a p99 near either.
var latencyBuckets = prometheus.ExponentialBuckets(0.00005, 1.6, 27)

// servedTypes are the type URLs the cache serves, for the type label.
var servedTypes = []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType, resourcev3.SecretType}

// publishStages are the label values of switchboard_xds_publish_errors_total.
var publishStages = []string{"translate", "validate", "consistency"}

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
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_xds_responses_total",
			Help: "xDS responses sent to Envoys, by resource type.",
		}, []string{"type"}),
		nacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_xds_nacks_total",
			Help: "xDS responses rejected by Envoys (requests carrying error_detail), by resource type.",
		}, []string{"type"}),
		quarantined: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_xds_quarantined_entities",
			Help: "Entities left out of the configuration after an Envoy rejected a version that changed them.",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_xds_connected_proxies",
			Help: "Envoy nodes with at least one open ADS stream.",
		}),
		translation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_xds_translation_duration_seconds",
			Help:    "Time to translate a store snapshot into Envoy resources; mode is full, incremental (what the change feed names) or endpoints (only changed upstreams).",
			Buckets: latencyBuckets,
		}, []string{"mode"}),
		commitToPub: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "switchboard_xds_commit_to_cache_seconds",
			Help: "From the moment the publish loop saw a store commit to the moment the xDS cache held its " +
				"configuration: the control plane's share of a change (one sample per publish, for the oldest commit it covers).",
			Buckets: latencyBuckets,
		}),
		propagation: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchboard_xds_propagation_seconds",
			Help: "From a store commit to an Envoy's ACK of a response carrying it, per node (one sample per node, " +
				"resource type and newer revision ACKed).",
			Buckets: latencyBuckets,
		}, []string{"node"}),
		publishes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_xds_publishes_total",
			Help: "Publish cycles, by mode (full, incremental, endpoints, noop).",
		}, []string{"mode"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_xds_publish_errors_total",
			Help: "Problems found while publishing, by stage (translate, validate, consistency).",
		}, []string{"stage"}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_xds_published_revision",
			Help: "Store revision whose configuration the xDS cache holds.",
		}),
	}
	for _, t := range servedTypes {
		m.responses.WithLabelValues(typeName(t))
		m.nacks.WithLabelValues(typeName(t))
	}
	for _, mode := range []string{modeFull, modeIncremental, modeEndpoints} {
		m.translation.WithLabelValues(mode)
	}
	for _, mode := range []string{modeFull, modeIncremental, modeEndpoints, modeNoop} {
		m.publishes.WithLabelValues(mode)
	}
	for _, s := range publishStages {
		m.errors.WithLabelValues(s)
	}
	reg.MustRegister(m.responses, m.nacks, m.connected, m.quarantined, m.translation, m.commitToPub, m.propagation, m.publishes, m.errors, m.revision)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
