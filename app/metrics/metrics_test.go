package metrics_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"moat/app/metrics"
)

// The example alert rules only name metrics Moat exports.
func TestAlertRulesNameExportedMetrics(t *testing.T) {
	m := metrics.New()
	exported := map[string]bool{}
	ch := make(chan *prometheus.Desc, 16)
	go func() {
		for _, c := range []prometheus.Collector{m.Requests, m.Duration, m.CrossTenant, m.CrossTenantRepeats} {
			c.Describe(ch)
		}
		close(ch)
	}()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		exported[fqName.FindStringSubmatch(d.String())[1]] = true
	}
	raw, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`moat_[a-z_]+`).FindAllString(string(raw), -1)
	if len(named) == 0 {
		t.Fatal("alerts.yml names no Moat metric")
	}
	for _, n := range named {
		if !exported[strings.TrimSuffix(n, "_bucket")] {
			t.Errorf("alerts.yml names %s, which Moat does not export", n)
		}
	}
	if !strings.Contains(string(raw), "moat_cross_tenant_repeat_attempts_total[5m]") {
		t.Error("no alert on repeated cross-tenant attempts within five minutes")
	}
}
