package postgres

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// ExportCases calls fn with each case q selects (opened in [Since, Until), on
// Platform and Channel when set; GroupBy is ignored), oldest first, reading
// from one snapshot. It stops at fn's first error and returns it.
func (db *DB) ExportCases(ctx context.Context, q bot.FunnelQuery, fn func(bot.Case) error) error {
	w := funnelWhere(q)
	return db.stream(ctx, "export cases", `SELECT `+caseCols+` FROM cases c`+w.sql()+` ORDER BY c.id`, w.args,
		func(s scanner) error {
			c, err := scanCase(s)
			if err != nil {
				return fmt.Errorf("store: export cases: %w", err)
			}
			return fn(*c)
		})
}

// ExportEvents calls fn with each funnel event of the cases q selects, in the
// order they were recorded. It stops at fn's first error and returns it.
func (db *DB) ExportEvents(ctx context.Context, q bot.FunnelQuery, fn func(bot.CaseEvent) error) error {
	w := funnelWhere(q)
	return db.stream(ctx, "export events", `SELECT `+eventCols+` FROM case_events e
		JOIN cases c ON c.id = e.case_id`+w.sql()+` ORDER BY e.id`, w.args,
		func(s scanner) error {
			e, err := scanEvent(s)
			if err != nil {
				return fmt.Errorf("store: export events: %w", err)
			}
			return fn(e)
		})
}

// stream runs query in a read-only snapshot and calls fn with each row as it
// arrives, stopping at fn's first error, which it returns as it is.
func (db *DB) stream(ctx context.Context, what, query string, args []any, fn func(scanner) error) error {
	return db.View(ctx, func(btx bot.Tx) error {
		rows, err := btx.(*tx).query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		return nil
	})
}
