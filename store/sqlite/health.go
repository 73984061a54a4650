package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// writeFaultWindow is how long a storage failure of a write (a full disk, a
// read-only or damaged file) keeps Probe failing after it happened. A full
// disk fails the writes that need a new page and lets others through, so a
// probe that only looked at the latest write would flap.
const writeFaultWindow = time.Minute

// health remembers the writer's latest storage failure.
type health struct {
	mu    sync.Mutex
	fault error // classified (storageFault), nil when none
	at    time.Time
}

// observe notes the outcome of a write; only storage failures count.
func (h *health) observe(err error, now time.Time) {
	f := storageFault(err)
	if f == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fault, h.at = f, now
}

// noteWrite tells health the outcome of a write and, when the file refused it
// as read-only, closes the idle connections of both pools, so that the next
// write opens the file again: SQLite opens a file it may not write read-only
// and keeps it so, with the WAL index that all of the process's connections
// to the file share, which would otherwise last until a restart after the
// file (its permissions, the disk's mount) was put right. A connection in use
// is kept, and closed at a later failure. A file that was deleted or moved
// under the bot (SQLITE_READONLY_DBMOVED) is not reopened: that would make a
// new, empty database at its path.
func (db *DB) noteWrite(err error) {
	db.health.observe(err, db.now())
	var e *sqlite.Error
	if !errors.Is(storageFault(err), ErrDatabaseReadOnly) || !errors.As(err, &e) || e.Code() == sqlite3.SQLITE_READONLY_DBMOVED {
		return
	}
	for _, pool := range []struct {
		db    *sql.DB
		conns int
	}{{db.write, 1}, {db.read, readConns}} {
		if pool.db != nil {
			pool.db.SetMaxIdleConns(0) // closes the idle connections
			pool.db.SetMaxIdleConns(pool.conns)
		}
	}
}

// writable forgets a read-only failure once a write has gone through: a
// read-only file refuses every write, so one that succeeds shows it is over.
// A full disk or a damaged file fails some writes and not others; those stay
// for the window.
func (h *health) writable() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if errors.Is(h.fault, ErrDatabaseReadOnly) {
		h.fault = nil
	}
}

// recent returns the latest storage failure if it happened within the window.
func (h *health) recent(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fault == nil || now.Sub(h.at) >= writeFaultWindow {
		return nil
	}
	return fmt.Errorf("%w (%s ago)", h.fault, now.Sub(h.at).Round(time.Second))
}

// Storage failures, as Probe and Open report them (wrapped, with SQLite's
// own error): what is wrong with the database file, for an operator, without
// the file's path or contents.
var (
	ErrDatabaseFull     = errors.New("the database or its disk is full")
	ErrDatabaseReadOnly = errors.New("the database is read-only")
	ErrDatabaseDamaged  = errors.New("the database file is damaged")
	ErrDatabaseIO       = errors.New("the database file cannot be read or written (I/O error)")
)

// storageFault classifies err by its SQLite result code: one of the Err
// values above, wrapping err, or nil when err is not about the file.
func storageFault(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return nil
	}
	var kind error
	switch e.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_FULL:
		kind = ErrDatabaseFull
	case sqlite3.SQLITE_READONLY:
		kind = ErrDatabaseReadOnly
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		kind = ErrDatabaseDamaged
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		kind = ErrDatabaseIO
	default:
		return nil
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// Probe proves that the database takes a committed write now: it rewrites
// one row of its own, in a transaction of its own, and commits. It also fails
// while a storage failure of any other write (see writeFaultWindow) is
// recent, since the probe's row may fit where the bot's writes no longer do;
// a read-only failure ends with the first write that goes through, since a
// read-only file takes none. /readyz calls it.
func (db *DB) Probe(ctx context.Context) error {
	err := db.probeWrite(ctx)
	db.noteWrite(err)
	if f := storageFault(err); f != nil {
		return fmt.Errorf("store: %w", f)
	}
	if err != nil {
		return fmt.Errorf("store: probe write: %w", err)
	}
	db.health.writable()
	if f := db.health.recent(db.now()); f != nil {
		return fmt.Errorf("store: a write failed: %w", f)
	}
	return nil
}

func (db *DB) probeWrite(ctx context.Context) error {
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer t.Rollback() //nolint:errcheck // a no-op after Commit
	_, err = t.ExecContext(ctx, `INSERT INTO store_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`,
		ms(db.now()))
	if err != nil {
		return err
	}
	return t.Commit()
}

// DefaultCheckTimeout bounds Open's integrity check (Options.CheckTimeout).
const DefaultCheckTimeout = 10 * time.Second

// quickCheck runs PRAGMA quick_check on the file before anything else
// touches it and refuses a damaged one. A check that does not finish within
// timeout (a very large database on a slow disk) is logged and skipped
// rather than holding up the start.
func (db *DB) quickCheck(ctx context.Context, path string, timeout time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var result string
	err := db.write.QueryRowContext(cctx, `PRAGMA quick_check(1)`).Scan(&result)
	switch {
	case err != nil && cctx.Err() != nil && ctx.Err() == nil:
		db.log.WarnContext(ctx, "integrity check skipped: it did not finish in time", "timeout", timeout)
		return nil
	case storageFault(err) != nil:
		return fmt.Errorf("store: %s: %w; restore it from a backup, or move it aside to start with an empty one",
			path, storageFault(err))
	case err != nil:
		return fmt.Errorf("store: integrity check of %s: %w", path, err)
	case result != "ok":
		return fmt.Errorf("store: %s: %w: quick_check: %s; restore it from a backup, or move it aside to start with an empty one",
			path, ErrDatabaseDamaged, result)
	}
	db.log.DebugContext(ctx, "integrity check passed", "duration", time.Since(start))
	return nil
}
