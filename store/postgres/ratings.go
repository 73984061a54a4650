package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
)

// PutRating stores r (At defaults to now) and marks the case rated, satisfied
// and recovered as r says. A second rating of the same round is bot.ErrConflict.
func (t *tx) PutRating(ctx context.Context, r *bot.Rating) error {
	r.At = orNow(r.At, t.now)
	// ON CONFLICT, not a unique violation: that would abort the caller's
	// whole transaction, and the core goes on after ErrConflict.
	var id int64
	err := t.queryRow(ctx, `INSERT INTO ratings (case_id, round, scale, score, satisfied,
		unhappy, recovery, comment, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (case_id, round) DO NOTHING RETURNING id`,
		r.CaseID, r.Round, string(r.Scale), r.Score, r.Satisfied, r.Unhappy, r.Recovery, r.Comment, ms(r.At)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("store: rating of case %d round %d: %w", r.CaseID, r.Round, bot.ErrConflict)
	}
	if err != nil {
		return writeErr(err, "rating of case", r.CaseID)
	}
	bits := stageBit("rated")
	if r.Satisfied {
		bits |= stageBit("satisfied")
	}
	return t.markStages(ctx, r.CaseID, bits, r.Recovery)
}

// Ratings lists a case's ratings by round.
func (t *tx) Ratings(ctx context.Context, caseID int64) ([]bot.Rating, error) {
	ratings, err := collect(ctx, t, `SELECT case_id, round, scale, score, satisfied, unhappy,
		recovery, comment, at FROM ratings WHERE case_id = $1 ORDER BY round`, []any{caseID},
		func(s scanner) (bot.Rating, error) {
			var r bot.Rating
			var at int64
			err := s.Scan(&r.CaseID, &r.Round, &r.Scale, &r.Score, &r.Satisfied, &r.Unhappy, &r.Recovery, &r.Comment, &at)
			r.At = msTime(at)
			return r, err
		})
	if err != nil {
		return nil, fmt.Errorf("store: ratings of case %d: %w", caseID, err)
	}
	return ratings, nil
}

// UpdateRatingComment sets the comment of a case's rating for round.
func (t *tx) UpdateRatingComment(ctx context.Context, caseID int64, round int, comment string) error {
	tag, err := t.exec(ctx, `UPDATE ratings SET comment = $1 WHERE case_id = $2 AND round = $3`, comment, caseID, round)
	what := fmt.Sprintf("%d round %d", caseID, round)
	if err != nil {
		return fmt.Errorf("store: comment of case %s: %w", what, err)
	}
	return mustAffect(tag, "rating of case", what)
}
