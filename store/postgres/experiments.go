package postgres

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// experimentsFromCases is the SELECT of dashboard_experiments' rows computed
// from the offers of the cases (aliased c) that cond selects, or of every
// case when cond is "": per day, platform, channel, experiment and variant,
// the prompts (a case's offers of one round, clicked or shared if any of
// them was).
func experimentsFromCases(cond string) string {
	where := " WHERE o.experiment <> ''"
	if cond != "" {
		where += " AND " + cond
	}
	return `SELECT day, platform, channel, experiment, variant, count(*)::int, sum(clicked)::int, sum(shared)::int FROM (
		SELECT c.opened_at / 86400000 AS day, c.platform AS platform, c.public_channel AS channel,
			o.experiment AS experiment, o.variant AS variant, max(o.clicked) AS clicked, max(o.shared) AS shared
		FROM cases c JOIN offers o ON o.case_id = c.id` + where + `
		GROUP BY o.case_id, o.round, o.experiment, o.variant, c.opened_at, c.platform, c.public_channel) p
	GROUP BY day, platform, channel, experiment, variant`
}

// experimentRollupSQL sums the experiments roll-up's rows that q selects per
// experiment and variant: the stored rows of the days not in dirty, and rows
// computed from the cases for the days in dirty (as rollupSQL does).
func experimentRollupSQL(q bot.FunnelQuery, dirty []int64) (string, []any) {
	w := &where{}
	cases, days := spanConds(w, spansOf(dirty))
	stored := `SELECT day, platform, channel, experiment, variant, offered, clicked, shared
		FROM dashboard_experiments WHERE NOT ` + days
	rollupFilter(w, q)
	return `SELECT x.experiment, x.variant, sum(x.offered)::int, sum(x.clicked)::int, sum(x.shared)::int FROM (` +
		stored + ` UNION ALL ` + experimentsFromCases(cases) + `) x (day, platform, channel, experiment, variant, offered, clicked, shared)` +
		w.sql() + ` GROUP BY x.experiment, x.variant HAVING sum(x.offered) > 0 ORDER BY x.experiment, x.variant`, w.args
}

// ExperimentCounts counts, per experiment and variant, the prompts (a case's
// offers in one round, clicked or shared if any of them was) made on the
// cases q selects (opened in its period, on its platform and channel),
// ordered by experiment and variant. Offers outside experiments are not
// counted. A period of whole UTC days (what the dashboard asks) is read
// from the roll-up dashboard_experiments in one snapshot; any other from the
// offers.
func (db *DB) ExperimentCounts(ctx context.Context, q bot.FunnelQuery) ([]bot.VariantCounts, error) {
	if _, _, ok := rollupFor(bot.FunnelQuery{Since: q.Since, Until: q.Until}); !ok {
		return db.scanExperiments(ctx, q)
	}
	if err := db.refreshDashboard(ctx); err != nil {
		return nil, fmt.Errorf("store: experiment counts: %w", err)
	}
	var out []bot.VariantCounts
	err := db.View(ctx, func(btx bot.Tx) error {
		t := btx.(*tx).tx
		dirty, err := dirtyDays(ctx, t, q.Since, q.Until)
		if err != nil {
			return err
		}
		query, args := experimentRollupSQL(q, dirty)
		rows, err := t.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v bot.VariantCounts
			if err := rows.Scan(&v.Experiment, &v.Variant, &v.Offered, &v.Clicked, &v.Shared); err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: experiment counts: %w", err)
	}
	return out, nil
}

// scanExperiments counts from the offers of the cases q selects, for a
// period the roll-up cannot answer.
func (db *DB) scanExperiments(ctx context.Context, q bot.FunnelQuery) ([]bot.VariantCounts, error) {
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
