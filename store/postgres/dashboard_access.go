package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
)

// The dashboard's signing key and sign-ins (migration 00003), outside the
// core's transactions: the core never touches them.

// sessionKeyLen is the size of the random session key, in bytes.
const sessionKeyLen = 32

// SessionKey returns the key that signs the dashboard's session cookies and
// form tokens, made at random and stored by the first instance that asks, so
// that every instance and restart signs alike. Once made, reading it writes
// nothing.
func (db *DB) SessionKey(ctx context.Context) ([]byte, error) {
	var stored []byte
	err := db.pool.QueryRow(ctx, `SELECT key FROM dashboard_keys WHERE name = 'session'`).Scan(&stored)
	if err == nil && len(stored) >= sessionKeyLen {
		return stored, nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: session key: %w", err)
	}
	key := make([]byte, sessionKeyLen)
	_, _ = rand.Read(key) // never fails (crypto/rand)
	_, err = db.pool.Exec(ctx,
		`INSERT INTO dashboard_keys (name, key, created_at) VALUES ('session', $1, $2) ON CONFLICT (name) DO NOTHING`,
		key, ms(db.now()))
	if err != nil {
		return nil, fmt.Errorf("store: session key: %w", err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT key FROM dashboard_keys WHERE name = 'session'`).Scan(&stored); err != nil {
		return nil, fmt.Errorf("store: session key: %w", err)
	}
	if len(stored) < sessionKeyLen {
		return nil, fmt.Errorf("store: session key: %d bytes stored, want %d", len(stored), sessionKeyLen)
	}
	return stored, nil
}

// StartSession records a dashboard sign-in of user at now until expires, and
// deletes the sessions that expired by now. The times are the dashboard's.
func (db *DB) StartSession(ctx context.Context, id, user string, now, expires time.Time) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM dashboard_sessions WHERE expires_at <= $1`, ms(now)); err != nil {
		return fmt.Errorf("store: start session: %w", err)
	}
	_, err := db.pool.Exec(ctx,
		`INSERT INTO dashboard_sessions (id, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		id, user, ms(now), ms(expires))
	if err != nil {
		return fmt.Errorf("store: start session: %w", err)
	}
	return nil
}

// Session returns the user and expiry of a session, or bot.ErrNotFound when
// it never began or has ended; the caller checks the expiry.
func (db *DB) Session(ctx context.Context, id string) (user string, expires time.Time, err error) {
	var exp int64
	err = db.pool.QueryRow(ctx, `SELECT user_name, expires_at FROM dashboard_sessions WHERE id = $1`, id).Scan(&user, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, fmt.Errorf("store: session: %w", bot.ErrNotFound)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: session: %w", err)
	}
	return user, msTime(exp), nil
}

// EndSession ends a session (a logout); ending one that is not there is not
// an error.
func (db *DB) EndSession(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM dashboard_sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: end session: %w", err)
	}
	return nil
}

// staffNameQuery finds the name in a staff member's latest event that
// carries one (index case_events_staff).
const staffNameQuery = `SELECT detail::jsonb ->> 'name' FROM case_events
	WHERE actor = $1 AND kind IN ('claimed', 'first_staff_response')
	AND coalesce(detail::jsonb ->> 'name', '') <> ''
	ORDER BY id DESC LIMIT 1`

// StaffNames returns the display names of the staff members with the given
// platform user IDs, as their latest claim or first response recorded them.
// An ID with no name recorded is left out.
func (db *DB) StaffNames(ctx context.Context, ids []string) (map[string]string, error) {
	names := map[string]string{}
	for _, id := range ids {
		if id == "" {
			continue
		}
		var name string
		err := db.pool.QueryRow(ctx, staffNameQuery, id).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: staff names: %w", err)
		}
		names[id] = name
	}
	return names, nil
}
