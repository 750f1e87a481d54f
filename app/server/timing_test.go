package server_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkSecretTimings times requests on either side of a secret, in pairs whose order
// alternates, and reports the mean difference with its 95% noise band: an address Moat knows
// against one it does not, another tenant's id against an id that never existed. The promise is
// a difference inside the band. (make bench prints it; no test asserts a timing.)
func BenchmarkSecretTimings(b *testing.B) {
	e := newEnv(b)
	a := e.signUp("acme")
	other := e.signUp("globex")
	oc := e.client()
	oc.signIn(other.Email, password)
	foreign := oc.createCustomer("Globex Secret")
	ac := e.client()
	ac.signIn(a.Email, password)
	signIn := func(email string) func() {
		c := e.client()
		c.do("GET", "/login", "")
		return func() { c.do("POST", "/login", c.form("email", email, "password", "not the password")) }
	}
	cases := []struct {
		name          string
		known, absent func()
	}{
		{"sign-in/known-vs-unknown-email", signIn(other.Email), signIn("nobody@example.net")},
		{"customer/foreign-vs-unknown-id",
			func() { ac.do("GET", "/customers/"+foreign, "") },
			func() { ac.do("GET", "/customers/"+uuid.NewString(), "") }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if b.N < 100 {
				b.Skip("too few pairs to tell a difference from noise: run with -benchtime 300x, as make bench does")
			}
			var diffs []float64
			var total time.Duration
			for i := 0; i < b.N; i++ {
				first, second := c.known, c.absent
				if i%2 == 1 {
					first, second = second, first
				}
				t0 := time.Now()
				first()
				t1 := time.Now()
				second()
				t2 := time.Now()
				d := t1.Sub(t0) - t2.Sub(t1) // first minus second
				if i%2 == 1 {
					d = -d
				}
				diffs = append(diffs, float64(d.Microseconds()))
				total += t2.Sub(t0)
				e.after.Wait() // the probe's work after the response is not the next pair's
			}
			mean, se := meanAndError(diffs)
			b.ReportMetric(mean, "µs-known-minus-absent")
			b.ReportMetric(1.96*se, "µs-noise95")
			b.ReportMetric(float64(total.Microseconds())/float64(2*b.N), "µs/request")
		})
	}
}

func meanAndError(xs []float64) (mean, se float64) {
	if len(xs) < 2 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/float64(len(xs)-1)) / math.Sqrt(float64(len(xs)))
}
