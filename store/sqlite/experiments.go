package sqlite

import (
	"context"
	"fmt"

	"github.com/advocate-bot/advocate/bot"
)

// experimentSQL counts each variant's prompts (a case's offers in one
// round, clicked or shared if any of them was); cond selects the cases.
func experimentSQL(cond string) string {
	return `SELECT experiment, variant, count(*), sum(clicked), sum(shared) FROM (
		SELECT o.experiment, o.variant, max(o.clicked) AS clicked, max(o.shared) AS shared
		FROM offers o JOIN cases c ON c.id = o.case_id` + cond + `
		GROUP BY o.experiment, o.variant, o.case_id, o.round)
	GROUP BY experiment, variant ORDER BY experiment, variant`
}

// experimentRefreshSQL recomputes the dashboard_experiments rows of the
// dirty days from the offers of the cases opened on them. CROSS JOIN keeps
// SQLite's join order: dirty days, then their cases by cases_funnel, then
// their offers by offers_case; left free, the planner walked every offer in
// offers_case order for the GROUP BY (2.8 s on a million cases instead of
// milliseconds).
func experimentRefreshSQL() []string {
	return []string{
		`DELETE FROM dashboard_experiments WHERE day IN (SELECT day FROM dashboard_dirty)`,
		`INSERT INTO dashboard_experiments (day, platform, channel, experiment, variant, offered, clicked, shared)
		SELECT day, platform, channel, experiment, variant, count(*), sum(clicked), sum(shared) FROM (
			SELECT c.opened_at / 86400000 AS day, c.platform AS platform, c.public_channel AS channel,
				o.experiment AS experiment, o.variant AS variant, max(o.clicked) AS clicked, max(o.shared) AS shared
			FROM dashboard_dirty d CROSS JOIN cases c CROSS JOIN offers o ON o.case_id = c.id AND o.experiment <> ''
			WHERE c.opened_at >= d.day * 86400000 AND c.opened_at < (d.day + 1) * 86400000
			GROUP BY o.case_id, o.round, o.experiment, o.variant)
		GROUP BY day, platform, channel, experiment, variant`,
	}
}

// rollupExperimentSQL sums the roll-up's rows of the days, platform and
// channel q selects.
func rollupExperimentSQL(q bot.FunnelQuery) (string, []any) {
	where, args := dayWhere(q)
	return `SELECT experiment, variant, sum(offered), sum(clicked), sum(shared) FROM dashboard_experiments` + where +
		` GROUP BY experiment, variant HAVING sum(offered) > 0 ORDER BY experiment, variant`, args
}

// ExperimentCounts counts, per experiment and variant, the prompts made on
// the cases q selects (opened in its period, on its platform and channel),
// ordered by experiment and variant. Offers outside experiments are not
// counted. A period of whole UTC days (what the dashboard asks) is read from
// the roll-up dashboard_experiments; any other from the offers.
func (db *DB) ExperimentCounts(ctx context.Context, q bot.FunnelQuery) ([]bot.VariantCounts, error) {
	var query string
	var args []any
	if _, _, ok := rollupFor(bot.FunnelQuery{Since: q.Since, Until: q.Until}); ok {
		if err := db.refreshDashboard(ctx); err != nil {
			return nil, fmt.Errorf("store: experiment counts: %w", err)
		}
		query, args = rollupExperimentSQL(q)
	} else {
		w, cargs := casesWhere(q)
		if w == "" {
			w = " WHERE o.experiment <> ''"
		} else {
			w += " AND o.experiment <> ''"
		}
		query, args = experimentSQL(w), cargs
	}
	rows, err := db.read.QueryContext(ctx, query, args...)
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

// SurveySkips counts the survey_skipped events of the cases q selects, by
// reason (bot.SkipSampledOut, bot.SkipCooldown).
func (db *DB) SurveySkips(ctx context.Context, q bot.FunnelQuery) (map[string]int, error) {
	w, args := casesWhere(q)
	if w == "" {
		w = " WHERE e.kind = ?"
	} else {
		w += " AND e.kind = ?"
	}
	rows, err := db.read.QueryContext(ctx, `SELECT coalesce(json_extract(e.detail, '$.reason'), ''), count(*)
		FROM case_events e JOIN cases c ON c.id = e.case_id`+w+` GROUP BY 1`, append(args, bot.KindSurveySkipped)...)
	if err != nil {
		return nil, fmt.Errorf("store: survey skips: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var reason string
		var n int
		if err := rows.Scan(&reason, &n); err != nil {
			return nil, fmt.Errorf("store: survey skips: %w", err)
		}
		out[reason] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: survey skips: %w", err)
	}
	return out, nil
}
