// Package postgres is advocate's PostgreSQL store: the implementation of
// bot.Store (pgx v5, pgxpool) that several advocate instances share, with
// embedded migrations.
//
// The core's read-then-write decisions must hold across instances as they do
// on SQLite's single writer. An Update is a READ COMMITTED transaction in
// which the core's reads lock what it decides on: a case read in an Update
// is locked (FOR UPDATE) until the commit, so two instances acting on one
// case take turns and neither overwrites the other's change; looking up a
// customer's active case or a person's record first takes a transaction
// lock on that person (pg_advisory_xact_lock), so two instances do not both
// open a case for one customer or both prompt them; an event ID is deduped
// by the unique index, which makes a concurrent duplicate wait for the
// first. A transaction that meets a deadlock or serialization failure runs
// again. (SERIALIZABLE was tried first: its page-level read locks failed
// most concurrent events under load and the retries cut throughput to a
// third.)
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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

// defaultConns is the pool size unless the URL sets pool_max_conns.
const defaultConns = 16

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
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (4 on two cores) leaves concurrent events queued
		// for a connection while PostgreSQL could flush their commits together.
		cfg.MaxConns = defaultConns
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

// Update runs fn in a READ COMMITTED transaction whose reads lock what they
// read (see the package comment) and commits when fn returns nil; on a
// serialization failure or deadlock it runs fn again in a new transaction.
// fn's own error is returned unwrapped, after the rollback.
func (db *DB) Update(ctx context.Context, fn func(bot.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
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
	t := &tx{tx: ptx, now: db.now().UTC().Truncate(time.Millisecond), write: opts.AccessMode != pgx.ReadOnly}
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
// own, for bulk loads (advocate migrate-store), then builds the dashboard's
// roll-ups from what fn wrote: it commits when both succeed, else nothing fn
// wrote is kept. The roll-ups' marking triggers are off while fn runs (they
// would mark every day of every row loaded), for that transaction only.
func (db *DB) CopyIn(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		for _, t := range []string{"cases", "ratings", "offers"} {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+t+` DISABLE TRIGGER USER`); err != nil {
				return fmt.Errorf("store: bulk load: %w", err)
			}
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		for _, t := range []string{"cases", "ratings", "offers"} {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+t+` ENABLE TRIGGER USER`); err != nil {
				return fmt.Errorf("store: bulk load: %w", err)
			}
		}
		if err := rewrite(ctx, tx, nil); err != nil {
			return fmt.Errorf("store: bulk load: dashboard roll-ups: %w", err)
		}
		return nil
	})
}
