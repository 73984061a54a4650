package postgres

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// ExperimentCounts counts, per experiment and variant, the prompts (a case's
// offers in one round, clicked or shared if any of them was) made on the
// cases q selects (opened in its period, on its platform and channel),
// ordered by experiment and variant. Offers outside experiments are not
// counted.
func (db *DB) ExperimentCounts(ctx context.Context, q bot.FunnelQuery) ([]bot.VariantCounts, error) {
	w := funnelWhere(q)
	w.add("o.experiment <> ''")
	query := `SELECT experiment, variant, count(*), sum(clicked), sum(shared) FROM (
		SELECT o.experiment, o.variant, max(o.clicked) AS clicked, max(o.shared) AS shared
		FROM offers o JOIN cases c ON c.id = o.case_id` + w.sql() + `
		GROUP BY o.experiment, o.variant, o.case_id, o.round) p
	GROUP BY experiment, variant ORDER BY experiment, variant`
	var out []bot.VariantCounts
	var v bot.VariantCounts
	err := db.groups(ctx, 2, query, w.args, func(keys []string) error {
		v.Experiment, v.Variant = keys[0], keys[1]
		out = append(out, v)
		return nil
	}, &v.Offered, &v.Clicked, &v.Shared)
	if err != nil {
		return nil, fmt.Errorf("store: experiment counts: %w", err)
	}
	return out, nil
}

// SurveySkips counts the survey_skipped events of the cases q selects, by
// reason (bot.SkipSampledOut, bot.SkipCooldown).
func (db *DB) SurveySkips(ctx context.Context, q bot.FunnelQuery) (map[string]int, error) {
	w := funnelWhere(q)
	w.add("e.kind = " + w.arg(bot.KindSurveySkipped))
	out := map[string]int{}
	var n int
	err := db.groups(ctx, 1, `SELECT coalesce(e.detail::jsonb ->> 'reason', ''), count(*)
		FROM case_events e JOIN cases c ON c.id = e.case_id`+w.sql()+` GROUP BY 1`, w.args, func(keys []string) error {
		out[keys[0]] = n
		return nil
	}, &n)
	if err != nil {
		return nil, fmt.Errorf("store: survey skips: %w", err)
	}
	return out, nil
}
