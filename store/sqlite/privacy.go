package sqlite

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
const stripDetail = `CASE WHEN json_valid(detail)
	THEN json_remove(detail, '$.text', '$.comment', '$.question', '$.name') END`

// Forget erases one identity and its message texts: on each case of theirs
// the customer becomes a stable anonymous token ("forgotten:<n>", the same on
// all their cases) and the question, rating comments, offer texts and outgoing
// messages are blanked; their testimonials leave the wall, with the names
// chosen for it. Where they acted as staff (assignee, event actor), the
// token replaces their ID too. Funnel rows and stage marks stay, so reports
// keep their counts. Their people record, links and link codes are deleted;
// an opt-out is kept as the identity's bot.OptOutMarker, so that they are
// not asked again. It returns the number of cases where they were the
// customer.
func (t *tx) Forget(ctx context.Context, platform, id string) (int, error) {
	if err := t.forgetPerson(ctx, bot.Identity{Platform: platform, ID: id}); err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO forgotten (at) VALUES (?)`, ms(t.now))
	if err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	n, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	token := bot.ForgottenPrefix + strconv.FormatInt(n, 10)
	res, err = t.tx.ExecContext(ctx, `UPDATE cases
		SET customer = json_object('platform', platform, 'id', ?), question = ''
		WHERE platform = ? AND customer_id = ?`, token, platform, id)
	if err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	cases, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	theirs := `(SELECT id FROM cases WHERE platform = ? AND customer_id = ?)`
	if err := t.blankTexts(ctx, theirs, platform, token); err != nil {
		return 0, fmt.Errorf("store: forget: %w", err)
	}
	for _, q := range []string{
		`UPDATE cases SET assignee = ?3 WHERE platform = ?1 AND assignee = ?2`,
		`UPDATE case_events SET actor = ?3
			WHERE actor = ?2 AND case_id IN (SELECT id FROM cases WHERE platform = ?1)`,
	} {
		if _, err := t.tx.ExecContext(ctx, q, platform, id, token); err != nil {
			return 0, fmt.Errorf("store: forget: %w", err)
		}
	}
	return int(cases), nil
}

// forgetPerson deletes what the store keeps of an identity outside the
// cases, keeping an opt-out as its marker.
func (t *tx) forgetPerson(ctx context.Context, id bot.Identity) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO forgotten_opt_outs (marker, at)
		SELECT ?, ? WHERE EXISTS (SELECT 1 FROM people WHERE platform = ? AND id = ? AND opted_out = 1)
		ON CONFLICT (marker) DO NOTHING`, bot.OptOutMarker(id.Platform, id.ID), ms(t.now), id.Platform, id.ID)
	if err != nil {
		return err
	}
	if err := t.Unlink(ctx, id); err != nil && !errors.Is(err, bot.ErrNotFound) {
		return err
	}
	for _, q := range []string{
		`DELETE FROM people WHERE platform = ? AND id = ?`,
		`DELETE FROM link_codes WHERE platform = ? AND id = ?`,
	} {
		if _, err := t.tx.ExecContext(ctx, q, id.Platform, id.ID); err != nil {
			return err
		}
	}
	return nil
}

// Purge blanks the message texts of cases closed before cutoff: questions,
// rating comments, offer texts (whose testimonials leave the wall), event
// detail texts and undelivered messages. Each case is purged once; it returns how many were purged now.
func (t *tx) Purge(ctx context.Context, cutoff time.Time) (int, error) {
	due := `(SELECT id FROM cases WHERE closed_at < ? AND purged_at IS NULL)`
	if err := t.blankTexts(ctx, due, ms(cutoff)); err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE cases SET question = '', purged_at = ?
		WHERE closed_at < ? AND purged_at IS NULL`, ms(t.now), ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return int(n), nil
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
		if _, err := t.tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}
