// Package sqlite is advocate's SQLite store: the implementation of bot.Store on
// one database file (modernc.org/sqlite, no cgo), with embedded migrations.
//
// Writes go through one connection, so transactions never contend for the
// file; reports read through a separate read-only pool, so a long report does
// not hold up the bot.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/advocate-bot/advocate/bot"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// readConns is the size of the read pool: enough for the dashboard and a
// report at once without starving the writer of CPU.
const readConns = 4

// Options configures Open.
type Options struct {
	// Now is the clock every transaction reads; tests replace it. Default time.Now.
	Now func() time.Time
	// Logger receives the store's own messages (migrations). Default: discard.
	Logger *slog.Logger
	// CheckTimeout bounds the integrity check (PRAGMA quick_check) Open runs
	// before using the file; a check that takes longer is skipped with a
	// warning. Default DefaultCheckTimeout.
	CheckTimeout time.Duration
	// NoGroupCommit gives every Update a transaction of its own, run on the
	// caller's goroutine, instead of batching concurrent Updates through one
	// writer goroutine (see groupcommit.go). It is the baseline of the
	// benchmarks; nothing else needs it.
	NoGroupCommit bool
	// Exclusive makes Open take the database's lock (lock.go) and hold it
	// until Close: what a running bot does, so that a second bot on the same
	// file fails at once with a *LockedError instead of posting everything
	// twice.
	Exclusive bool
}

// DB is an open SQLite store. It implements bot.Store and is safe for
// concurrent use.
type DB struct {
	write *sql.DB // one connection: SQLite has one writer at a time anyway
	read  *sql.DB // query_only connections for View, Funnel and exports
	now   func() time.Time
	log   *slog.Logger
	gc    *groupCommit // nil with Options.NoGroupCommit
	ckpt  *checkpointer
	lock  *flock.Flock // held with Options.Exclusive
	// health remembers the latest storage failure of a write, for Probe.
	health health

	// The tx methods' statements, prepared on write and on read (stmts.go).
	writeStmts, readStmts stmtCache
}

var _ bot.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path, checks that it
// is not damaged, and brings its schema up to date. It refuses a damaged file
// and a database whose schema is newer than this binary knows.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: invalid database path %q", path)
	}
	db := &DB{now: opts.Now, log: opts.Logger}
	if db.now == nil {
		db.now = time.Now
	}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}
	db.log = db.log.With("component", "store")

	var err error
	if opts.Exclusive {
		if db.lock, err = lockFile(path); err != nil {
			return nil, err
		}
	}
	if db.write, err = openPool(writeDSN(path), 1); err != nil {
		return nil, errors.Join(err, db.unlock())
	}
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = DefaultCheckTimeout
	}
	if err := db.quickCheck(ctx, path, opts.CheckTimeout); err != nil {
		return nil, errors.Join(err, db.write.Close())
	}
	if err := db.migrate(ctx); err != nil {
		return nil, errors.Join(err, db.write.Close(), db.unlock())
	}
	if db.read, err = openPool(readDSN(path), readConns); err != nil {
		return nil, errors.Join(err, db.write.Close(), db.unlock())
	}
	if err := db.read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open read pool: %w", err), db.Close())
	}
	if db.writeStmts, err = prepareStmts(ctx, db.write, writeSQL()); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if db.readStmts, err = prepareStmts(ctx, db.read, readSQL()); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if db.ckpt, err = startCheckpointer(path, db.log); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if !opts.NoGroupCommit {
		db.gc = startGroupCommit(db)
	}
	return db, nil
}

// writeDSN is the writer's DSN: WAL so readers never block it, NORMAL sync
// (durable at checkpoints, safe against corruption), no checkpoints of its
// own (the checkpointer's, checkpoint.go), temporary files in memory (group
// commit's savepoints keep their sub-journals there instead of spilling them
// to a file), and BEGIN IMMEDIATE so a transaction takes the write lock up
// front instead of failing on upgrade.
func writeDSN(path string) string {
	return "file:" + path +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=wal_autocheckpoint(0)&_pragma=foreign_keys(1)&_pragma=temp_store(2)&_txlock=immediate"
}

// readDSN is the read pool's DSN: deferred transactions (a snapshot, no lock)
// on connections that refuse to write.
func readDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=query_only(1)"
}

func openPool(dsn string, conns int) (*sql.DB, error) {
	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxLifetime(0)
	return pool, nil
}

// Close waits for the Updates already queued to commit, refuses new ones and
// closes the prepared statements and both pools.
func (db *DB) Close() error {
	if db.gc != nil {
		db.gc.close()
	}
	errs := []error{db.writeStmts.close(), db.readStmts.close()}
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.close())
	}
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	errs = append(errs, db.write.Close(), db.unlock())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// unlock releases the lock taken with Options.Exclusive, if any.
func (db *DB) unlock() error {
	if db.lock == nil {
		return nil
	}
	return db.lock.Close()
}

// Update runs fn in a write transaction and commits when fn returns nil. fn's
// own error is returned unwrapped, after the rollback.
//
// With group commit (the default), fn runs on the writer goroutine inside a
// savepoint of a transaction shared with other concurrent Updates; Update
// returns when that transaction has committed (or fn has failed and its
// writes are rolled back). A panic in fn is returned as an error. If ctx ends
// before fn has started, fn is not run; once it has, Update waits for the
// commit. Tx.Now is read from the clock when fn starts.
func (db *DB) Update(ctx context.Context, fn func(bot.Tx) error) error {
	err := db.update(ctx, fn)
	db.noteWrite(err)
	return err
}

func (db *DB) update(ctx context.Context, fn func(bot.Tx) error) error {
	if db.gc != nil {
		return db.gc.update(ctx, fn)
	}
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer t.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(db.newTx(t, db.writeStmts)); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction on the read pool: it sees one
// consistent snapshot and any write fails.
func (db *DB) View(ctx context.Context, fn func(bot.Tx) error) error {
	t, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	defer t.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(db.newTx(t, db.readStmts))
}

// newTx wraps t, a transaction of the pool whose statements stmts holds.
func (db *DB) newTx(t *sql.Tx, stmts stmtCache) *tx {
	return &tx{tx: t, stmts: stmts, now: db.now().UTC().Truncate(time.Millisecond)}
}
