// Package metrics holds Moat's Prometheus metrics. They are served on their own listener
// (METRICS_ADDR), never the public one, and no metric is labelled by tenant or user: operators
// see volumes and routes; the tenant's own trail holds the who.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the app's collectors, on a registry of their own.
type Metrics struct {
	Registry *prometheus.Registry

	// Requests counts finished requests by route pattern, method and status.
	Requests *prometheus.CounterVec
	// Duration observes request durations in seconds by route pattern and method.
	Duration *prometheus.HistogramVec
	// CrossTenant counts requests for an id that exists in another tenant, by route pattern.
	CrossTenant *prometheus.CounterVec
	// RateLimited counts sign-in and sign-up attempts refused by a rate limit, by route pattern.
	RateLimited *prometheus.CounterVec
	// SignInFailures counts refused sign-ins: wrong password, unknown email or deactivated.
	SignInFailures prometheus.Counter
	// CrossTenantRepeats counts cross-tenant attempts that were a user's third or later within
	// five minutes: the signal the example alert fires on.
	CrossTenantRepeats prometheus.Counter
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
		SignInFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moat_sign_in_failures_total", Help: "Refused sign-ins: wrong password, unknown email or deactivated account.",
		}),
		CrossTenantRepeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "moat_cross_tenant_repeat_attempts_total",
			Help: "Cross-tenant attempts that were at least the third by the same user within five minutes.",
		}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Requests, m.Duration, m.CrossTenant, m.CrossTenantRepeats, m.RateLimited, m.SignInFailures,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
