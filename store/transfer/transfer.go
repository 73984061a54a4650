// Package transfer copies an advocate SQLite database into PostgreSQL (advocate
// migrate-store), so that a community that outgrows one process keeps its
// history when it moves to several instances.
//
// The copy is all or nothing: every table is streamed with COPY inside one
// PostgreSQL transaction, the row counts are checked against the source
// before it commits, and a target that already holds data is refused. The
// source is opened with the SQLite store's lock, so no bot writes to it
// meanwhile.
package transfer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/store/postgres"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// table is one table to copy: its columns (the same names on both sides;
// generated columns left out) and which of them SQLite stores as 0/1 and
// PostgreSQL as boolean.
type table struct {
	name  string
	cols  []string
	bools []string
}

// tables are copied in this order, parents before the rows that reference them.
var tables = []table{
	{name: "cases", cols: []string{"id", "platform", "customer", "status", "public_ref", "private_ref", "staff_ref",
		"public_channel", "assignee", "question", "round", "opened_at", "opened_week", "first_response_at",
		"resolved_at", "closed_at", "purged_at", "stages", "recovered"}},
	{name: "case_events", cols: []string{"id", "case_id", "kind", "actor", "platform", "at", "detail"}},
	{name: "ratings", cols: []string{"id", "case_id", "round", "scale", "score", "satisfied", "unhappy", "recovery",
		"comment", "at"}, bools: []string{"satisfied", "unhappy", "recovery"}},
	{name: "offers", cols: []string{"id", "case_id", "round", "target", "kind", "policy", "text", "url", "state",
		"post_ref", "at", "shared_at", "clicked", "shared", "wall", "wall_name", "wall_at", "experiment", "variant"}},
	{name: "people", cols: []string{"platform", "id", "opted_out", "last_prompt_at", "last_survey_at"}, bools: []string{"opted_out"}},
	{name: "processed_events", cols: []string{"id", "at"}},
	{name: "timers", cols: []string{"case_id", "kind", "round", "due_at", "experiment", "variant"}},
	{name: "outbox", cols: []string{"id", "case_id", "platform", "lane", "kind", "place", "to_ref", "fallback", "msg",
		"msg_key", "purpose", "subject", "attempts", "next_at", "last_err", "state", "created_at", "done_at", "result_ref"}},
	{name: "inbound", cols: []string{"id", "event", "owner", "until_at", "attempts"}},
	{name: "deliveries", cols: []string{"case_id", "msg_key", "ref", "at"}},
	{name: "person_links", cols: []string{"platform", "id", "person", "linked_at", "via"}},
	{name: "link_codes", cols: []string{"hash", "platform", "id", "expires_at"}},
	{name: "forgotten_opt_outs", cols: []string{"marker", "at"}},
	// The dashboard's signing key and sign-ins: signed-in staff stay signed
	// in, and their cookies and form tokens stay valid, after the move.
	{name: "dashboard_keys", cols: []string{"name", "key", "created_at"}},
	{name: "dashboard_sessions", cols: []string{"id", "user_name", "created_at", "expires_at"}},
}

// notCopied are the SQLite tables left behind, and why: PostgreSQL keeps the
// same facts its own way, or they are no one's history.
var notCopied = map[string]string{
	"forgotten":             "a counter of forgotten people (its times are never read): forgotten_seq continues it",
	"dashboard_time_bounds": "the same rows are made by the PostgreSQL migrations",
	"dashboard_daily":       "roll-ups: rebuilt from the copied cases",
	"dashboard_staff":       "roll-ups: rebuilt from the copied cases",
	"dashboard_dirty":       "roll-ups: rebuilt from the copied cases",
	"dashboard_experiments": "roll-ups: rebuilt from the copied cases",
	"store_probe":           "the readiness probe's scratch row",
	"goose_db_version":      "each store's own migration record",
}

// identities are the tables whose id PostgreSQL generates: after the copy,
// their sequences continue after the highest id copied.
var identities = []string{"cases", "case_events", "ratings", "offers", "outbox", "inbound"}

// Count is how many rows of a table were copied.
type Count struct {
	Table string
	Rows  int64
}

// Options configures Copy.
type Options struct {
	// Logger receives the stores' messages (migrations). Default: discard.
	Logger *slog.Logger
}

// Copy copies the SQLite database at path into the PostgreSQL database at
// url (migrating both schemas first) and returns the rows copied per table.
// Nothing is written to PostgreSQL unless everything is.
func Copy(ctx context.Context, path, url string, opts Options) ([]Count, error) {
	src, err := sqlite.Open(ctx, path, sqlite.Options{Logger: opts.Logger, Exclusive: true})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, url, postgres.Options{Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("open the PostgreSQL database: %w", err)
	}
	defer dst.Close()
	read, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer read.Close()
	rtx, err := read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer rtx.Rollback() //nolint:errcheck // read-only
	if err := known(ctx, rtx); err != nil {
		return nil, err
	}
	var counts []Count
	err = dst.CopyIn(ctx, func(ctx context.Context, tx pgx.Tx) error {
		counts = counts[:0]
		if err := empty(ctx, tx); err != nil {
			return err
		}
		for _, t := range tables {
			n, err := copyTable(ctx, rtx, tx, t)
			if err != nil {
				return fmt.Errorf("copy %s: %w", t.name, err)
			}
			counts = append(counts, Count{Table: t.name, Rows: n})
		}
		return finish(ctx, rtx, tx, counts)
	})
	if err != nil {
		return nil, err
	}
	return counts, nil
}

// known refuses a SQLite database with a table this code neither copies nor
// knows to leave behind, rather than lose what it holds.
func known(ctx context.Context, rtx *sql.Tx) error {
	rows, err := rtx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var unknown []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		copied := slices.ContainsFunc(tables, func(t table) bool { return t.name == name })
		if _, left := notCopied[name]; !copied && !left {
			unknown = append(unknown, name)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("the SQLite database has tables this migrate-store cannot copy (%s): nothing copied", strings.Join(unknown, ", "))
	}
	return nil
}

// empty refuses a target that holds cases or outbox actions already: copying
// into it would mix two communities' histories, or collide on their IDs.
// The signing key and sign-ins an instance may have made on the empty
// database give way to the copied ones.
func empty(ctx context.Context, tx pgx.Tx) error {
	for _, t := range []string{"cases", "outbox", "people", "processed_events"} {
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+`)`).Scan(&any); err != nil {
			return err
		}
		if any {
			return fmt.Errorf("the PostgreSQL database already has rows in %s: migrate-store copies into an empty database only", t)
		}
	}
	for _, t := range []string{"dashboard_sessions", "dashboard_keys"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+t); err != nil {
			return err
		}
	}
	return nil
}

// copyTable streams t's rows from the SQLite transaction into PostgreSQL
// with COPY and returns how many it copied.
func copyTable(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, t table) (int64, error) {
	rows, err := rtx.QueryContext(ctx, `SELECT `+strings.Join(t.cols, ", ")+` FROM `+t.name)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	isBool := make([]bool, len(t.cols))
	for i, c := range t.cols {
		for _, b := range t.bools {
			isBool[i] = isBool[i] || c == b
		}
	}
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	next := func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if n, ok := v.(int64); ok && isBool[i] {
				vals[i] = n != 0
			}
		}
		return vals, nil
	}
	var rowErr error
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromFunc(func() ([]any, error) {
		v, err := next()
		if err != nil {
			rowErr = err
		}
		return v, err
	}))
	if err == nil {
		err = rowErr
	}
	return n, err
}

// finish sets the identity sequences and the anonymous-ID counter after the
// copied rows, and checks every table's count on both sides.
func finish(ctx context.Context, rtx *sql.Tx, tx pgx.Tx, counts []Count) error {
	for _, t := range identities {
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), coalesce(max(id), 0) + 1, false) FROM `+t); err != nil {
			return fmt.Errorf("sequence of %s: %w", t, err)
		}
	}
	var forgotten int64
	if err := rtx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM forgotten`).Scan(&forgotten); err != nil {
		return fmt.Errorf("read forgotten: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT setval('forgotten_seq', $1 + 1, false)`, forgotten); err != nil {
		return fmt.Errorf("forgotten counter: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT setval('person_seq', coalesce(max(person), 0) + 1, false) FROM person_links`); err != nil {
		return fmt.Errorf("person counter: %w", err)
	}
	var errs []error
	for _, c := range counts {
		var want, got int64
		if err := rtx.QueryRowContext(ctx, `SELECT count(*) FROM `+c.Table).Scan(&want); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+c.Table).Scan(&got); err != nil {
			return err
		}
		if got != want || c.Rows != want {
			errs = append(errs, fmt.Errorf("%s: %d rows in SQLite, %d copied, %d in PostgreSQL", c.Table, want, c.Rows, got))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("counts differ, nothing copied: %w", errors.Join(errs...))
	}
	return nil
}
