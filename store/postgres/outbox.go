package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// actionCols are the columns scanAction reads, in its order.
const actionCols = `id, coalesce(case_id, 0), platform, lane, kind, place, to_ref, fallback, msg,
	msg_key, purpose, subject, attempts, next_at, last_err, created_at`

func scanAction(s scanner) (bot.Action, error) {
	var (
		a            bot.Action
		to, fallback string
		msg          *string
		next, made   int64
	)
	err := s.Scan(&a.ID, &a.CaseID, &a.Platform, &a.Lane, &a.Kind, &a.Place, &to, &fallback, &msg,
		&a.Key, &a.Purpose, &a.Subject, &a.Attempts, &next, &a.LastErr, &made)
	if err != nil {
		return bot.Action{}, err
	}
	if err := fromJSON(to, &a.To); err != nil {
		return bot.Action{}, err
	}
	if err := fromJSON(fallback, &a.Fallback); err != nil {
		return bot.Action{}, err
	}
	if msg != nil {
		if err := fromJSON(*msg, &a.Msg); err != nil {
			return bot.Action{}, err
		}
	}
	a.NextAt, a.Created = msTime(next), msTime(made)
	return a, nil
}

// Enqueue adds a to the outbox and sets a.ID; a zero NextAt becomes now.
func (t *tx) Enqueue(ctx context.Context, a *bot.Action) error {
	a.NextAt = orNow(a.NextAt, t.now)
	to, err := toJSON(a.To)
	if err != nil {
		return err
	}
	fallback, err := toJSON(a.Fallback)
	if err != nil {
		return err
	}
	msg, err := toJSON(a.Msg)
	if err != nil {
		return err
	}
	err = t.queryRow(ctx, `INSERT INTO outbox (case_id, platform, lane, kind, place,
		to_ref, fallback, msg, msg_key, purpose, subject, attempts, next_at, last_err, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		nullID(a.CaseID), a.Platform, a.Lane, a.Kind, a.Place, to, fallback, msg, a.Key,
		string(a.Purpose), a.Subject, a.Attempts, ms(a.NextAt), a.LastErr, ms(t.now)).Scan(&a.ID)
	if err != nil {
		return writeErr(err, "enqueue "+a.Kind+" for case", a.CaseID)
	}
	return t.notify(ctx)
}

// PendingActions returns each lane's oldest pending action if it is due,
// oldest first; limit <= 0 means all. An action waiting to be retried holds
// back the rest of its lane, so a lane is delivered in order.
func (t *tx) PendingActions(ctx context.Context, now time.Time, n int) ([]bot.Action, error) {
	return t.pendingAfter(ctx, now, 0, n)
}

// PendingActionsAfter is PendingActions for the lanes whose due head has an
// ID above after, with the highest action ID queued so far, read first.
func (t *tx) PendingActionsAfter(ctx context.Context, now time.Time, after int64, n int) ([]bot.Action, int64, error) {
	var last int64
	if err := t.queryRow(ctx, `SELECT coalesce(max(id), 0) FROM outbox`).Scan(&last); err != nil {
		return nil, 0, fmt.Errorf("store: last action: %w", err)
	}
	actions, err := t.pendingAfter(ctx, now, after, n)
	return actions, last, err
}

func (t *tx) pendingAfter(ctx context.Context, now time.Time, after int64, n int) ([]bot.Action, error) {
	actions, err := collect(ctx, t, `SELECT `+actionCols+` FROM outbox
		WHERE id IN (SELECT min(id) FROM outbox WHERE state = 'pending' GROUP BY lane)
			AND id > $2 AND next_at <= $1
		ORDER BY id LIMIT $3`, []any{ms(now), after, limit(n)}, scanAction)
	if err != nil {
		return nil, fmt.Errorf("store: pending actions: %w", err)
	}
	return actions, nil
}

// LaneHeads returns the oldest pending action of each of lanes that has
// one, due or not, by ID.
func (t *tx) LaneHeads(ctx context.Context, lanes []string) ([]bot.Action, error) {
	actions, err := collect(ctx, t, `SELECT * FROM (SELECT DISTINCT ON (lane) `+actionCols+` FROM outbox
		WHERE state = 'pending' AND lane = ANY($1) ORDER BY lane, id) AS heads ORDER BY id`,
		[]any{lanes}, scanAction)
	if err != nil {
		return nil, fmt.Errorf("store: lane heads: %w", err)
	}
	return actions, nil
}

// MarkDelivered marks the action delivered and drops its message, which the
// outbox must not keep once delivered. A send (or private conversation opened)
// under a Key remembers d.Ref under (case, key); an update leaves that as it
// was, and a delete forgets it, since the message is gone.
func (t *tx) MarkDelivered(ctx context.Context, id int64, d bot.Delivery) error {
	ref, err := toJSON(d.Ref)
	if err != nil {
		return err
	}
	var caseID int64
	var kind, key string
	err = t.queryRow(ctx, `UPDATE outbox SET state = 'delivered', msg = NULL, done_at = $1,
		result_ref = $2, place = CASE WHEN $3 = '' THEN place ELSE $3 END
		WHERE id = $4 RETURNING coalesce(case_id, 0), kind, msg_key`, ms(t.now), ref, d.Place, id).
		Scan(&caseID, &kind, &key)
	if err != nil {
		return notFound(err, "mark delivered", id)
	}
	switch {
	case key == "" || kind == bot.ActUpdate:
		return nil
	case kind == bot.ActDelete:
		_, err = t.exec(ctx, `DELETE FROM deliveries WHERE case_id = $1 AND msg_key = $2`, caseID, key)
	case !d.Ref.IsZero():
		_, err = t.exec(ctx, `INSERT INTO deliveries (case_id, msg_key, ref, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (case_id, msg_key) DO UPDATE SET ref = excluded.ref, at = excluded.at`,
			caseID, key, ref, ms(t.now))
	}
	if err != nil {
		return fmt.Errorf("store: remember delivery %d/%s: %w", caseID, key, err)
	}
	return nil
}

// MarkFailed records a failed attempt: the action is retried at next, or given
// up (dead) when dead is true. A dead action no longer holds back its lane.
func (t *tx) MarkFailed(ctx context.Context, id int64, attempts int, next time.Time, lastErr string, dead bool) error {
	state, done := "pending", (*int64)(nil)
	if dead {
		state, done = "dead", nullMs(t.now)
	}
	tag, err := t.exec(ctx, `UPDATE outbox SET attempts = $1, next_at = $2, last_err = $3,
		state = $4, done_at = $5 WHERE id = $6 AND state != 'delivered'`,
		attempts, ms(orNow(next, t.now)), lastErr, state, done, id)
	if err != nil {
		return fmt.Errorf("store: mark failed %d: %w", id, err)
	}
	return mustAffect(tag, "mark failed", id)
}

// Delivered returns the message remembered under (caseID, key).
func (t *tx) Delivered(ctx context.Context, caseID int64, key string) (bot.Ref, error) {
	var s string
	err := t.queryRow(ctx, `SELECT ref FROM deliveries WHERE case_id = $1 AND msg_key = $2`, caseID, key).Scan(&s)
	if err != nil {
		return bot.Ref{}, notFound(err, "delivery", fmt.Sprintf("%d/%s", caseID, key))
	}
	var ref bot.Ref
	return ref, fromJSON(s, &ref)
}

// OutboxStats counts pending and dead actions.
func (t *tx) OutboxStats(ctx context.Context) (pending, dead int, err error) {
	err = t.queryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'dead')
		FROM outbox WHERE state != 'delivered'`).Scan(&pending, &dead)
	if err != nil {
		return 0, 0, fmt.Errorf("store: outbox stats: %w", err)
	}
	return pending, dead, nil
}
