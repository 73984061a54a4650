package sqlite

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// experimentSQL counts each variant's prompts (a case's offers in one
// round, clicked or shared if any of them was) from the partial index
// offers_experiment; cond selects the cases.
func experimentSQL(cond string) string {
	return `SELECT experiment, variant, count(*), sum(clicked), sum(shared) FROM (
		SELECT o.experiment, o.variant, max(o.clicked) AS clicked, max(o.shared) AS shared
		FROM offers o JOIN cases c ON c.id = o.case_id` + cond + `
		GROUP BY o.experiment, o.variant, o.case_id, o.round)
	GROUP BY experiment, variant ORDER BY experiment, variant`
}

// ExperimentCounts counts, per experiment and variant, the prompts made on
// the cases q selects (opened in its period, on its platform and channel),
// ordered by experiment and variant. Offers outside experiments are not
// counted.
func (db *DB) ExperimentCounts(ctx context.Context, q bot.FunnelQuery) ([]bot.VariantCounts, error) {
	w, args := casesWhere(q)
	if w == "" {
		w = " WHERE o.experiment <> ''"
	} else {
		w += " AND o.experiment <> ''"
	}
	rows, err := db.read.QueryContext(ctx, experimentSQL(w), args...)
	if err != nil {
		return nil, fmt.Errorf("store: experiment counts: %w", err)
	}
	defer rows.Close()
	var out []bot.VariantCounts
	for rows.Next() {
		var v bot.VariantCounts
		if err := rows.Scan(&v.Experiment, &v.Variant, &v.Offered, &v.Clicked, &v.Shared); err != nil {
			return nil, fmt.Errorf("store: experiment counts: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: experiment counts: %w", err)
	}
	return out, nil
}
