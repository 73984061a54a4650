package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/advocate-bot/advocate/bot"
	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// tx implements bot.Tx on one SQL transaction, read-only or not.
type tx struct {
	tx    *sql.Tx
	stmts stmtCache // prepared on tx's pool (stmts.go)
	now   time.Time
}

var _ bot.Tx = (*tx)(nil)

// Now returns the clock read when the transaction began.
func (t *tx) Now() time.Time { return t.now }

// exec runs query in the transaction, prepared if the store has prepared it
// (stmts.go). Like query and queryRow, it does not start once ctx has ended,
// but ctx's end does not interrupt it once it runs (see uninterrupted).
func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.stmts.exec(uninterrupted(ctx), t.tx, query, args...)
}

// query is exec for a statement that returns rows.
func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.stmts.query(uninterrupted(ctx), t.tx, query, args...)
}

// queryRow is exec for a statement that returns at most one row.
func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.stmts.queryRow(uninterrupted(ctx), t.tx, query, args...)
}

// uninterrupted is the context to run one of the tx methods' statements
// with: ctx itself once it has ended, so that database/sql refuses to start
// the statement with ctx's error, else ctx without its cancellation.
//
// modernc.org/sqlite watches a cancelable context with a goroutine of its
// own for every statement, to interrupt it: with group commit at 256
// conversations, those goroutines took about a third of the CPU time per
// event (BENCHMARKS.md). The tx methods' statements are short, indexed ones,
// not worth interrupting; and interrupting one would make SQLite roll back
// the whole transaction, which under group commit is shared by the batch
// (see groupcommit.go).
func uninterrupted(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

const seenSQL = `INSERT INTO processed_events (id, at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`

// Seen records eventID and reports whether it was recorded before. An empty ID
// has nothing to dedupe on and is never seen.
func (t *tx) Seen(ctx context.Context, eventID string) (bool, error) {
	if eventID == "" {
		return false, nil
	}
	res, err := t.exec(ctx, seenSQL, eventID, ms(t.now))
	if err != nil {
		return false, fmt.Errorf("store: seen: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: seen: %w", err)
	}
	return n == 0, nil
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var e *sqlitedrv.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// writeErr wraps an INSERT's error: a reference to a case that does not exist
// becomes bot.ErrNotFound.
func writeErr(err error, what string, id any) error {
	var e *sqlitedrv.Error
	if errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return fmt.Errorf("store: %s %v: %w: %w", what, id, bot.ErrNotFound, err)
	}
	return fmt.Errorf("store: %s %v: %w", what, id, err)
}

// mustAffect turns an UPDATE that matched no row into bot.ErrNotFound.
func mustAffect(res sql.Result, what string, id any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s %v: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s %v: %w", what, id, bot.ErrNotFound)
	}
	return nil
}

// notFound turns sql.ErrNoRows into bot.ErrNotFound and wraps other errors.
func notFound(err error, what string, id any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s %v: %w", what, id, bot.ErrNotFound)
	}
	return fmt.Errorf("store: %s %v: %w", what, id, err)
}

// Times are stored as Unix milliseconds, UTC; the zero time as NULL.

func ms(t time.Time) int64 { return t.UnixMilli() }

func nullMs(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMs(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func msTime(v int64) time.Time { return time.UnixMilli(v).UTC() }

// orNow returns t, or now when t is zero.
func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encode: %w", err)
	}
	return string(b), nil
}

func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("store: decode: %w", err)
	}
	return nil
}
