package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

const putInboundSQL = `INSERT INTO inbound (event, owner, until_at, attempts) VALUES (?, ?, ?, 1)`

// PutInbound keeps an event acknowledged before it is decided.
func (t *tx) PutInbound(ctx context.Context, in *bot.Inbound) error {
	res, err := t.exec(ctx, putInboundSQL, in.Event, in.Owner, ms(in.Until))
	if err != nil {
		return fmt.Errorf("store: keep inbound event: %w", err)
	}
	if in.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("store: keep inbound event: %w", err)
	}
	in.Attempts = 1
	return nil
}

const takeInboundSQL = `DELETE FROM inbound WHERE id = ?`

// TakeInbound deletes inbound event id. One writer at a time: no other
// transaction can be taking it.
func (t *tx) TakeInbound(ctx context.Context, id int64) (bool, error) {
	res, err := t.exec(ctx, takeInboundSQL, id)
	if err != nil {
		return false, fmt.Errorf("store: take inbound event %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: take inbound event %d: %w", id, err)
	}
	return n == 1, nil
}

const claimInboundSQL = `UPDATE inbound SET owner = ?, until_at = ?, attempts = attempts + 1
	WHERE id IN (SELECT id FROM inbound WHERE until_at < ? ORDER BY id LIMIT ?)
	RETURNING id, event, owner, until_at, attempts`

// ClaimInbound claims the inbound events whose claim ends before before.
func (t *tx) ClaimInbound(ctx context.Context, owner string, before, until time.Time, limit int) ([]bot.Inbound, error) {
	rows, err := t.query(ctx, claimInboundSQL, owner, ms(until), ms(before), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: claim inbound events: %w", err)
	}
	defer rows.Close()
	var out []bot.Inbound
	for rows.Next() {
		var (
			in    bot.Inbound
			until int64
		)
		if err := rows.Scan(&in.ID, &in.Event, &in.Owner, &until, &in.Attempts); err != nil {
			return nil, fmt.Errorf("store: claim inbound events: %w", err)
		}
		in.Until = msTime(until)
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim inbound events: %w", err)
	}
	// RETURNING gives no order
	slices.SortFunc(out, func(a, b bot.Inbound) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

const inboundStatsSQL = `SELECT count(*) FROM inbound`

// InboundStats counts the inbound events not decided yet.
func (t *tx) InboundStats(ctx context.Context) (int, error) {
	var n int
	if err := t.queryRow(ctx, inboundStatsSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: inbound stats: %w", err)
	}
	return n, nil
}
