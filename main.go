// Command moat is a multi-tenant customer-management web app in which no tenant can see, change
// or detect another tenant's data.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"moat/app"
	"moat/app/config"
)

func main() {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := config.FromEnv()
	if err == nil {
		err = app.Run(context.Background(), os.Args[1:], cfg, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "moat:", err)
		os.Exit(1)
	}
}
