package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/config"
	"github.com/advocate-bot/advocate/store/postgres"
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

// outboxListener is a store several instances share that tells when any of
// them has queued or requeued outbox actions or set a timer (PostgreSQL's
// LISTEN/NOTIFY), so that the relay holding the destination delivers them at
// once, and an idle instance reads the store only when told (bot.Options.StoreWakes).
type outboxListener interface {
	Listen(ctx context.Context, wake func()) error
}

// appStore is the database as the binary uses it: the core's contract, the
// dashboard's reads and sign-ins, and the export.
type appStore interface {
	bot.Store
	web.Store
	dashboardStore
	exportStore
}

// openDB opens the configured database. A running bot opens a SQLite file
// exclusive: one file serves one bot, and a second fails at once (the tool
// commands open it beside a running bot). A PostgreSQL database serves any
// number of instances.
func openDB(ctx context.Context, f *config.File, log *slog.Logger, exclusive bool) (appStore, error) {
	if f.Store.Driver == "postgres" {
		return postgres.Open(ctx, f.Store.URL, postgres.Options{Logger: log})
	}
	return sqlite.Open(ctx, f.Store.Path, sqlite.Options{Logger: log, Exclusive: exclusive})
}

// storeName names the configured database for messages: the SQLite file, or
// the PostgreSQL server and database without the credentials.
func storeName(f *config.File) string {
	if f.Store.Driver != "postgres" {
		return f.Store.Path
	}
	c, err := pgconn.ParseConfig(f.Store.URL)
	if err != nil {
		return "postgres (unreadable store.url)"
	}
	return fmt.Sprintf("postgres %s:%d/%s", c.Host, c.Port, c.Database)
}
