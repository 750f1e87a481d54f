package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"moat/app/cluster"
	"moat/app/seed"
	"moat/migrations"
)

// citusRun measures the list and a customer page on the private cluster (one node) and on the
// Citus coordinator at port with its two workers, over the same synthetic data, taking turns
// for rounds rounds, and prints throughput and the machine's CPU per request beside each; then
// it times an import of importRows customers on each. On one two-core machine the three nodes
// share the cores: the ratio is the cost of distribution, not what more machines buy.
func citusRun(ctx context.Context, port int, plan seed.Plan, conns int, dur time.Duration, rounds, importRows int) {
	const db = "moat_bench_citus"
	dir, err := cluster.DefaultDir()
	check(err)
	one, err := cluster.Ensure(ctx, dir)
	check(err)
	// Made afresh on both sides, so that an earlier run's import is in neither.
	check(one.DropDatabase(ctx, db))
	check(one.CreateDatabase(ctx, db, ""))
	check(migrations.Up(ctx, one.URL(cluster.OwnerRole, db)))
	log.Printf("seeding the one-node database")
	check(seed.Load(ctx, one.URL(cluster.OwnerRole, db), plan, io.Discard))

	// On Citus the same data goes into the coordinator alone, then is distributed in place, as
	// an operator takes one node to many: the workers' databases, the extension, moat migrate.
	citus, err := cluster.Citus(ctx, port)
	check(err)
	check(citus.DropDatabase(ctx, db))
	coordinator := citus.Coordinator()
	check(coordinator.CreateDatabase(ctx, db, ""))
	check(migrations.Up(ctx, coordinator.URL(cluster.OwnerRole, db)))
	log.Printf("seeding the Citus coordinator")
	check(seed.Load(ctx, coordinator.URL(cluster.OwnerRole, db), plan, io.Discard))
	start := time.Now()
	check(citus.CreateDatabase(ctx, db, ""))
	check(migrations.Up(ctx, citus.URL(cluster.OwnerRole, db)))
	check(citus.AfterMigrate(ctx, db))
	distributed := time.Since(start)
	for _, c := range []*cluster.Cluster{one, citus} {
		psql(c.URL("postgres", db), "VACUUM ANALYZE")
	}

	type side struct {
		name string
		env  []string
		rate map[string][]float64
		cpu  map[string][]float64
	}
	sides := []*side{
		{name: "one node", rate: map[string][]float64{}, cpu: map[string][]float64{}},
		{name: "Citus, 3 nodes", env: []string{"MOAT_CITUS_PORT=" + strconv.Itoa(port)}, rate: map[string][]float64{}, cpu: map[string][]float64{}},
	}
	pages := []string{"list page", "customer page"}
	for round := 0; round < rounds; round++ {
		for _, s := range sides {
			addr := "127.0.0.1:3210"
			srv := startServer(addr, db, s.env...)
			base := "http://" + addr
			cookie, _ := signIn(base, seed.OwnerEmail(1))
			id := regexp.MustCompile(`customer-row-([0-9a-f-]{36})`).FindStringSubmatch(get(base+"/customers", cookie))[1]
			wrk("warm-up", base+"/customers", cookie, "", conns, 3*time.Second)
			for _, page := range pages {
				u := base + "/customers"
				if page == "customer page" {
					u += "/" + id
				}
				before := busy()
				r := wrk(s.name+" "+page, u, cookie, "", conns, dur)
				if r.Errors > 0 {
					fatalf("bench: %s %s: %d errors", s.name, page, r.Errors)
				}
				s.rate[page] = append(s.rate[page], r.ReqPerS)
				s.cpu[page] = append(s.cpu[page], 1000*(busy()-before)/(r.ReqPerS*dur.Seconds()))
			}
			check(srv.Process.Kill())
			srv.Wait() //nolint:errcheck // killed
			running = nil
		}
	}

	// An import, once on each side: on Citus the customers' counter and duplicate cleanup are
	// row triggers, not statement triggers, and every row's statements go through the
	// coordinator.
	imported := make([]float64, len(sides))
	for i, s := range sides {
		if importRows == 0 {
			break
		}
		addr := "127.0.0.1:3210"
		srv := startServer(addr, db, s.env...)
		base := "http://" + addr
		cookie, csrf := signIn(base, seed.OwnerEmail(1))
		rep := report{Figures: map[string]float64{}}
		timeImport(&rep, base, cookie, string(csrf), importRows)
		imported[i] = rep.Figures["import: rows imported a second"]
		check(srv.Process.Kill())
		srv.Wait() //nolint:errcheck // killed
		running = nil
	}

	fmt.Printf("\nCitus: %d tenants x %d customers, %d invoices each, distributed in place in %s; %d rounds of %s, %d connections\n",
		plan.Tenants, plan.Customers, plan.Invoices, distributed.Round(time.Second), rounds, dur, conns)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "page\tone node req/s\tCPU ms/req\tCitus req/s\tCPU ms/req\tCitus / one node\t")
	for _, page := range pages {
		one, citus := sides[0], sides[1]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%.2f\t\n", page, figures(one.rate[page], "%.0f"), figures(one.cpu[page], "%.2f"),
			figures(citus.rate[page], "%.0f"), figures(citus.cpu[page], "%.2f"), mean(citus.rate[page])/mean(one.rate[page]))
	}
	if importRows > 0 {
		fmt.Fprintf(w, "import of %d customers, rows/s\t%.0f\t\t%.0f\t\t%.2f\t\n", importRows, imported[0], imported[1], imported[1]/imported[0])
	}
	w.Flush()
	fmt.Println("CPU per request is the whole machine's (app, every PostgreSQL node, wrk) over the run.")
}

// busy is the machine's CPU time so far, in seconds, from /proc/stat.
func busy() float64 {
	raw, err := os.ReadFile("/proc/stat")
	check(err)
	fields := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])[1:]
	var total float64
	for i, f := range fields {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseFloat(f, 64)
		total += n
	}
	return total / 100 // USER_HZ
}

func figures(xs []float64, format string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, " / ")
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
