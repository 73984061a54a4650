package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// The dashboard's queries. Most read the roll-ups of migration 00002:
// dashboard_daily, one row per UTC day of opening, platform and public
// channel, and dashboard_staff, one row per day and assignee. Triggers mark
// the day of every case or rating that changes in dashboard_dirty; before a
// query reads the roll-ups, refreshDashboard recomputes the marked days from
// their cases. A query the roll-ups cannot answer (a period that is not whole
// UTC days, a grouping by share target, staff with a platform or channel
// filter) reads the cases instead and gives the same answer, slower.

const dayMs = int64(24 * time.Hour / time.Millisecond)

// scoreColumns are the roll-up's rating columns, ordered by scale name and
// score: CES 1-7, CSAT 1-5, NPS 0-10.
func scoreColumns() (cols []string, scales []bot.Scale, scores []int) {
	for _, s := range []struct {
		scale    bot.Scale
		min, max int
	}{{bot.CES, 1, 7}, {bot.CSAT, 1, 5}, {bot.NPS, 0, 10}} {
		for n := s.min; n <= s.max; n++ {
			cols = append(cols, string(s.scale)+"_"+strconv.Itoa(n))
			scales, scores = append(scales, s.scale), append(scores, n)
		}
	}
	return cols, scales, scores
}

// timeBuckets is how many first_<i> (and resolve_<i>) columns the roll-ups have.
const timeBuckets = 24

// timeColumns are the roll-ups' histogram columns: first-response, then resolution.
func timeColumns() []string {
	cols := make([]string, 0, 2*timeBuckets)
	for _, m := range []string{"first_", "resolve_"} {
		for i := range timeBuckets {
			cols = append(cols, m+strconv.Itoa(i))
		}
	}
	return cols
}

// caseColumns are the roll-ups' per-case counts: cases, stages, recoveries, times.
func caseColumns() []string {
	cols := append([]string{"cases"}, bot.Stages...)
	return append(append(cols, "recovered"), timeColumns()...)
}

// casesKey is a grouping's expression over cases (aliased c), as Funnel groups.
func casesKey(name string) (string, bool) {
	switch name {
	case "platform":
		return "c.platform", true
	case "channel":
		return "c.public_channel", true
	case "staff":
		return "c.assignee", true
	case "week":
		return "c.opened_week", true
	}
	return "", false
}

// rollupFor names the roll-up that can answer q, if one can: whole UTC days,
// and groupings the roll-up has. A week is grouped by day and named in Go.
func rollupFor(q bot.FunnelQuery) (table string, keys []string, ok bool) {
	for _, t := range []time.Time{q.Since, q.Until} {
		if !t.IsZero() && t.UnixMilli()%dayMs != 0 {
			return "", nil, false
		}
	}
	table = "dashboard_daily"
	if slices.Contains(q.GroupBy, "staff") {
		if q.Platform != "" || q.Channel != "" {
			return "", nil, false
		}
		table = "dashboard_staff"
	}
	for _, g := range q.GroupBy {
		switch {
		case g == "week":
			keys = append(keys, "day")
		case g == "staff":
			keys = append(keys, "assignee")
		case (g == "platform" || g == "channel") && table == "dashboard_daily":
			keys = append(keys, g)
		default:
			return "", nil, false
		}
	}
	return table, keys, true
}

// dashQuery is the SELECT over a roll-up for q: the group keys, then sums of
// cols, grouped by the keys (a day standing for its week).
func dashQuery(table string, keys []string, q bot.FunnelQuery, sums []string) (string, []any) {
	cols := slices.Clone(keys)
	for _, s := range sums {
		cols = append(cols, "coalesce(sum("+s+"), 0)")
	}
	where, args := dayWhere(q)
	query := "SELECT " + strings.Join(cols, ", ") + " FROM " + table + where
	if len(keys) > 0 {
		// A group whose cases all moved to another (a case claimed by someone
		// else) keeps a row of zeros: it has no case.
		query += " GROUP BY " + strings.Join(keys, ", ") + " HAVING sum(cases) > 0"
	}
	return query, args
}

// dayWhere selects a roll-up's rows of q's days, platform and channel: "",
// or a WHERE clause with a leading space.
func dayWhere(q bot.FunnelQuery) (string, []any) {
	var conds []string
	var args []any
	if !q.Since.IsZero() {
		conds, args = append(conds, "day >= ?"), append(args, q.Since.UnixMilli()/dayMs)
	}
	if !q.Until.IsZero() {
		conds, args = append(conds, "day < ?"), append(args, q.Until.UnixMilli()/dayMs)
	}
	if q.Platform != "" {
		conds, args = append(conds, "platform = ?"), append(args, q.Platform)
	}
	if q.Channel != "" {
		conds, args = append(conds, "channel = ?"), append(args, q.Channel)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// rollupRows answers q from a roll-up: it sums cols per group and calls fn
// with each group's keys (named as Funnel names them) and sums, ordered by
// keys. ok is false when no roll-up can answer q.
func (db *DB) rollupRows(ctx context.Context, q bot.FunnelQuery, cols []string,
	fn func(keys []string, vals []int64) error) (ok bool, err error) {
	table, keys, ok := rollupFor(q)
	if !ok {
		return false, nil
	}
	if err := db.refreshDashboard(ctx); err != nil {
		return true, err
	}
	query, args := dashQuery(table, keys, q, cols)
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return true, err
	}
	defer rows.Close()
	type row struct {
		keys []string
		vals []int64
	}
	var out []*row
	byKeys := map[string]*row{}
	nk := len(keys)
	for rows.Next() {
		r := &row{keys: make([]string, nk), vals: make([]int64, len(cols))}
		dest := make([]any, 0, nk+len(cols))
		for i := range r.keys {
			dest = append(dest, &r.keys[i])
		}
		for i := range r.vals {
			dest = append(dest, &r.vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return true, err
		}
		for i, g := range q.GroupBy {
			if g == "week" {
				day, err := strconv.ParseInt(r.keys[i], 10, 64)
				if err != nil {
					return true, fmt.Errorf("day %q: %w", r.keys[i], err)
				}
				r.keys[i] = isoWeek(time.UnixMilli(day * dayMs)) // as cases.opened_week names it
			}
		}
		id := strings.Join(r.keys, "\x00")
		if have := byKeys[id]; have != nil { // another day of the same week
			for i, v := range r.vals {
				have.vals[i] += v
			}
			continue
		}
		byKeys[id] = r
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return true, err
	}
	slices.SortFunc(out, func(a, b *row) int { return slices.Compare(a.keys, b.keys) })
	for _, r := range out {
		if err := fn(r.keys, r.vals); err != nil {
			return true, err
		}
	}
	return true, nil
}

// casesWhere selects the cases (aliased c) q covers, as Funnel does.
func casesWhere(q bot.FunnelQuery) (string, []any) {
	var conds []string
	var args []any
	if !q.Since.IsZero() {
		conds, args = append(conds, "c.opened_at >= ?"), append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		conds, args = append(conds, "c.opened_at < ?"), append(args, q.Until.UnixMilli())
	}
	if q.Platform != "" {
		conds, args = append(conds, "c.platform = ?"), append(args, q.Platform)
	}
	if q.Channel != "" {
		conds, args = append(conds, "c.public_channel = ?"), append(args, q.Channel)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// DashboardFunnel returns what Funnel returns for q, from a roll-up when one
// can answer q (a few thousand rows for any period), otherwise from Funnel.
func (db *DB) DashboardFunnel(ctx context.Context, q bot.FunnelQuery) ([]bot.FunnelRow, error) {
	var out []bot.FunnelRow
	// The columns are named after the stages: a stage renamed in bot without a
	// migration fails here ("no such column") instead of counting zero.
	cols := append(slices.Clone(bot.Stages), "recovered")
	ok, err := db.rollupRows(ctx, q, cols, func(keys []string, vals []int64) error {
		r := bot.FunnelRow{Keys: keys, Counts: make([]int, len(bot.Stages)), Recoveries: int(vals[len(bot.Stages)])}
		for i := range bot.Stages {
			r.Counts[i] = int(vals[i])
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: dashboard funnel: %w", err)
	}
	if !ok {
		return db.Funnel(ctx, q)
	}
	return out, nil
}

// Channels lists the platforms and public channels that cases were asked in
// (Channel "" for cases opened privately), ordered, for the dashboard's filter.
func (db *DB) Channels(ctx context.Context) ([]bot.Ref, error) {
	if err := db.refreshDashboard(ctx); err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT platform, channel FROM dashboard_daily WHERE cases > 0 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	defer rows.Close()
	var out []bot.Ref
	for rows.Next() {
		var r bot.Ref
		if err := rows.Scan(&r.Platform, &r.Channel); err != nil {
			return nil, fmt.Errorf("store: channels: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	return out, nil
}

// RatingCounts calls fn, for each group of the cases q selects (ordered by
// keys) and each scale and score their ratings have, with the number of
// ratings. Every round's rating counts: a case rated unhappy, then satisfied
// after it was reopened, counts twice.
func (db *DB) RatingCounts(ctx context.Context, q bot.FunnelQuery,
	fn func(keys []string, scale bot.Scale, score, n int) error) error {
	if err := validGroups(q); err != nil {
		return err
	}
	ok, err := db.rollupRatings(ctx, q, fn)
	if err == nil && !ok {
		err = db.scanRatings(ctx, q, fn)
	}
	if err != nil {
		return fmt.Errorf("store: rating counts: %w", err)
	}
	return nil
}

func (db *DB) rollupRatings(ctx context.Context, q bot.FunnelQuery,
	fn func(keys []string, scale bot.Scale, score, n int) error) (bool, error) {
	cols, scales, scores := scoreColumns()
	return db.rollupRows(ctx, q, cols, func(keys []string, vals []int64) error {
		for i, n := range vals {
			if n != 0 {
				if err := fn(keys, scales[i], scores[i], int(n)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (db *DB) scanRatings(ctx context.Context, q bot.FunnelQuery,
	fn func(keys []string, scale bot.Scale, score, n int) error) error {
	keys := casesKeys(q.GroupBy)
	w, args := casesWhere(q)
	group := strings.Join(append(slices.Clone(keys), "r.scale", "r.score"), ", ")
	query := "SELECT " + group + ", count(*) FROM ratings r JOIN cases c ON c.id = r.case_id" + w +
		" GROUP BY " + group + " ORDER BY " + group
	var scale string
	var score, n int64
	return db.scanGroups(ctx, len(keys), query, args, func(keys []string, _ []any) error {
		return fn(keys, bot.Scale(scale), int(score), int(n))
	}, &scale, &score, &n)
}

// ResponseTimes calls fn, for each group of the cases q selects (ordered by
// keys), with histograms of their times from opening to the first staff
// response and to the (last) resolution: firstResponse[i] and resolution[i]
// count the cases whose time is below bounds[i] and at or above bounds[i-1];
// the last bucket, one past the bounds, has no upper bound. Cases not yet
// answered (resolved) are not counted in firstResponse (resolution).
func (db *DB) ResponseTimes(ctx context.Context, q bot.FunnelQuery,
	fn func(keys []string, bounds []time.Duration, firstResponse, resolution []int) error) error {
	if err := validGroups(q); err != nil {
		return err
	}
	bounds, err := db.timeBounds(ctx)
	if err != nil {
		return fmt.Errorf("store: response times: %w", err)
	}
	ok, err := db.rollupTimes(ctx, q, bounds, fn)
	if err == nil && !ok {
		err = db.scanTimes(ctx, q, bounds, fn)
	}
	if err != nil {
		return fmt.Errorf("store: response times: %w", err)
	}
	return nil
}

// rollupTimes is ResponseTimes read from a roll-up; false when none can answer q.
func (db *DB) rollupTimes(ctx context.Context, q bot.FunnelQuery, bounds []time.Duration,
	fn func(keys []string, bounds []time.Duration, firstResponse, resolution []int) error) (bool, error) {
	return db.rollupRows(ctx, q, timeColumns(), func(keys []string, vals []int64) error {
		first, res := make([]int, timeBuckets), make([]int, timeBuckets)
		for i := range timeBuckets {
			first[i], res[i] = int(vals[i]), int(vals[timeBuckets+i])
		}
		return fn(keys, bounds, first, res)
	})
}

// scanTimes is ResponseTimes read from the cases.
func (db *DB) scanTimes(ctx context.Context, q bot.FunnelQuery, bounds []time.Duration,
	fn func(keys []string, bounds []time.Duration, firstResponse, resolution []int) error) error {
	keys := casesKeys(q.GroupBy)
	w, args := casesWhere(q)
	sel := append(slices.Clone(keys), timeBucket("c.first_response_at - c.opened_at", bounds),
		timeBucket("c.resolved_at - c.opened_at", bounds), "count(*)")
	group := append(slices.Clone(keys), strconv.Itoa(len(keys)+1), strconv.Itoa(len(keys)+2))
	query := "SELECT " + strings.Join(sel, ", ") + " FROM cases c" + w + " GROUP BY " + strings.Join(group, ", ")
	type hist struct {
		keys       []string
		first, res []int
	}
	byKeys := map[string]*hist{}
	err := db.scanGroups(ctx, len(keys), query, args, func(k []string, rest []any) error {
		id := strings.Join(k, "\x00")
		h := byKeys[id]
		if h == nil {
			h = &hist{keys: k, first: make([]int, timeBuckets), res: make([]int, timeBuckets)}
			byKeys[id] = h
		}
		fb, rb, n := *rest[0].(*int64), *rest[1].(*int64), int(*rest[2].(*int64))
		if fb >= 0 && fb < timeBuckets {
			h.first[fb] += n
		}
		if rb >= 0 && rb < timeBuckets {
			h.res[rb] += n
		}
		return nil
	}, new(int64), new(int64), new(int64))
	if err != nil {
		return err
	}
	hs := slices.Collect(maps.Values(byKeys))
	slices.SortFunc(hs, func(a, b *hist) int { return slices.Compare(a.keys, b.keys) })
	if len(hs) == 0 && len(keys) == 0 {
		hs = append(hs, &hist{first: make([]int, timeBuckets), res: make([]int, timeBuckets)})
	}
	for _, h := range hs {
		if err := fn(h.keys, bounds, h.first, h.res); err != nil {
			return err
		}
	}
	return nil
}

// timeBounds reads the roll-up's time bucket bounds.
func (db *DB) timeBounds(ctx context.Context) ([]time.Duration, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT below_ms FROM dashboard_time_bounds ORDER BY bucket`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, time.Duration(v)*time.Millisecond)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) != timeBuckets-1 {
		return nil, fmt.Errorf("%d time bounds, want %d", len(out), timeBuckets-1)
	}
	return out, nil
}

// timeBucket is the SQL for the bucket of a duration d in milliseconds: -1
// for NULL (not yet), else the number of bounds at or below it, as the
// migration's triggers count it (a CASE here runs faster over many rows than
// their subquery).
func timeBucket(d string, bounds []time.Duration) string {
	var b strings.Builder
	b.WriteString("CASE WHEN " + d + " IS NULL THEN -1")
	for i, bound := range bounds {
		fmt.Fprintf(&b, " WHEN %s < %d THEN %d", d, bound.Milliseconds(), i)
	}
	fmt.Fprintf(&b, " ELSE %d END", len(bounds))
	return b.String()
}

// validGroups refuses a grouping the dashboard queries do not know.
func validGroups(q bot.FunnelQuery) error {
	for _, g := range q.GroupBy {
		if _, ok := casesKey(g); !ok {
			return fmt.Errorf("store: unknown grouping %q (want platform, channel, staff or week)", g)
		}
	}
	return nil
}

func casesKeys(groupBy []string) []string {
	keys := make([]string, 0, len(groupBy))
	for _, g := range groupBy {
		expr, _ := casesKey(g)
		keys = append(keys, "coalesce("+expr+", '')")
	}
	return keys
}

// scanGroups runs query and calls fn with each row's nk string keys and the
// rest scanned into dest.
func (db *DB) scanGroups(ctx context.Context, nk int, query string, args []any,
	fn func(keys []string, rest []any) error, dest ...any) error {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		keys := make([]string, nk)
		all := make([]any, 0, nk+len(dest))
		for i := range keys {
			all = append(all, &keys[i])
		}
		if err := rows.Scan(append(all, dest...)...); err != nil {
			return err
		}
		if err := fn(keys, dest); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Testimonials calls fn with the shared events recorded in q's period (by
// the time they were shared) on the cases matching q's platform and channel,
// newest first, from offset up to limit of them (limit <= 0: all), each with
// its offer (zero if it is gone), and returns how many there are in all.
// The event's detail is the consent record as it was logged: the exact text,
// consented_at and the public message.
func (db *DB) Testimonials(ctx context.Context, q bot.FunnelQuery, offset, limit int,
	fn func(e bot.CaseEvent, o bot.Offer) error) (int, error) {
	t, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("store: testimonials: %w", err)
	}
	defer t.Rollback() //nolint:errcheck // read-only
	conds := []string{"e.kind = ?"}
	args := []any{bot.KindShared}
	if !q.Since.IsZero() {
		conds, args = append(conds, "e.at >= ?"), append(args, q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		conds, args = append(conds, "e.at < ?"), append(args, q.Until.UnixMilli())
	}
	if q.Platform != "" {
		conds, args = append(conds, "c.platform = ?"), append(args, q.Platform)
	}
	if q.Channel != "" {
		conds, args = append(conds, "c.public_channel = ?"), append(args, q.Channel)
	}
	from := ` FROM case_events e JOIN cases c ON c.id = e.case_id WHERE ` + strings.Join(conds, " AND ")
	var total int
	if err := t.QueryRowContext(ctx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
		return 0, fmt.Errorf("store: testimonials: %w", err)
	}
	rows, err := t.QueryContext(ctx, `SELECT `+eventCols+from+` ORDER BY e.at DESC, e.id DESC LIMIT ? OFFSET ?`,
		append(args, sqlLimit(limit), max(offset, 0))...)
	if err != nil {
		return 0, fmt.Errorf("store: testimonials: %w", err)
	}
	var events []bot.CaseEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: testimonials: %w", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return 0, fmt.Errorf("store: testimonials: %w", err)
	}
	rows.Close()
	for _, e := range events {
		var o bot.Offer
		var ref struct {
			Offer int64 `json:"offer"`
		}
		if fromJSON(string(e.Detail), &ref) == nil && ref.Offer != 0 {
			found, err := scanOffer(t.QueryRowContext(ctx, `SELECT `+offerCols+` FROM offers WHERE id = ?`, ref.Offer))
			switch {
			case err == nil:
				o = *found
			case !errors.Is(err, sql.ErrNoRows):
				return 0, fmt.Errorf("store: testimonials: offer %d: %w", ref.Offer, err)
			}
		}
		if err := fn(e, o); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// RebuildDashboard recomputes the roll-ups from all the cases and ratings,
// in one transaction: a repair, should they ever disagree with the cases.
func (db *DB) RebuildDashboard(ctx context.Context) error {
	return db.recompute(ctx, true)
}

// refreshDashboard recomputes the roll-ups' rows of the days marked dirty, if
// any: typically today's and a few recent days', a few thousand cases.
func (db *DB) refreshDashboard(ctx context.Context) error {
	var dirty bool
	err := db.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM dashboard_dirty)`).Scan(&dirty)
	if err != nil {
		return fmt.Errorf("store: dashboard: %w", err)
	}
	if !dirty {
		return nil
	}
	return db.recompute(ctx, false)
}

// recompute rewrites the roll-up rows of the dirty days, or of every day, in
// a write transaction (so no change slips between reading the cases and
// clearing the marks).
func (db *DB) recompute(ctx context.Context, all bool) error {
	bounds, err := db.timeBounds(ctx)
	if err != nil {
		return fmt.Errorf("store: dashboard: %w", err)
	}
	t, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: dashboard: %w", err)
	}
	defer t.Rollback() //nolint:errcheck // a no-op after Commit
	stmts := refreshSQL(bounds)
	if all {
		stmts = append([]string{
			`DELETE FROM dashboard_daily`, `DELETE FROM dashboard_staff`, `DELETE FROM dashboard_experiments`,
			`INSERT OR IGNORE INTO dashboard_dirty (day) SELECT DISTINCT opened_at / 86400000 FROM cases`,
		}, stmts...)
	}
	for _, q := range stmts {
		if _, err := t.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: dashboard: %w", err)
		}
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("store: dashboard: %w", err)
	}
	return nil
}

// keyAs is "expr AS key" for each key.
func keyAs(exprs, keys []string) []string {
	out := make([]string, len(keys))
	for i := range keys {
		out[i] = exprs[i] + " AS " + keys[i]
	}
	return out
}

// refreshSQL recomputes both roll-ups' rows for the days in dashboard_dirty
// from the cases opened on those days (a range of cases_funnel each), then
// clears the marks.
func refreshSQL(bounds []time.Duration) []string {
	scoreCols, scales, scores := scoreColumns()
	const dirtyCases = ` FROM dashboard_dirty d JOIN cases c
		ON c.opened_at >= d.day * 86400000 AND c.opened_at < (d.day + 1) * 86400000`
	var stmts []string
	for _, t := range []struct {
		table string
		keys  []string // roll-up key columns
		exprs []string // their values from cases (aliased c)
	}{
		{"dashboard_daily", []string{"day", "platform", "channel"}, []string{"c.opened_at / 86400000", "c.platform", "c.public_channel"}},
		{"dashboard_staff", []string{"day", "assignee"}, []string{"c.opened_at / 86400000", "c.assignee"}},
	} {
		group := make([]string, len(t.keys))
		for i := range group {
			group[i] = strconv.Itoa(i + 1)
		}
		sums := []string{"count(*)"}
		for i := range bot.Stages {
			sums = append(sums, fmt.Sprintf("sum((stages >> %d) & 1)", i))
		}
		sums = append(sums, "sum(recovered)")
		for _, v := range []string{"f", "v"} {
			for i := range timeBuckets {
				sums = append(sums, fmt.Sprintf("sum(%s = %d)", v, i))
			}
		}
		rsums := make([]string, len(scoreCols))
		sets := make([]string, len(scoreCols))
		for i, c := range scoreCols {
			rsums[i] = fmt.Sprintf("sum(r.scale = '%s' AND r.score = %d)", scales[i], scores[i])
			sets[i] = c + " = " + c + " + excluded." + c
		}
		// The cases' buckets are materialized: a subquery would be flattened,
		// and its CASE copied into each of the 48 sums that read it.
		stmts = append(stmts,
			"DELETE FROM "+t.table+" WHERE day IN (SELECT day FROM dashboard_dirty)",
			"WITH x AS MATERIALIZED (SELECT "+strings.Join(keyAs(t.exprs, t.keys), ", ")+
				", c.stages AS stages, c.recovered AS recovered, "+
				timeBucket("c.first_response_at - c.opened_at", bounds)+" AS f, "+
				timeBucket("c.resolved_at - c.opened_at", bounds)+" AS v"+dirtyCases+") "+
				"INSERT INTO "+t.table+" ("+strings.Join(append(slices.Clone(t.keys), caseColumns()...), ", ")+") SELECT "+
				strings.Join(append(slices.Clone(t.keys), sums...), ", ")+" FROM x GROUP BY "+strings.Join(group, ", "),
			"INSERT INTO "+t.table+" ("+strings.Join(append(slices.Clone(t.keys), scoreCols...), ", ")+
				") SELECT "+strings.Join(append(slices.Clone(t.exprs), rsums...), ", ")+dirtyCases+
				" JOIN ratings r ON r.case_id = c.id GROUP BY "+strings.Join(group, ", ")+
				" ON CONFLICT DO UPDATE SET "+strings.Join(sets, ", "))
	}
	stmts = append(stmts, experimentRefreshSQL()...)
	return append(stmts, "DELETE FROM dashboard_dirty")
}
