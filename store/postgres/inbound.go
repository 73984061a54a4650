package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// PutInbound keeps an event acknowledged before it is decided.
func (t *tx) PutInbound(ctx context.Context, in *bot.Inbound) error {
	err := t.queryRow(ctx, `INSERT INTO inbound (event, owner, until_at, attempts) VALUES ($1, $2, $3, 1) RETURNING id`,
		in.Event, in.Owner, ms(in.Until)).Scan(&in.ID)
	if err != nil {
		return fmt.Errorf("store: keep inbound event: %w", err)
	}
	in.Attempts = 1
	return nil
}

// TakeInbound deletes inbound event id unless another transaction holds its
// row (deciding it, or claiming it): then, as when it is gone, it is not
// this transaction's to decide.
func (t *tx) TakeInbound(ctx context.Context, id int64) (bool, error) {
	tag, err := t.exec(ctx, `DELETE FROM inbound WHERE id IN (SELECT id FROM inbound WHERE id = $1 FOR UPDATE SKIP LOCKED)`, id)
	if err != nil {
		return false, fmt.Errorf("store: take inbound event %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ClaimInbound claims the inbound events whose claim ends before before,
// skipping those another transaction holds.
func (t *tx) ClaimInbound(ctx context.Context, owner string, before, until time.Time, n int) ([]bot.Inbound, error) {
	out, err := collect(ctx, t, `UPDATE inbound SET owner = $1, until_at = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM inbound WHERE until_at < $3 ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING id, event, owner, until_at, attempts`, []any{owner, ms(until), ms(before), limit(n)},
		func(s scanner) (bot.Inbound, error) {
			var in bot.Inbound
			var until int64
			err := s.Scan(&in.ID, &in.Event, &in.Owner, &until, &in.Attempts)
			in.Until = msTime(until)
			return in, err
		})
	if err != nil {
		return nil, fmt.Errorf("store: claim inbound events: %w", err)
	}
	slices.SortFunc(out, func(a, b bot.Inbound) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// InboundStats counts the inbound events not decided yet.
func (t *tx) InboundStats(ctx context.Context) (int, error) {
	var n int
	if err := t.queryRow(ctx, `SELECT count(*) FROM inbound`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: inbound stats: %w", err)
	}
	return n, nil
}
