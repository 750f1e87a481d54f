// Package config reads Moat's configuration from the environment, once.
package config

import (
	"fmt"
	"os"
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
	return c, nil
}

// Development reports whether Moat runs for a developer (APP_ENV=development).
func (c Config) Development() bool { return c.Env == "development" }

func env(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
