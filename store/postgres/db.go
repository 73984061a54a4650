// Package postgres is advocate's PostgreSQL store: the implementation of
// bot.Store (pgx v5, pgxpool) that several advocate instances share, with
// embedded migrations.
//
// Every Update is a SERIALIZABLE transaction, retried when PostgreSQL
// reports a serialization failure or a deadlock, so the core's
// read-then-write decisions (is this event new, has this customer an open
// case) hold across instances as they do on SQLite's single writer.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/advocate-bot/advocate/bot"
)

// Options configures Open.
type Options struct {
	// Now is the clock every transaction reads; tests replace it. Default time.Now.
	Now func() time.Time
	// Logger receives the store's own messages (migrations). Default: discard.
	Logger *slog.Logger
}

// DB is an open PostgreSQL store. It implements bot.Store and is safe for
// concurrent use, by several processes too.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time
	log  *slog.Logger
	// health remembers the latest storage failure of a write, for Probe.
	health health
}

var _ bot.Store = (*DB)(nil)

// maxRetries bounds how often Update runs fn again after a serialization
// failure before it gives up.
const maxRetries = 20

// ParseURL checks a connection URL (postgres://user:pass@host:port/db?…) or
// keyword/value DSN without connecting, for check-config.
func ParseURL(url string) error {
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Open connects to the database at url and brings its schema up to date. It
// refuses a database whose schema is newer than this binary knows.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db := &DB{now: opts.Now, log: opts.Logger}
	if db.now == nil {
		db.now = time.Now
	}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	db.log = db.log.With("component", "store")
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := db.pool.Ping(ctx); err != nil {
		db.pool.Close()
		return nil, fmt.Errorf("store: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if err := db.migrate(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool's connections.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Update runs fn in a SERIALIZABLE transaction and commits when fn returns
// nil; on a serialization failure or deadlock it runs fn again in a new
// transaction. fn's own error is returned unwrapped, after the rollback.
func (db *DB) Update(ctx context.Context, fn func(bot.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.run(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, fn)
		db.health.observe(err, db.now())
		if !retryable(err) || attempt >= maxRetries || ctx.Err() != nil {
			return err
		}
	}
}

// View runs fn in a read-only REPEATABLE READ transaction: one snapshot, and
// any write fails.
func (db *DB) View(ctx context.Context, fn func(bot.Tx) error) error {
	return db.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func (db *DB) run(ctx context.Context, opts pgx.TxOptions, fn func(bot.Tx) error) error {
	ptx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	t := &tx{tx: ptx, now: db.now().UTC().Truncate(time.Millisecond)}
	if err := fn(t); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// retryable reports whether err is a serialization failure or a deadlock:
// the transaction lost a race and may simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// CopyIn runs fn in one READ COMMITTED transaction on a connection of its
// own, for bulk loads (advocate migrate-store): it commits when fn returns
// nil, else nothing fn wrote is kept.
func (db *DB) CopyIn(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		return fn(ctx, tx)
	})
}
