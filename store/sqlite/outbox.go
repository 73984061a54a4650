package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// Outbox states.
const (
	statePending = "pending"
	stateDead    = "dead"
)

// actionCols are the columns scanAction reads, in its order.
const actionCols = `id, coalesce(case_id, 0), platform, lane, kind, place, to_ref, fallback, msg,
	msg_key, purpose, subject, attempts, next_at, last_err, created_at`

func scanAction(s scanner) (bot.Action, error) {
	var (
		a            bot.Action
		to, fallback string
		msg          sql.NullString
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
	if err := fromJSON(msg.String, &a.Msg); err != nil {
		return bot.Action{}, err
	}
	a.NextAt, a.Created = msTime(next), msTime(made)
	return a, nil
}

const enqueueSQL = `INSERT INTO outbox (case_id, platform, lane, kind, place,
	to_ref, fallback, msg, msg_key, purpose, subject, attempts, next_at, last_err, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

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
	res, err := t.exec(ctx, enqueueSQL,
		nullID(a.CaseID), a.Platform, a.Lane, a.Kind, a.Place, to, fallback, msg, a.Key,
		a.Purpose, a.Subject, a.Attempts, ms(a.NextAt), a.LastErr, ms(t.now))
	if err != nil {
		return writeErr(err, "enqueue "+a.Kind+" for case", a.CaseID)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("store: enqueue: %w", err)
	}
	return nil
}

// pendingActionsSQL walks the pending actions above an ID oldest first
// (index outbox_due) and keeps those with no older pending action in their
// lane (index outbox_pending), so a look costs what it reads up to its limit,
// not the whole backlog.
const pendingActionsSQL = `SELECT ` + actionCols + ` FROM outbox AS o
	WHERE state = 'pending' AND id > ? AND next_at <= ?
		AND NOT EXISTS (SELECT 1 FROM outbox AS p WHERE p.state = 'pending' AND p.lane = o.lane AND p.id < o.id)
	ORDER BY id LIMIT ?`

// PendingActions returns each lane's oldest pending action if it is due,
// oldest first; limit <= 0 means all. An action waiting to be retried holds
// back the rest of its lane, so a lane is delivered in order.
func (t *tx) PendingActions(ctx context.Context, now time.Time, limit int) ([]bot.Action, error) {
	return t.actions(ctx, "pending actions", pendingActionsSQL, 0, ms(now), sqlLimit(limit))
}

const lastActionSQL = `SELECT coalesce(max(id), 0) FROM outbox`

// PendingActionsAfter is PendingActions for the lanes whose due head has an
// ID above after, with the highest action ID queued so far, read first (a
// read transaction sees one snapshot).
func (t *tx) PendingActionsAfter(ctx context.Context, now time.Time, after int64, limit int) ([]bot.Action, int64, error) {
	var last int64
	if err := t.queryRow(ctx, lastActionSQL).Scan(&last); err != nil {
		return nil, 0, fmt.Errorf("store: last action: %w", err)
	}
	actions, err := t.actions(ctx, "pending actions", pendingActionsSQL, after, ms(now), sqlLimit(limit))
	return actions, last, err
}

const laneHeadSQL = `SELECT ` + actionCols + ` FROM outbox
	WHERE state = 'pending' AND lane = ? ORDER BY id LIMIT 1`

// LaneHeads returns the oldest pending action of each of lanes that has
// one, due or not, by ID (index outbox_pending, one search per lane).
func (t *tx) LaneHeads(ctx context.Context, lanes []string) ([]bot.Action, error) {
	var heads []bot.Action
	for _, lane := range lanes {
		a, err := t.actions(ctx, "lane heads", laneHeadSQL, lane)
		if err != nil {
			return nil, err
		}
		heads = append(heads, a...)
	}
	slices.SortFunc(heads, func(x, y bot.Action) int { return cmp.Compare(x.ID, y.ID) })
	return heads, nil
}

// actions runs a query of actionCols; what names it in errors.
func (t *tx) actions(ctx context.Context, what, query string, args ...any) ([]bot.Action, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var actions []bot.Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		actions = append(actions, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return actions, nil
}

const (
	markDeliveredSQL = `UPDATE outbox SET state = 'delivered', msg = NULL, done_at = ?,
		result_ref = ?, place = CASE WHEN ? = '' THEN place ELSE ? END
		WHERE id = ? RETURNING coalesce(case_id, 0), kind, msg_key`
	forgetDeliverySQL   = `DELETE FROM deliveries WHERE case_id = ? AND msg_key = ?`
	rememberDeliverySQL = `INSERT INTO deliveries (case_id, msg_key, ref, at) VALUES (?, ?, ?, ?)
		ON CONFLICT (case_id, msg_key) DO UPDATE SET ref = excluded.ref, at = excluded.at`
)

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
	err = t.queryRow(ctx, markDeliveredSQL, ms(t.now), ref, d.Place, d.Place, id).
		Scan(&caseID, &kind, &key)
	if err != nil {
		return notFound(err, "mark delivered", id)
	}
	switch {
	case key == "" || kind == bot.ActUpdate:
		return nil
	case kind == bot.ActDelete:
		_, err = t.exec(ctx, forgetDeliverySQL, caseID, key)
	case !d.Ref.IsZero():
		_, err = t.exec(ctx, rememberDeliverySQL, caseID, key, ref, ms(t.now))
	}
	if err != nil {
		return fmt.Errorf("store: remember delivery %d/%s: %w", caseID, key, err)
	}
	return nil
}

const markFailedSQL = `UPDATE outbox SET attempts = ?, next_at = ?, last_err = ?,
	state = ?, done_at = ? WHERE id = ? AND state != 'delivered'`

// MarkFailed records a failed attempt: the action is retried at next, or given
// up (dead) when dead is true. A dead action no longer holds back its lane.
func (t *tx) MarkFailed(ctx context.Context, id int64, attempts int, next time.Time, lastErr string, dead bool) error {
	state, done := statePending, any(nil)
	if dead {
		state, done = stateDead, ms(t.now)
	}
	res, err := t.exec(ctx, markFailedSQL, attempts, ms(orNow(next, t.now)), lastErr, state, done, id)
	if err != nil {
		return fmt.Errorf("store: mark failed %d: %w", id, err)
	}
	return mustAffect(res, "mark failed", id)
}

const deliveredSQL = `SELECT ref FROM deliveries WHERE case_id = ? AND msg_key = ?`

// Delivered returns the message remembered under (caseID, key).
func (t *tx) Delivered(ctx context.Context, caseID int64, key string) (bot.Ref, error) {
	var s string
	err := t.queryRow(ctx, deliveredSQL, caseID, key).Scan(&s)
	if err != nil {
		return bot.Ref{}, notFound(err, "delivery", fmt.Sprintf("%d/%s", caseID, key))
	}
	var ref bot.Ref
	return ref, fromJSON(s, &ref)
}

const outboxStatsSQL = `SELECT
	(SELECT count(*) FROM outbox WHERE state = 'pending'),
	(SELECT count(*) FROM outbox WHERE state = 'dead')`

// OutboxStats counts pending and dead actions.
func (t *tx) OutboxStats(ctx context.Context) (pending, dead int, err error) {
	err = t.queryRow(ctx, outboxStatsSQL).Scan(&pending, &dead)
	if err != nil {
		return 0, 0, fmt.Errorf("store: outbox stats: %w", err)
	}
	return pending, dead, nil
}
