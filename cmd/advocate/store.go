package main

import (
	"context"
	"log/slog"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/config"
	"github.com/advocate-bot/advocate/store/sqlite"
	"github.com/advocate-bot/advocate/web"
)

// exportStore streams the data for advocate export.
type exportStore interface {
	// ExportCases calls fn with each case q selects, oldest first.
	ExportCases(ctx context.Context, q bot.FunnelQuery, fn func(bot.Case) error) error
	// ExportEvents calls fn with each funnel event of the cases q selects.
	ExportEvents(ctx context.Context, q bot.FunnelQuery, fn func(bot.CaseEvent) error) error
}

// dashboardStore keeps the dashboard's sign-ins and the key that signs them.
type dashboardStore interface {
	web.Sessions
	// SessionKey returns the random key kept in the database for the dashboard.
	SessionKey(ctx context.Context) ([]byte, error)
}

// appStore is the database as the binary uses it: the core's contract, the
// dashboard's reads and sign-ins, and the export.
type appStore interface {
	bot.Store
	web.Store
	dashboardStore
	exportStore
}

// openDB opens the configured database. A running bot opens it exclusive:
// one SQLite file serves one bot, and a second fails at once (the tool
// commands open it beside a running bot).
func openDB(ctx context.Context, f *config.File, log *slog.Logger, exclusive bool) (appStore, error) {
	return sqlite.Open(ctx, f.Store.Path, sqlite.Options{Logger: log, Exclusive: exclusive})
}
