package sqlite

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

const putRatingSQL = `INSERT INTO ratings (case_id, round, scale, score, satisfied,
	unhappy, recovery, comment, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// PutRating stores r (At defaults to now) and marks the case rated, satisfied
// and recovered as r says. A second rating of the same round is bot.ErrConflict.
func (t *tx) PutRating(ctx context.Context, r *bot.Rating) error {
	r.At = orNow(r.At, t.now)
	_, err := t.exec(ctx, putRatingSQL,
		r.CaseID, r.Round, string(r.Scale), r.Score, boolInt(r.Satisfied), boolInt(r.Unhappy),
		boolInt(r.Recovery), r.Comment, ms(r.At))
	if isUnique(err) {
		return fmt.Errorf("store: rating of case %d round %d: %w", r.CaseID, r.Round, bot.ErrConflict)
	}
	if err != nil {
		return writeErr(err, "rating of case", r.CaseID)
	}
	bits := stageBit("rated") | boolBit(r.Satisfied, stageBit("satisfied"))
	return t.markStages(ctx, r.CaseID, bits, r.Recovery)
}

const ratingsSQL = `SELECT case_id, round, scale, score, satisfied, unhappy,
	recovery, comment, at FROM ratings WHERE case_id = ? ORDER BY round`

// Ratings lists a case's ratings by round.
func (t *tx) Ratings(ctx context.Context, caseID int64) ([]bot.Rating, error) {
	rows, err := t.query(ctx, ratingsSQL, caseID)
	if err != nil {
		return nil, fmt.Errorf("store: ratings of case %d: %w", caseID, err)
	}
	defer rows.Close()
	var ratings []bot.Rating
	for rows.Next() {
		var (
			r  bot.Rating
			at int64
		)
		err := rows.Scan(&r.CaseID, &r.Round, &r.Scale, &r.Score, &r.Satisfied, &r.Unhappy,
			&r.Recovery, &r.Comment, &at)
		if err != nil {
			return nil, fmt.Errorf("store: ratings of case %d: %w", caseID, err)
		}
		r.At = msTime(at)
		ratings = append(ratings, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: ratings of case %d: %w", caseID, err)
	}
	return ratings, nil
}

const ratingCommentSQL = `UPDATE ratings SET comment = ? WHERE case_id = ? AND round = ?`

// UpdateRatingComment sets the comment of a case's rating for round.
func (t *tx) UpdateRatingComment(ctx context.Context, caseID int64, round int, comment string) error {
	res, err := t.exec(ctx, ratingCommentSQL, comment, caseID, round)
	what := fmt.Sprintf("%d round %d", caseID, round)
	if err != nil {
		return fmt.Errorf("store: comment of case %s: %w", what, err)
	}
	return mustAffect(res, "rating of case", what)
}
