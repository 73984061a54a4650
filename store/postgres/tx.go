package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/advocate-bot/advocate/bot"
)

// tx implements bot.Tx on one PostgreSQL transaction, read-only or not.
type tx struct {
	tx       pgx.Tx
	now      time.Time
	write    bool // an Update: reads lock what they read (see the package comment)
	notified bool // the outbox notification is queued (notify.go)
}

// forUpdate is the locking clause of a read in an Update.
func (t *tx) forUpdate() string {
	if t.write {
		return " FOR UPDATE"
	}
	return ""
}

// lockPerson takes, in an Update, the transaction lock on a person, so that
// decisions about them (their active case, their share prompts) are made by
// one transaction at a time, whichever instance runs it.
func (t *tx) lockPerson(ctx context.Context, platform, id string) error {
	if !t.write {
		return nil
	}
	if _, err := t.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, platform+"/"+id); err != nil {
		return fmt.Errorf("store: lock person %s/%s: %w", platform, id, err)
	}
	return nil
}

var _ bot.Tx = (*tx)(nil)

// Now returns the clock read when the transaction began.
func (t *tx) Now() time.Time { return t.now }

func (t *tx) exec(ctx context.Context, query string, args ...any) (pgconn.CommandTag, error) {
	return t.tx.Exec(ctx, query, args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (pgx.Rows, error) {
	return t.tx.Query(ctx, query, args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) pgx.Row {
	return t.tx.QueryRow(ctx, query, args...)
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// Seen records eventID and reports whether it was recorded before, by this
// instance or another: the primary key is the dedupe they share. An empty ID
// is never seen.
func (t *tx) Seen(ctx context.Context, eventID string) (bool, error) {
	if eventID == "" {
		return false, nil
	}
	tag, err := t.exec(ctx, `INSERT INTO processed_events (id, at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		eventID, ms(t.now))
	if err != nil {
		return false, fmt.Errorf("store: seen: %w", err)
	}
	return tag.RowsAffected() == 0, nil
}

// pgCode is the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

const (
	codeUnique     = "23505"
	codeForeignKey = "23503"
)

// writeErr wraps an INSERT's error: a reference to a case that does not exist
// becomes bot.ErrNotFound.
func writeErr(err error, what string, id any) error {
	if pgCode(err) == codeForeignKey {
		return fmt.Errorf("store: %s %v: %w: %w", what, id, bot.ErrNotFound, err)
	}
	return fmt.Errorf("store: %s %v: %w", what, id, err)
}

// mustAffect turns an UPDATE that matched no row into bot.ErrNotFound.
func mustAffect(tag pgconn.CommandTag, what string, id any) error {
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: %s %v: %w", what, id, bot.ErrNotFound)
	}
	return nil
}

// notFound turns pgx.ErrNoRows into bot.ErrNotFound and wraps other errors.
func notFound(err error, what string, id any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("store: %s %v: %w", what, id, bot.ErrNotFound)
	}
	return fmt.Errorf("store: %s %v: %w", what, id, err)
}

// Times are stored as Unix milliseconds, UTC; the zero time as NULL.

func ms(t time.Time) int64 { return t.UnixMilli() }

func nullMs(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

func fromMs(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.UnixMilli(*v).UTC()
}

func msTime(v int64) time.Time { return time.UnixMilli(v).UTC() }

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

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// limit turns "0 or less: no limit" into a NULL LIMIT, which PostgreSQL reads as none.
func limit(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
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
