package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// writeFaultWindow is how long a storage failure of a write keeps Probe
// failing after it happened (see the SQLite store's health.go).
const writeFaultWindow = time.Minute

// Storage failures, as Probe reports them (wrapped, with the server's error).
var (
	ErrDatabaseFull     = errors.New("the database server's disk is full")
	ErrDatabaseReadOnly = errors.New("the database is read-only (a standby, or default_transaction_read_only)")
	ErrDatabaseDamaged  = errors.New("the database reports damaged data")
	ErrDatabaseIO       = errors.New("the database server cannot read or write its files (I/O error)")
)

// storageFault classifies err by its SQLSTATE: one of the Err values above,
// wrapping err, or nil when err is not about the server's storage.
func storageFault(err error) error {
	code := pgCode(err)
	var kind error
	switch {
	case code == "53100": // disk_full
		kind = ErrDatabaseFull
	case code == "25006": // read_only_sql_transaction
		kind = ErrDatabaseReadOnly
	case code == "XX001" || code == "XX002": // data_corrupted, index_corrupted
		kind = ErrDatabaseDamaged
	case strings.HasPrefix(code, "58"): // system errors: io_error, undefined_file…
		kind = ErrDatabaseIO
	default:
		return nil
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// health remembers the latest storage failure of a write.
type health struct {
	mu    sync.Mutex
	fault error
	at    time.Time
}

func (h *health) observe(err error, now time.Time) {
	f := storageFault(err)
	if f == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fault, h.at = f, now
}

func (h *health) recent(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fault == nil || now.Sub(h.at) >= writeFaultWindow {
		return nil
	}
	return fmt.Errorf("%w (%s ago)", h.fault, now.Sub(h.at).Round(time.Second))
}

// Probe proves that the database takes a committed write now (one row of its
// own, rewritten) and fails while a storage failure of another write of this
// instance is recent. /readyz calls it.
func (db *DB) Probe(ctx context.Context) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO store_probe (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, ms(db.now()))
	db.health.observe(err, db.now())
	if f := storageFault(err); f != nil {
		return fmt.Errorf("store: %w", f)
	}
	if err != nil {
		return fmt.Errorf("store: probe write: %w", err)
	}
	if f := db.health.recent(db.now()); f != nil {
		return fmt.Errorf("store: a write failed: %w", f)
	}
	return nil
}
