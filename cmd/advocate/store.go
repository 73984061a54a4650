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

// deadLetterStore lists the outbox actions the relay gave up on and puts
// them back in the queue, for advocate outbox.
type deadLetterStore interface {
	// DeadLetters lists the dead actions f selects, newest first, at most
	// limit (<= 0: all), and the total matching.
	DeadLetters(ctx context.Context, f bot.DeadFilter, limit int) ([]bot.DeadLetter, int, error)
	// RetryDead puts the dead actions ids back in the queue, refusing those
	// that may not go out any more; the results say which and why.
	RetryDead(ctx context.Context, ids ...int64) ([]bot.DeadLetter, error)
	// RetryAllDead is RetryDead for every dead action f selects.
	RetryAllDead(ctx context.Context, f bot.DeadFilter) ([]bot.DeadLetter, error)
}

// appStore is the database as the binary uses it: the core's contract, the
// dashboard's reads and the tool commands' needs.
type appStore interface {
	bot.Store
	web.Store
	exportStore
	deadLetterStore
}

// openDB opens the configured database.
func openDB(ctx context.Context, f *config.File, log *slog.Logger) (appStore, error) {
	return sqlite.Open(ctx, f.Store.Path, sqlite.Options{Logger: log})
}
