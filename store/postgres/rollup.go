package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/advocate-bot/advocate/bot"
)

// The dashboard's roll-ups (migration 00021): dashboard_daily, one row per
// UTC day of opening, platform and public channel, and dashboard_staff, one
// per day and assignee. Triggers append the day of every case or rating that
// changes to dashboard_dirty, in the changing transaction. The invariant that
// makes them safe with several instances: in any snapshot, a day without a
// mark has roll-up rows that count exactly the cases that snapshot sees. A
// read therefore computes the marked days from their cases and the rest from
// the roll-ups, in one snapshot; a refresh rewrites the marked days in a
// REPEATABLE READ transaction and deletes only the marks it saw, so a change
// committed meanwhile keeps its mark. Two refreshes of one day cannot both
// commit: the second fails on the first's rows and gives way.

const dayMs = int64(24 * time.Hour / time.Millisecond)

// rollup is one roll-up table: its key columns and their values over the
// cases (aliased c).
type rollup struct {
	table string
	keys  []string
	exprs []string
}

var (
	dailyRollup = rollup{table: "dashboard_daily", keys: []string{"day", "platform", "channel"},
		exprs: []string{"c.opened_at / 86400000", "c.platform", "c.public_channel"}}
	staffRollup = rollup{table: "dashboard_staff", keys: []string{"day", "assignee"},
		exprs: []string{"c.opened_at / 86400000", "c.assignee"}}
	rollups = []rollup{dailyRollup, staffRollup}
)

// score is one rating column of the roll-ups: a scale and a score.
type score struct {
	scale bot.Scale
	n     int
}

// column is the roll-ups' column name of s.
func (s score) column() string { return string(s.scale) + "_" + strconv.Itoa(s.n) }

// scores are the roll-ups' rating columns, ordered by scale name and score:
// CES 1-7, CSAT 1-5, NPS 0-10.
func scores() []score {
	var out []score
	for _, s := range []struct {
		scale    bot.Scale
		min, max int
	}{{bot.CES, 1, 7}, {bot.CSAT, 1, 5}, {bot.NPS, 0, 10}} {
		for n := s.min; n <= s.max; n++ {
			out = append(out, score{s.scale, n})
		}
	}
	return out
}

// scoreColumns are the names of scores().
func scoreColumns() []string {
	var cols []string
	for _, s := range scores() {
		cols = append(cols, s.column())
	}
	return cols
}

// timeColumns are the roll-ups' histogram columns: first response, then resolution.
func timeColumns() []string {
	cols := make([]string, 0, 2*timeBuckets)
	for _, m := range []string{"first_", "resolve_"} {
		for i := range timeBuckets {
			cols = append(cols, m+strconv.Itoa(i))
		}
	}
	return cols
}

// stageColumns are the roll-ups' funnel columns: the stages, then recoveries.
// They are named after the stages: a stage renamed in bot without a
// migration fails ("column does not exist") instead of counting zero.
func stageColumns() []string { return append(slices.Clone(bot.Stages), "recovered") }

// caseColumns are the roll-ups' columns counted from the cases alone.
func caseColumns() []string {
	return append(append([]string{"cases"}, stageColumns()...), timeColumns()...)
}

// aggregate is the SQL computing roll-up column col over a group of cases c,
// each with its time buckets b.f and b.v and its rating counts s (fromCases).
func aggregate(col string) string {
	if i := slices.Index(bot.Stages, col); i >= 0 {
		return fmt.Sprintf("count(*) FILTER (WHERE c.stages & %d <> 0)", int64(1)<<i)
	}
	name, n, _ := strings.Cut(col, "_")
	switch name {
	case "cases":
		return "count(*)"
	case "recovered":
		return "sum(c.recovered)"
	case "first":
		return "count(*) FILTER (WHERE b.f = " + n + ")"
	case "resolve":
		return "count(*) FILTER (WHERE b.v = " + n + ")"
	}
	return "coalesce(sum(s." + col + "), 0)"
}

// ratingCount is the SQL counting one case's ratings r of rating column
// col's scale and score, named col.
func ratingCount(col string) string {
	name, n, _ := strings.Cut(col, "_")
	return "count(*) FILTER (WHERE r.scale = '" + name + "' AND r.score = " + n + ")::int AS " + col
}

// fromCases is the SELECT of r's rows, keys then cols, computed from the
// cases (aliased c) that cond selects, or from every case when cond is "".
// Each case's time buckets and rating counts are computed once: the latter
// from its own ratings (an index look-up each), or for every case from all
// the ratings grouped by case (one pass over them).
func fromCases(r rollup, cols []string, cond string) string {
	sel := make([]string, 0, len(r.keys)+len(cols))
	group := make([]string, len(r.keys))
	for i, k := range r.keys {
		sel = append(sel, r.exprs[i]+" AS "+k)
		group[i] = strconv.Itoa(i + 1)
	}
	var counts []string
	times := false
	for _, c := range cols {
		sel = append(sel, aggregate(c)+" AS "+c)
		if slices.Contains(scoreColumns(), c) {
			counts = append(counts, ratingCount(c))
		}
		times = times || slices.Contains(timeColumns(), c)
	}
	from := " FROM cases c"
	if times {
		// Bucket i holds the times at or above bound i-1 and below bound i:
		// width_bucket counts the bounds at or below a time. OFFSET 0 keeps
		// the planner from copying the subquery into each column.
		const bounds = "(SELECT array_agg(below_ms ORDER BY bucket) FROM dashboard_time_bounds)"
		from += " CROSS JOIN LATERAL (SELECT width_bucket(c.first_response_at - c.opened_at, " + bounds +
			") AS f, width_bucket(c.resolved_at - c.opened_at, " + bounds + ") AS v OFFSET 0) b"
	}
	switch {
	case len(counts) > 0 && cond == "":
		from += " LEFT JOIN (SELECT r.case_id, " + strings.Join(counts, ", ") + " FROM ratings r GROUP BY r.case_id) s ON s.case_id = c.id"
	case len(counts) > 0:
		from += " CROSS JOIN LATERAL (SELECT " + strings.Join(counts, ", ") + " FROM ratings r WHERE r.case_id = c.id) s"
	}
	if cond != "" {
		from += " WHERE " + cond
	}
	return "SELECT " + strings.Join(sel, ", ") + from + " GROUP BY " + strings.Join(group, ", ")
}

// span is a run of days [from, to).
type span struct{ from, to int64 }

// maxSpans bounds the runs of marked days a statement names one by one;
// more are read as one run from the first to the last (the days between
// are computed from their cases too, which gives the same answer).
const maxSpans = 8

// spansOf groups days into runs of consecutive days, in order.
func spansOf(days []int64) []span {
	days = slices.Sorted(slices.Values(days))
	var out []span
	for _, d := range days {
		if n := len(out); n > 0 && out[n-1].to >= d {
			out[n-1].to = max(out[n-1].to, d+1)
			continue
		}
		out = append(out, span{d, d + 1})
	}
	if len(out) > maxSpans {
		out = []span{{out[0].from, out[len(out)-1].to}}
	}
	return out
}

// spanConds are the conditions selecting the days of spans from the cases
// (aliased c, by their opening) and from a roll-up (by day), with the same
// arguments added to w: "false" for no span. Days are bigint parameters, so
// that the planner's estimate for a range, even in a generic plan, leads it
// to the index on the opening time.
func spanConds(w *where, spans []span) (cases, days string) {
	if len(spans) == 0 {
		return "false", "false"
	}
	var cs, ds []string
	for _, s := range spans {
		from, to := w.arg(s.from), w.arg(s.to)
		cs = append(cs, "(c.opened_at >= "+from+"::bigint * 86400000 AND c.opened_at < "+to+"::bigint * 86400000)")
		ds = append(ds, "(day >= "+from+" AND day < "+to+")")
	}
	return "(" + strings.Join(cs, " OR ") + ")", "(" + strings.Join(ds, " OR ") + ")"
}

// rewriteSQL is the statements that replace the roll-up rows of the days
// that w's conditions select (every day when days is "") with rows computed
// from the cases, then delete those days' marks (those the transaction sees).
func rewriteSQL(cases, days string) []string {
	where := ""
	if days != "" {
		where = " WHERE " + days
	}
	cols := append(caseColumns(), scoreColumns()...)
	var stmts []string
	for _, r := range rollups {
		stmts = append(stmts, "DELETE FROM "+r.table+where,
			"INSERT INTO "+r.table+" ("+strings.Join(append(slices.Clone(r.keys), cols...), ", ")+") "+
				fromCases(r, cols, cases))
	}
	stmts = append(stmts, "DELETE FROM dashboard_experiments"+where,
		"INSERT INTO dashboard_experiments (day, platform, channel, experiment, variant, offered, clicked, shared) "+
			experimentsFromCases(cases))
	return append(stmts, "DELETE FROM dashboard_dirty"+where)
}

// querier is a pgx.Tx or a connection.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// dirtyDays lists the marked days in [since, until) (zero: unbounded), as
// the caller's snapshot sees them.
func dirtyDays(ctx context.Context, q querier, since, until time.Time) ([]int64, error) {
	w := &where{}
	if !since.IsZero() {
		w.add("day >= " + w.arg(dayOf(since)))
	}
	if !until.IsZero() {
		w.add("day < " + w.arg(dayOf(until)))
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT day FROM dashboard_dirty`+w.sql(), w.args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// dayOf is the roll-ups' day of t, as the triggers compute it: days since
// 1970-01-01 UTC.
func dayOf(t time.Time) int64 { return t.UnixMilli() / dayMs }

// rebuildDays is how many marked days a refresh rewrites day by day; with
// more (a database upgraded, a staff member forgotten) it rewrites them all.
const rebuildDays = 62

// refreshLock names the transaction lock a refresh tries first, per schema,
// so that instances reading the dashboard at once do not all redo one day.
const refreshLock = `SELECT pg_try_advisory_xact_lock(hashtextextended('advocate dashboard ' || current_schema(), 0))`

// refreshDashboard rewrites the roll-up rows of the marked days, if any
// (typically today's and a few recent days', a few thousand cases), and
// deletes the marks it saw. Reads are right without it; it keeps the days
// they compute from the cases few. A refresh that loses a race to another
// gives way: the other one, or the next, catches up.
func (db *DB) refreshDashboard(ctx context.Context) error {
	var dirty bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM dashboard_dirty)`).Scan(&dirty); err != nil {
		return fmt.Errorf("store: dashboard refresh: %w", err)
	}
	if !dirty {
		return nil
	}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(t pgx.Tx) error {
		var mine bool
		if err := t.QueryRow(ctx, refreshLock).Scan(&mine); err != nil || !mine {
			return err
		}
		days, err := dirtyDays(ctx, t, time.Time{}, time.Time{})
		if err != nil || len(days) == 0 {
			return err
		}
		if len(days) > rebuildDays {
			days = nil // one pass over every case beats looking each one's ratings up
		}
		return rewrite(ctx, t, days)
	})
	switch pgCode(err) {
	case "":
		if err != nil {
			return fmt.Errorf("store: dashboard refresh: %w", err)
		}
		return nil
	case "40001", "40P01", codeUnique: // another refresh rewrote these days first
		db.log.DebugContext(ctx, "dashboard refresh gave way to another", "err", err)
		return nil
	}
	return fmt.Errorf("store: dashboard refresh: %w", err)
}

// rewrite rewrites both roll-ups' rows of days (every day when days is nil)
// and deletes the marks of those days that t sees.
func rewrite(ctx context.Context, t querier, days []int64) error {
	w := &where{}
	var cases, marked string
	if days != nil {
		cases, marked = spanConds(w, spansOf(days))
	}
	for _, s := range rewriteSQL(cases, marked) {
		if _, err := t.Exec(ctx, s, w.args...); err != nil {
			return err
		}
	}
	return nil
}

// RebuildDashboard recomputes the roll-ups from all the cases and ratings in
// one REPEATABLE READ transaction: a repair, should they ever disagree with
// the cases.
func (db *DB) RebuildDashboard(ctx context.Context) error {
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(t pgx.Tx) error {
		return rewrite(ctx, t, nil)
	})
	if err != nil {
		return fmt.Errorf("store: rebuild dashboard: %w", err)
	}
	return nil
}
