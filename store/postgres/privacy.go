package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// stripDetail is case_events.detail without the keys that may hold message
// text: the core puts quoted or typed text under these names only.
const stripDetail = `CASE WHEN jsonb_typeof(detail::jsonb) = 'object'
	THEN (detail::jsonb - 'text' - 'comment' - 'question' - 'name')::text ELSE detail END`

// Forget erases a person's identity and message texts: on each case of theirs
// the customer becomes a stable anonymous token (bot.ForgottenPrefix and a
// number, the same on all their cases) and the question, rating comments,
// offer texts and outgoing messages are blanked; their testimonials leave
// the wall, with the names chosen for it. Where they acted as staff
// (assignee, event actor), the token replaces their ID too. Funnel rows and
// stage marks stay. Their people record, links and link codes are deleted;
// an opt-out is kept as the identity's bot.OptOutMarker, so that they are
// not asked again. It returns the number of cases where they were the
// customer.
func (t *tx) Forget(ctx context.Context, platform, id string) (int, error) {
	if err := t.forgetPerson(ctx, bot.Identity{Platform: platform, ID: id}); err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	var n int64
	if err := t.queryRow(ctx, `SELECT nextval('forgotten_seq')`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	token := bot.ForgottenPrefix + strconv.FormatInt(n, 10)
	tag, err := t.exec(ctx, `UPDATE cases
		SET customer = json_build_object('platform', platform, 'id', $1::text)::text, question = ''
		WHERE platform = $2 AND customer_id = $3`, token, platform, id)
	if err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	theirs := `(SELECT id FROM cases WHERE platform = $1 AND customer_id = $2)`
	if err := t.blankTexts(ctx, theirs, platform, token); err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE cases SET assignee = $3 WHERE platform = $1 AND assignee = $2`, []any{platform, id, token}},
		{`UPDATE case_events SET actor = $3
			WHERE actor = $2 AND case_id IN (SELECT id FROM cases WHERE platform = $1)`, []any{platform, id, token}},
	} {
		if _, err := t.exec(ctx, q.sql, q.args...); err != nil {
			return 0, fmt.Errorf("store: forget: %w", err)
		}
	}
	return int(tag.RowsAffected()), nil
}

// forgetPerson deletes what the store keeps of an identity outside the
// cases, keeping an opt-out as its marker.
func (t *tx) forgetPerson(ctx context.Context, id bot.Identity) error {
	_, err := t.exec(ctx, `INSERT INTO forgotten_opt_outs (marker, at)
		SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM people WHERE platform = $3 AND id = $4 AND opted_out)
		ON CONFLICT (marker) DO NOTHING`, bot.OptOutMarker(id.Platform, id.ID), ms(t.now), id.Platform, id.ID)
	if err != nil {
		return err
	}
	if err := t.Unlink(ctx, id); err != nil && !errors.Is(err, bot.ErrNotFound) {
		return err
	}
	for _, q := range []string{
		`DELETE FROM people WHERE platform = $1 AND id = $2`,
		`DELETE FROM link_codes WHERE platform = $1 AND id = $2`,
	} {
		if _, err := t.exec(ctx, q, id.Platform, id.ID); err != nil {
			return err
		}
	}
	return nil
}

// Purge blanks the message texts of cases closed before cutoff: questions,
// rating comments, offer texts (whose testimonials leave the wall), event
// detail texts and undelivered messages. Each case is purged once; it returns how many were purged now.
func (t *tx) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	due := `(SELECT id FROM cases WHERE closed_at < $1 AND purged_at IS NULL)`
	if err := t.blankTexts(ctx, due, ms(cutoff)); err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	tag, err := t.exec(ctx, `UPDATE cases SET question = '', purged_at = $1
		WHERE closed_at < $2 AND purged_at IS NULL`, ms(t.now), ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// blankTexts blanks the texts held outside the cases row for the cases that
// the subquery ids (with its args) selects.
func (t *tx) blankTexts(ctx context.Context, ids string, args ...any) error {
	for _, q := range []string{
		`UPDATE ratings SET comment = '' WHERE comment != '' AND case_id IN ` + ids,
		`UPDATE offers SET text = '', url = '', wall_name = '', wall_at = NULL WHERE case_id IN ` + ids,
		`UPDATE case_events SET detail = ` + stripDetail + ` WHERE detail IS NOT NULL AND case_id IN ` + ids,
		`UPDATE outbox SET msg = NULL WHERE msg IS NOT NULL AND case_id IN ` + ids,
	} {
		if _, err := t.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}
