// Package app is the Moat program: its commands and how the parts are wired together.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"moat/app/api"
	"moat/app/background"
	"moat/app/cluster"
	"moat/app/config"
	"moat/app/demo"
	"moat/app/jobs"
	"moat/app/mail"
	"moat/app/metrics"
	"moat/app/middleware"
	"moat/app/pdf"
	"moat/app/posture"
	"moat/app/seed"
	"moat/app/server"
	"moat/app/store"
	"moat/app/workers"
	"moat/migrations"
)

const usage = `usage: moat <command>

commands:
  serve     serve the web app on $ADDR and metrics on $METRICS_ADDR
  migrate   apply the schema migrations as the owner role
  audit prune
            drop the audit trail's monthly partitions older than $AUDIT_RETENTION_MONTHS
  check     check the database posture (row level security, the app role's rights); exit 1 on
            any problem. serve runs the same check and refuses to start on a problem
  demo      load the demo tenants Acme and Globex unless present (development only)
  seed TENANTS CUSTOMERS [WHALE [INVOICES [PRODUCTS]]]
            load synthetic tenants with CUSTOMERS customers each, a WHALE-sized tenant,
            INVOICES invoices per customer (default 10) and PRODUCTS products per tenant with
            their stock ledger (default 1000), through COPY (development only; re-running
            skips tenants, and their invoices and products, that exist)
  db start|stop|reset
            manage the private PostgreSQL cluster used when DATABASE_URL is unset
  db fresh  drop the database $MOAT_DB_NAME in the private cluster; the next command
            re-creates it empty
  openapi [3.0]
            print the API's OpenAPI document (3.1, or its 3.0 form), as /api/v1/openapi.json
            serves it`

// Run runs the command named by args.
func Run(ctx context.Context, args []string, cfg config.Config, log *slog.Logger) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, log)
	case "migrate":
		local := cfg.DatabaseURL == ""
		if err := useCluster(ctx, &cfg, log); err != nil {
			return err
		}
		if err := migrations.Up(ctx, cfg.MigrationDatabaseURL); err != nil || !local {
			return err
		}
		c, err := cluster.Local(ctx)
		if err != nil {
			return err
		}
		return c.AfterMigrate(ctx, cfg.ClusterDatabase)
	case "check":
		if err := useCluster(ctx, &cfg, log); err != nil {
			return err
		}
		db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, MaxConns: 2})
		if err != nil {
			return err
		}
		defer db.Close()
		if err := checkPosture(ctx, db); err != nil {
			return err
		}
		fmt.Println("posture ok: row level security forced on every tenant table; the app role cannot get around it")
		return nil
	case "audit":
		if len(args) != 2 || args[1] != "prune" {
			return errors.New(usage)
		}
		if err := useCluster(ctx, &cfg, log); err != nil {
			return err
		}
		if cfg.AuditRetentionMonths < 1 {
			return errors.New("audit prune: set AUDIT_RETENTION_MONTHS to the number of whole months to keep")
		}
		dropped, err := migrations.PruneAudit(ctx, cfg.MigrationDatabaseURL, cfg.AuditRetentionMonths)
		for _, name := range dropped {
			fmt.Println("dropped", name)
		}
		return err
	case "seed":
		if !cfg.Development() {
			return errors.New("synthetic data is for development only: set APP_ENV=development")
		}
		plan, err := seedPlan(args[1:])
		if err != nil {
			return err
		}
		if err := useCluster(ctx, &cfg, log); err != nil {
			return err
		}
		return seed.Load(ctx, cfg.MigrationDatabaseURL, plan, os.Stderr)
	case "demo":
		if !cfg.Development() {
			return errors.New("demo data is for development only: set APP_ENV=development")
		}
		if err := useCluster(ctx, &cfg, log); err != nil {
			return err
		}
		db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, MaxConns: 4})
		if err != nil {
			return err
		}
		defer db.Close()
		return demo.Load(ctx, db.Gorm, os.Stdout)
	case "db":
		return clusterCommand(ctx, cfg, args[1:])
	case "openapi":
		spec := api.Spec()
		if len(args) > 1 && args[1] == "3.0" {
			spec = api.Spec()
			raw, err := spec.Downgrade()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(os.Stdout, "%s\n", raw)
			return err
		}
		raw, err := json.MarshalIndent(spec, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(os.Stdout, "%s\n", raw)
		return err
	}
	return errors.New(usage)
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if cfg.SMTP == nil && !cfg.Development() {
		return errors.New("refusing to serve: set SMTP_URL (smtp://user:password@host:port): sign-ups, invitations and password resets send mail")
	}
	if err := useCluster(ctx, &cfg, log); err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, MaxConns: 20})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkPosture(ctx, db); err != nil {
		return err
	}
	m := metrics.New()
	m.RegisterPool(db.Pool)
	printer := pdf.New(cfg.Chromium)
	defer printer.Close()
	after := background.New(1024, 5*time.Second)
	defer after.Close() // after the server has stopped: what the last requests left is done
	w, periodic := workers.All(db.Gorm)
	queue, err := jobs.New(db.Pool, log, w, periodic...)
	if err != nil {
		return err
	}
	web := server.New(db, server.Options{
		Jobs:            queue,
		After:           after,
		Printer:         printer,
		Log:             log,
		Metrics:         m,
		Secure:          !cfg.Development(),
		SessionIdle:     cfg.SessionIdle,
		SessionAbsolute: cfg.SessionAbsolute,
		Limits:          middleware.Limits{PerIP: cfg.SignInPerIP, PerEmail: cfg.SignInPerEmail, Window: cfg.SignInWindow},
		TrustedProxies:  cfg.TrustedProxies,
		APIRate:         cfg.APIRate,
		CloseGrace:      cfg.CloseGrace,
		BaseURL:         cfg.BaseURL,
		Outbox:          cfg.Development(),
	})

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if cfg.Profiling {
		// Profiles name code and can stall the process: only on the private listener, on request.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	metricsSrv := &http.Server{Addr: cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := metricsSrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if cfg.SMTP != nil {
		sender := &mail.Sender{Pool: db.Pool, SMTP: cfg.SMTP, From: cfg.MailFrom, Every: 2 * time.Second, Log: log}
		go sender.Run(ctx)
	}
	if err := queue.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- web.Listen(cfg.Addr) }()
	log.Info("serving", "addr", "http://"+cfg.Addr, "metrics", "http://"+cfg.MetricsAddr+"/metrics", "env", cfg.Env)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	_ = metricsSrv.Shutdown(context.Background())
	err = web.ShutdownWithTimeout(10 * time.Second)
	// Jobs still running stop at their next transaction and are marked failed; an import's
	// page then offers to start it again or undo what it did.
	stopping, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, queue.Stop(stopping))
}

func seedPlan(args []string) (seed.Plan, error) {
	n := [5]int{2: 0, 3: 10, 4: 1000}
	if len(args) < 2 || len(args) > 5 {
		return seed.Plan{}, errors.New(usage)
	}
	for i, a := range args {
		v, err := strconv.Atoi(a)
		if err != nil || v < 0 {
			return seed.Plan{}, fmt.Errorf("seed: %q is not a count", a)
		}
		n[i] = v
	}
	return seed.Plan{Tenants: n[0], Customers: n[1], Whale: n[2], Invoices: n[3], Products: n[4]}, nil
}

// checkPosture returns an error naming every posture problem, or nil.
func checkPosture(ctx context.Context, db *store.DB) error {
	problems, err := posture.Check(ctx, db.Pool)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	ledger, err := posture.Ledger(ctx, db.Pool)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	problems = append(problems, ledger...)
	if len(problems) > 0 {
		return fmt.Errorf("refusing to serve: the database posture is unsafe:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return nil
}

// useCluster points cfg at the private cluster when DATABASE_URL is unset, starting the cluster
// and creating the database if needed.
func useCluster(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	if cfg.DatabaseURL != "" {
		return nil
	}
	c, err := cluster.Local(ctx)
	if err != nil {
		return err
	}
	if err := c.CreateDatabase(ctx, cfg.ClusterDatabase, ""); err != nil {
		return err
	}
	cfg.DatabaseURL = c.URL(cluster.AppRole, cfg.ClusterDatabase)
	cfg.MigrationDatabaseURL = c.URL(cluster.OwnerRole, cfg.ClusterDatabase)
	log.Debug("using a cluster on this machine", "port", c.Port, "database", cfg.ClusterDatabase)
	return nil
}

func clusterCommand(ctx context.Context, cfg config.Config, args []string) error {
	dir, err := cluster.DefaultDir()
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return errors.New(usage)
	}
	switch args[0] {
	case "start":
		c, err := cluster.Ensure(ctx, dir)
		if err != nil {
			return err
		}
		fmt.Printf("PostgreSQL runs on 127.0.0.1:%d (data in %s)\n", c.Port, dir)
		return nil
	case "stop":
		return cluster.Stop(ctx, dir)
	case "reset":
		if err := cluster.Reset(ctx, dir); err != nil {
			return err
		}
		_, err := cluster.Ensure(ctx, dir)
		return err
	case "fresh":
		c, err := cluster.Local(ctx)
		if err != nil {
			return err
		}
		return c.DropDatabase(ctx, cfg.ClusterDatabase)
	}
	return errors.New(usage)
}
