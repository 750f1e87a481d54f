// Package config reads Moat's configuration from the environment, once.
package config

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is every setting Moat reads.
type Config struct {
	Addr                 string // public listener
	MetricsAddr          string // Prometheus listener, never the public one
	DatabaseURL          string // the app role; empty means the private development cluster
	MigrationDatabaseURL string // the owner role, which migrates
	Env                  string // "development" relaxes the cookie's Secure flag only
	ClusterDatabase      string // database name in the private cluster
	SessionIdle          time.Duration
	SessionAbsolute      time.Duration
	SignInPerIP          int           // sign-in and sign-up attempts per IP address per window
	SignInPerEmail       int           // sign-in and sign-up attempts per email per window
	SignInWindow         time.Duration // the rate limits' sliding window
	APIRate              int           // API requests a token may make a minute
	CloseGrace           time.Duration // how long a closed organization waits before it is deleted
	TrustedProxies       []string      // addresses or CIDRs of reverse proxies allowed to set X-Forwarded-For
	AuditRetentionMonths int           // whole months of audit trail `moat audit prune` keeps; 0: unset
	BaseURL              string        // the site's public address, for links in emails
	SMTP                 *url.URL      // where mail goes: smtp://user:password@host:port; nil keeps it in the outbox
	MailFrom             string        // the sender of Moat's mail
	Chromium             string        // the headless Chromium that prints invoices to PDF
	Profiling            bool          // serve pprof on the metrics listener (PPROF=1), never on the public one
}

// FromEnv reads the configuration, with defaults for everything.
func FromEnv() (Config, error) {
	c := Config{
		Addr:                 env("ADDR", "127.0.0.1:3000"),
		MetricsAddr:          env("METRICS_ADDR", "127.0.0.1:9091"),
		DatabaseURL:          os.Getenv("DATABASE_URL"),
		MigrationDatabaseURL: os.Getenv("MIGRATION_DATABASE_URL"),
		Env:                  env("APP_ENV", "production"),
		ClusterDatabase:      env("MOAT_DB_NAME", "moat"),
	}
	var err error
	if c.SessionIdle, err = time.ParseDuration(env("SESSION_IDLE_TIMEOUT", "30m")); err != nil {
		return c, fmt.Errorf("SESSION_IDLE_TIMEOUT: %w", err)
	}
	if c.SessionAbsolute, err = time.ParseDuration(env("SESSION_MAX_LIFETIME", "12h")); err != nil {
		return c, fmt.Errorf("SESSION_MAX_LIFETIME: %w", err)
	}
	if c.SignInWindow, err = time.ParseDuration(env("SIGNIN_LIMIT_WINDOW", "15m")); err != nil {
		return c, fmt.Errorf("SIGNIN_LIMIT_WINDOW: %w", err)
	}
	if c.SignInPerIP, err = strconv.Atoi(env("SIGNIN_LIMIT_PER_IP", "100")); err != nil {
		return c, fmt.Errorf("SIGNIN_LIMIT_PER_IP: %w", err)
	}
	if c.SignInPerEmail, err = strconv.Atoi(env("SIGNIN_LIMIT_PER_EMAIL", "10")); err != nil {
		return c, fmt.Errorf("SIGNIN_LIMIT_PER_EMAIL: %w", err)
	}
	if c.APIRate, err = strconv.Atoi(env("API_RATE_PER_MINUTE", "600")); err != nil || c.APIRate < 1 {
		return c, fmt.Errorf("API_RATE_PER_MINUTE: want a whole number above 0")
	}
	if c.CloseGrace, err = time.ParseDuration(env("CLOSE_GRACE_PERIOD", "720h")); err != nil || c.CloseGrace < 7*24*time.Hour {
		return c, fmt.Errorf("CLOSE_GRACE_PERIOD: want a duration of a week or more, such as 720h (30 days)")
	}
	if v := os.Getenv("AUDIT_RETENTION_MONTHS"); v != "" {
		if c.AuditRetentionMonths, err = strconv.Atoi(v); err != nil {
			return c, fmt.Errorf("AUDIT_RETENTION_MONTHS: %w", err)
		}
	}
	if v := os.Getenv("TRUSTED_PROXIES"); v != "" {
		c.TrustedProxies = strings.Split(v, ",")
	}
	c.BaseURL = strings.TrimSuffix(env("BASE_URL", "http://"+c.Addr), "/")
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("BASE_URL %q: want the site's address, such as https://moat.example", c.BaseURL)
	}
	if v := os.Getenv("SMTP_URL"); v != "" {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
			return c, fmt.Errorf("SMTP_URL: want smtp://user:password@host:port")
		}
		c.SMTP = u
	}
	c.Chromium = env("CHROMIUM", "/usr/bin/chromium")
	c.Profiling = os.Getenv("PPROF") == "1"
	c.MailFrom = env("MAIL_FROM", "Moat <no-reply@"+hostOf(c.BaseURL)+">")
	return c, nil
}

func hostOf(base string) string {
	u, _ := url.Parse(base)
	return u.Hostname()
}

// Development reports whether Moat runs for a developer (APP_ENV=development).
func (c Config) Development() bool { return c.Env == "development" }

func env(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
