package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/advocate-bot/advocate/bot"
)

// groupExpr is the SQL for a FunnelQuery.GroupBy name (cases are c, offers o).
func groupExpr(name string) (string, error) {
	switch name {
	case "platform":
		return "c.platform", nil
	case "channel":
		return "c.public_channel", nil
	case "staff":
		return "c.assignee", nil
	case "week":
		return "c.opened_week", nil
	case "target":
		return "o.target", nil
	}
	return "", fmt.Errorf("store: funnel: unknown grouping %q (want platform, channel, staff, week or target)", name)
}

// Funnel counts, per group, the cases opened in [q.Since, q.Until) that
// reached each stage of bot.Stages, in one aggregate over the cases (and, when
// grouping by target, their offers). Rows come ordered by their keys. Without
// GroupBy there is one row, even when no case matches.
func (db *DB) Funnel(ctx context.Context, q bot.FunnelQuery) ([]bot.FunnelRow, error) {
	keys := make([]string, len(q.GroupBy))
	byTarget := false
	for i, g := range q.GroupBy {
		expr, err := groupExpr(g)
		if err != nil {
			return nil, err
		}
		keys[i] = expr
		byTarget = byTarget || g == "target"
	}
	counts := stageCounts
	if byTarget {
		counts = targetCounts
	}
	w := funnelWhere(q)
	var out []bot.FunnelRow
	err := db.View(ctx, func(btx bot.Tx) error {
		var err error
		out, err = collect(ctx, btx.(*tx), funnelSQL(keys, counts(), byTarget, w.sql()), w.args,
			func(s scanner) (bot.FunnelRow, error) {
				r := bot.FunnelRow{Keys: make([]string, len(keys)), Counts: make([]int, len(bot.Stages))}
				dest := make([]any, 0, len(keys)+len(r.Counts)+1)
				for i := range r.Keys {
					dest = append(dest, &r.Keys[i])
				}
				for i := range r.Counts {
					dest = append(dest, &r.Counts[i])
				}
				return r, s.Scan(append(dest, &r.Recoveries)...)
			})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: funnel: %w", err)
	}
	return out, nil
}

// funnelSQL is the aggregate of counts grouped by keys, filtered by cond.
func funnelSQL(keys, counts []string, byTarget bool, cond string) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for _, k := range keys {
		b.WriteString("coalesce(" + k + ", ''), ")
	}
	b.WriteString(strings.Join(counts, ", "))
	if byTarget {
		b.WriteString(" FROM cases c JOIN offers o ON o.case_id = c.id")
	} else {
		b.WriteString(" FROM cases c")
	}
	b.WriteString(cond)
	if len(keys) > 0 {
		list := strings.Join(keys, ", ")
		b.WriteString(" GROUP BY " + list + " ORDER BY " + list)
	}
	return b.String()
}

// stageCounts are the count columns of every stage, then recoveries, read from
// the stage bits Record and PutRating keep on each case.
func stageCounts() []string {
	cols := make([]string, 0, len(bot.Stages)+1)
	for i := range bot.Stages {
		cols = append(cols, fmt.Sprintf("coalesce(sum((c.stages >> %d) & 1), 0)::int", i))
	}
	return append(cols, "coalesce(sum(c.recovered), 0)::int")
}

// targetCounts count, per share target, the cases offered it, that clicked it
// and that shared it; the other stages and recoveries are 0.
func targetCounts() []string {
	cols := make([]string, 0, len(bot.Stages)+1)
	for _, s := range bot.Stages {
		switch s {
		case "offered":
			cols = append(cols, "count(DISTINCT o.case_id)::int")
		case "clicked":
			cols = append(cols, "count(DISTINCT CASE WHEN o.clicked = 1 THEN o.case_id END)::int")
		case "shared":
			cols = append(cols, "count(DISTINCT CASE WHEN o.shared = 1 THEN o.case_id END)::int")
		default:
			cols = append(cols, "0")
		}
	}
	return append(cols, "0")
}

// funnelWhere selects the cases (aliased c) a FunnelQuery covers.
func funnelWhere(q bot.FunnelQuery) *where {
	w := timeWhere(q.Since, q.Until)
	if q.Platform != "" {
		w.add("c.platform = " + w.arg(q.Platform))
	}
	if q.Channel != "" {
		w.add("c.public_channel = " + w.arg(q.Channel))
	}
	return w
}
