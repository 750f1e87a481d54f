// Package metrics holds Moat's Prometheus metrics. They are served on their own listener
// (METRICS_ADDR), never the public one, and no metric is labelled by tenant or user: operators
// see volumes and routes; the tenant's own trail holds the who.
package metrics

import (
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the app's collectors, on a registry of their own.
type Metrics struct {
	Registry *prometheus.Registry
	own      []prometheus.Collector // Moat's own collectors, for Names

	// Requests counts finished requests by route pattern, method and status.
	Requests *prometheus.CounterVec
	// Duration observes request durations in seconds by route pattern and method.
	Duration *prometheus.HistogramVec
	// CrossTenant counts requests for an id that exists in another tenant, by route pattern.
	CrossTenant *prometheus.CounterVec
	// RateLimited counts sign-in and sign-up attempts, and API calls, refused by a rate limit, by
	// route pattern (the API's prefix for its calls).
	RateLimited *prometheus.CounterVec
	// APIRefused counts API requests refused for their token, by reason: unknown, revoked,
	// expired, deactivated, or scope (beyond the token's scopes or its person's role).
	APIRefused *prometheus.CounterVec
	// SignInFailures counts refused sign-ins: wrong password, unknown email or deactivated.
	SignInFailures prometheus.Counter
	// CrossTenantRepeats counts cross-tenant attempts that were a user's third or later within
	// five minutes: the signal the example alert fires on.
	CrossTenantRepeats prometheus.Counter
	// CrossTenantDropped counts misses on ids that were never probed because the probe queue
	// was full: a flood of misses, itself worth a look.
	CrossTenantDropped prometheus.Counter
}

// New returns the metrics, with Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_http_requests_total", Help: "Finished HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "moat_http_request_duration_seconds", Help: "HTTP request durations by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		CrossTenant: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_cross_tenant_attempts_total", Help: "Requests for a record id that exists in another tenant, by route pattern.",
		}, []string{"route"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_rate_limited_total", Help: "Requests refused by a rate limit, by route pattern.",
		}, []string{"route"}),
		APIRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moat_api_refused_total", Help: "API requests refused for their token, by reason.",
		}, []string{"reason"}),
		SignInFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moat_sign_in_failures_total", Help: "Refused sign-ins: wrong password, unknown email or deactivated account.",
		}),
		CrossTenantRepeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moat_cross_tenant_repeat_attempts_total",
			Help: "Cross-tenant attempts that were at least the third by the same user within five minutes.",
		}),
		CrossTenantDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moat_cross_tenant_probes_dropped_total",
			Help: "Misses on record ids left unprobed because the probe queue was full.",
		}),
	}
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.register(m.Requests, m.Duration, m.CrossTenant, m.CrossTenantRepeats, m.CrossTenantDropped, m.RateLimited, m.APIRefused, m.SignInFailures)
	return m
}

func (m *Metrics) register(cs ...prometheus.Collector) {
	m.Registry.MustRegister(cs...)
	m.own = append(m.own, cs...)
}

// Names lists the names of Moat's own metrics.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range m.own {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for d := range ch {
		// A Desc prints as Desc{fqName: "name", ...}; it has no accessor for the name.
		s := d.String()
		if i := strings.Index(s, `fqName: "`); i >= 0 {
			rest := s[i+len(`fqName: "`):]
			names = append(names, rest[:strings.IndexByte(rest, '"')])
		}
	}
	return names
}

// RegisterPool exports the database pool's use: connections open, in use and idle, the
// maximum, and how often a request had to wait for a connection.
func (m *Metrics) RegisterPool(pool *pgxpool.Pool) {
	gauge := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(pool.Stat()) })
	}
	counter := func(name, help string, f func(*pgxpool.Stat) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(pool.Stat()) })
	}
	m.register(
		gauge("moat_db_pool_connections", "Open database connections.", func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
		gauge("moat_db_pool_connections_in_use", "Database connections in use.", func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
		gauge("moat_db_pool_connections_idle", "Idle database connections.", func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
		gauge("moat_db_pool_connections_max", "The pool's maximum connections.", func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
		counter("moat_db_pool_waits_total", "Connection requests that had to wait for a connection.", func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
		counter("moat_db_pool_wait_seconds_total", "Time spent waiting for a connection.", func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
	)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
