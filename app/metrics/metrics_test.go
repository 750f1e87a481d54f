package metrics_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"moat/app/metrics"
)

// The example alert rules only name metrics Moat exports.
func TestAlertRulesNameExportedMetrics(t *testing.T) {
	m := metrics.New()
	pool, err := pgxpool.New(t.Context(), "postgres://nobody@127.0.0.1:1/none") // connects lazily: never here
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m.RegisterPool(pool)
	exported := m.Names()
	raw, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`moat_[a-z_]+`).FindAllString(string(raw), -1)
	if len(named) == 0 {
		t.Fatal("alerts.yml names no Moat metric")
	}
	for _, n := range named {
		if !slices.Contains(exported, strings.TrimSuffix(n, "_bucket")) {
			t.Errorf("alerts.yml names %s, which Moat does not export", n)
		}
	}
	if !strings.Contains(string(raw), "moat_cross_tenant_repeat_attempts_total[5m]") {
		t.Error("no alert on repeated cross-tenant attempts within five minutes")
	}
}
