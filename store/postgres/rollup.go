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

// aggregate is the SQL computing roll-up column col over a group of cases c
// (joined with their ratings r for a rating column, with their time buckets
// b.f and b.v for a histogram column).
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
	return "count(*) FILTER (WHERE r.scale = '" + name + "' AND r.score = " + n + ")"
}

// fromCases is the SELECT of r's rows, keys then cols, computed from the
// cases opened on the days of the bigint[] parameter days, or from every
// case when days is "". cols are either rating columns or case columns.
func fromCases(r rollup, cols []string, days string) string {
	sel := make([]string, 0, len(r.keys)+len(cols))
	group := make([]string, len(r.keys))
	for i, k := range r.keys {
		sel = append(sel, r.exprs[i]+" AS "+k)
		group[i] = strconv.Itoa(i + 1)
	}
	ratings, times := false, false
	for _, c := range cols {
		sel = append(sel, aggregate(c)+" AS "+c)
		ratings = ratings || slices.Contains(scoreColumns(), c)
		times = times || slices.Contains(timeColumns(), c)
	}
	from := " FROM cases c"
	if days != "" {
		from = " FROM unnest(" + days + "::bigint[]) d (day) JOIN cases c" +
			" ON c.opened_at >= d.day * 86400000 AND c.opened_at < (d.day + 1) * 86400000"
	}
	if ratings {
		from += " JOIN ratings r ON r.case_id = c.id"
	}
	if times {
		// Bucket i holds the times at or above bound i-1 and below bound i:
		// width_bucket counts the bounds at or below a time.
		const bounds = "(SELECT array_agg(below_ms ORDER BY bucket) FROM dashboard_time_bounds)"
		from += " CROSS JOIN LATERAL (SELECT width_bucket(c.first_response_at - c.opened_at, " + bounds +
			") AS f, width_bucket(c.resolved_at - c.opened_at, " + bounds + ") AS v) b"
	}
	return "SELECT " + strings.Join(sel, ", ") + from + " GROUP BY " + strings.Join(group, ", ")
}

// rewriteSQL replaces r's rows of the days in $1 (every day when all) with
// rows computed from the cases.
func rewriteSQL(r rollup, all bool) []string {
	del, days := "DELETE FROM "+r.table+" WHERE day = ANY($1)", "$1"
	if all {
		del, days = "DELETE FROM "+r.table, ""
	}
	scores := scoreColumns()
	sets := make([]string, len(scores))
	for i, c := range scores {
		sets[i] = c + " = excluded." + c
	}
	keys := strings.Join(r.keys, ", ")
	return []string{
		del,
		"INSERT INTO " + r.table + " (" + keys + ", " + strings.Join(caseColumns(), ", ") + ") " +
			fromCases(r, caseColumns(), days),
		// Every rated case was counted above: its row is there to update.
		"INSERT INTO " + r.table + " (" + keys + ", " + strings.Join(scores, ", ") + ") " +
			fromCases(r, scores, days) + " ON CONFLICT (" + keys + ") DO UPDATE SET " + strings.Join(sets, ", "),
	}
}

// querier is a pgx.Tx or a connection.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
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
	var stmts []string
	for _, r := range rollups {
		stmts = append(stmts, rewriteSQL(r, days == nil)...)
	}
	marks := "DELETE FROM dashboard_dirty"
	if days != nil {
		marks += " WHERE day = ANY($1)"
	}
	for _, s := range append(stmts, marks) {
		var err error
		if days == nil {
			_, err = t.Exec(ctx, s)
		} else {
			_, err = t.Exec(ctx, s, days)
		}
		if err != nil {
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
