package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/advocate-bot/advocate/bot"
)

// The dead-letter view: the outbox actions the relay gave up on (after too
// many failed attempts, or at once when nothing could deliver them), listed
// for staff without their message text, and put back in the queue on request.
// A retried action is an ordinary pending action again, so a running bot's
// relay delivers it on its next pass; the write goes through Update, so it
// joins the group commit of a bot running in this process and waits for the
// file's write lock (busy_timeout) when the bot runs in another.

// deadWhere selects the dead actions f selects.
func deadWhere(f bot.DeadFilter) where {
	var w where
	w.add("o.state = ?", stateDead)
	w.addIf(f.Platform != "", "o.platform = ?", f.Platform)
	w.addIf(f.CaseID != 0, "o.case_id = ?", f.CaseID)
	return w
}

// retryBatch bounds the actions RetryAllDead puts back in one transaction, so
// that a large dead-letter queue does not hold up the bot's own writes.
const retryBatch = 256

// forgottenPrefix starts the anonymous customer ID that Forget substitutes.
const forgottenPrefix = "forgotten:"

// deadCols are the columns scanDead reads, from deadFrom, in its order: the
// action, then what refusal needs to know about it and its case.
const deadCols = `o.id, coalesce(o.case_id, 0), o.platform, o.kind, o.place, o.msg_key, o.attempts,
	o.last_err, o.created_at, o.done_at, o.state, o.msg IS NULL, o.case_id IS NOT NULL AND c.id IS NULL,
	coalesce(c.platform, ''), coalesce(c.customer_id, ''), coalesce(c.status, ''), coalesce(c.round, 0)`

const deadFrom = ` FROM outbox o LEFT JOIN cases c ON c.id = o.case_id`

// deadRow is a dead letter with the facts its refusal depends on.
type deadRow struct {
	bot.DeadLetter
	state        string
	erased       bool // its message was blanked by Forget or Purge
	caseMissing  bool
	casePlatform string
	customerID   string
	status       string
	round        int
}

func scanDead(s scanner) (deadRow, error) {
	var (
		r       deadRow
		created int64
		done    sql.NullInt64
	)
	err := s.Scan(&r.ID, &r.CaseID, &r.Platform, &r.Kind, &r.Place, &r.Key, &r.Attempts, &r.LastErr,
		&created, &done, &r.state, &r.erased, &r.caseMissing, &r.casePlatform, &r.customerID, &r.status, &r.round)
	if err != nil {
		return deadRow{}, err
	}
	r.CreatedAt, r.DiedAt = msTime(created), fromMs(done)
	return r, nil
}

// querier is what the dead-letter helpers read through: a transaction of
// either pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryDead reads the rows of a query built on deadCols and deadFrom. It reads
// them all before returning, so the caller may query again on the same
// transaction.
func queryDead(ctx context.Context, q querier, query string, args ...any) ([]deadRow, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []deadRow
	for rows.Next() {
		r, err := scanDead(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// refusal decides whether r may be retried, reading what it needs through q.
// A delete is always allowed while its case exists: it removes a post (a
// withdrawn testimonial), which is what the customer asked for. Anything
// that would contact a forgotten customer or go out without its erased text
// is not. A survey, share prompt or testimonial must still be what the bot
// would send now: the same rules as the core's own (the survey's round still
// open, no opt-out, the cooldown, the consent not withdrawn).
func refusal(ctx context.Context, q querier, r deadRow) (bot.Refusal, error) {
	switch {
	case r.state != stateDead:
		return bot.RefuseNotDead, nil
	case r.caseMissing:
		return bot.RefuseCaseMissing, nil
	case r.Kind == bot.ActDelete:
		return "", nil
	case strings.HasPrefix(r.customerID, forgottenPrefix):
		return bot.RefuseForgotten, nil
	case r.erased:
		return bot.RefuseTextErased, nil
	case r.Kind != bot.ActSend || r.CaseID == 0:
		return "", nil
	}
	name, arg, _ := strings.Cut(r.Key, ":")
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return "", nil // not a keyed survey, prompt or testimonial
	}
	switch name {
	case "survey", "reminder":
		if r.status != string(bot.StatusResolved) || int64(r.round) != n {
			return bot.RefuseSurveyClosed, nil
		}
	case "prompt":
		var optedOut bool
		var last sql.NullInt64
		err := q.QueryRowContext(ctx, `SELECT opted_out, last_prompt_at FROM people WHERE platform = ? AND id = ?`,
			r.casePlatform, r.customerID).Scan(&optedOut, &last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		switch {
		case optedOut:
			return bot.RefuseOptedOut, nil
		case last.Valid && last.Int64 > ms(r.CreatedAt):
			// the prompt was counted when it was queued: a later count is another prompt
			return bot.RefusePromptedSince, nil
		}
		var open int
		err = q.QueryRowContext(ctx, `SELECT count(*) FROM offers WHERE case_id = ? AND round = ? AND state IN (?, ?)`,
			r.CaseID, n, bot.OfferOffered, bot.OfferClicked).Scan(&open)
		if err != nil {
			return "", err
		}
		if open == 0 {
			return bot.RefuseShareClosed, nil
		}
	case "testimonial":
		var state string
		err := q.QueryRowContext(ctx, `SELECT state FROM offers WHERE id = ? AND case_id = ?`, n, r.CaseID).Scan(&state)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
		if state != bot.OfferShared {
			return bot.RefuseWithdrawn, nil
		}
	}
	return "", nil
}

// DeadLetters lists the dead actions f selects, newest first, at most limit
// (<= 0: all), each with the bot.Refusal a retry would meet, and the total
// matching. It reads one snapshot on the read pool.
func (db *DB) DeadLetters(ctx context.Context, f bot.DeadFilter, limit int) ([]bot.DeadLetter, int, error) {
	t, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	defer t.Rollback() //nolint:errcheck // read-only: nothing to keep
	w := deadWhere(f)
	var total int
	if err := t.QueryRowContext(ctx, `SELECT count(*) FROM outbox o`+w.sql(), w.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	rows, err := queryDead(ctx, t, `SELECT `+deadCols+deadFrom+w.sql()+` ORDER BY o.id DESC LIMIT ?`,
		append(w.args, sqlLimit(limit))...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: dead letters: %w", err)
	}
	out := make([]bot.DeadLetter, 0, len(rows))
	for _, r := range rows {
		if r.Refusal, err = refusal(ctx, t, r); err != nil {
			return nil, 0, fmt.Errorf("store: dead letter %d: %w", r.ID, err)
		}
		out = append(out, r.DeadLetter)
	}
	return out, total, nil
}

// RetryDead puts the dead actions ids back in the queue, in ID order and in
// one transaction: pending, due now, attempts reset to zero (the last error
// is kept until the next attempt replaces it). An action that may not be
// retried stays as it is; its result says why (bot.RefuseNotFound, bot.RefuseNotDead
// or a rule of refusal). The results describe each action as it was found,
// in ID order; repeated ids count once. Once its transaction has started,
// ctx no longer interrupts it: a canceled statement would roll back the
// transaction that group commit shares with the bot's own writes.
func (db *DB) RetryDead(ctx context.Context, ids ...int64) ([]bot.DeadLetter, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var out []bot.DeadLetter
	err := db.Update(ctx, func(btx bot.Tx) error {
		out = out[:0] // Update may run fn again
		ctx := context.WithoutCancel(ctx)
		t, err := storeTx(btx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			rows, err := queryDead(ctx, t.tx, `SELECT `+deadCols+deadFrom+` WHERE o.id = ?`, id)
			if err != nil {
				return fmt.Errorf("store: retry %d: %w", id, err)
			}
			if len(rows) == 0 {
				out = append(out, bot.DeadLetter{ID: id, Refusal: bot.RefuseNotFound})
				continue
			}
			d, err := t.retry(ctx, rows[0])
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: retry dead: %w", err)
	}
	return out, nil
}

// RetryAllDead is RetryDead for every dead action f selects, in batches of
// retryBatch per transaction. The results list the actions put back and
// those refused, in ID order.
func (db *DB) RetryAllDead(ctx context.Context, f bot.DeadFilter) ([]bot.DeadLetter, error) {
	w := deadWhere(f)
	var out []bot.DeadLetter
	for after := int64(0); ; {
		var batch []bot.DeadLetter
		err := db.Update(ctx, func(btx bot.Tx) error {
			// As in RetryDead: fn may run again, and ctx must not interrupt it.
			batch = batch[:0]
			ctx := context.WithoutCancel(ctx)
			t, err := storeTx(btx)
			if err != nil {
				return err
			}
			rows, err := queryDead(ctx, t.tx, `SELECT `+deadCols+deadFrom+w.sql()+` AND o.id > ? ORDER BY o.id LIMIT ?`,
				append(slices.Clip(w.args), after, retryBatch)...)
			if err != nil {
				return fmt.Errorf("store: retry all dead: %w", err)
			}
			for _, r := range rows {
				d, err := t.retry(ctx, r)
				if err != nil {
					return err
				}
				batch = append(batch, d)
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("store: retry all dead: %w", err)
		}
		out = append(out, batch...)
		if len(batch) < retryBatch {
			return out, nil
		}
		after = batch[len(batch)-1].ID
	}
}

// storeTx is the SQLite transaction behind a bot.Tx that Update handed out.
func storeTx(btx bot.Tx) (*tx, error) {
	t, ok := btx.(*tx)
	if !ok {
		return nil, fmt.Errorf("store: unexpected transaction type %T", btx)
	}
	return t, nil
}

// retry puts r back in the queue unless a rule refuses it, and returns it
// with the refusal.
func (t *tx) retry(ctx context.Context, r deadRow) (bot.DeadLetter, error) {
	var err error
	if r.Refusal, err = refusal(ctx, t.tx, r); err != nil {
		return bot.DeadLetter{}, fmt.Errorf("store: retry %d: %w", r.ID, err)
	}
	if r.Refusal != "" {
		return r.DeadLetter, nil
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = 0, next_at = ?, done_at = NULL
		WHERE id = ? AND state = ?`, statePending, ms(t.now), r.ID, stateDead)
	if err != nil {
		return bot.DeadLetter{}, fmt.Errorf("store: retry %d: %w", r.ID, err)
	}
	return r.DeadLetter, mustAffect(res, "retry", r.ID)
}
