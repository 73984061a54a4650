package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
)

// The dashboard's queries. Most read the roll-ups (rollup.go); a query they
// cannot answer (a period that is not whole UTC days, staff with a platform
// or channel filter) reads the cases instead and gives the same answer,
// slower.

// timeBuckets is the number of buckets of the response-time histograms.
const timeBuckets = 24

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

// rollupFor names the roll-up that can answer q, if one can (whole UTC days,
// groupings it has), and q's group keys over its rows (aliased x). A week
// is named from the day as cases.opened_week names it.
func rollupFor(q bot.FunnelQuery) (r rollup, keys []string, ok bool) {
	for _, t := range []time.Time{q.Since, q.Until} {
		if !t.IsZero() && t.UnixMilli()%dayMs != 0 {
			return r, nil, false
		}
	}
	r = dailyRollup
	if slices.Contains(q.GroupBy, "staff") {
		if q.Platform != "" || q.Channel != "" {
			return r, nil, false
		}
		r = staffRollup
	}
	for _, g := range q.GroupBy {
		switch {
		case g == "week":
			keys = append(keys, `to_char(to_timestamp(x.day * 86400) AT TIME ZONE 'UTC', 'IYYY-"W"IW')`)
		case g == "staff":
			keys = append(keys, "x.assignee")
		case (g == "platform" || g == "channel") && r.table == dailyRollup.table:
			keys = append(keys, "x."+g)
		default:
			return r, nil, false
		}
	}
	return r, keys, true
}

// rollupFilter adds q's period, platform and channel as conditions on a
// roll-up's rows (x).
func rollupFilter(w *where, q bot.FunnelQuery) {
	if !q.Since.IsZero() {
		w.add("x.day >= " + w.arg(dayOf(q.Since)))
	}
	if !q.Until.IsZero() {
		w.add("x.day < " + w.arg(dayOf(q.Until)))
	}
	if q.Platform != "" {
		w.add("x.platform = " + w.arg(q.Platform))
	}
	if q.Channel != "" {
		w.add("x.channel = " + w.arg(q.Channel))
	}
}

// rollupSQL sums cols of r's rows that q selects, per group of keys, ordered
// by keys: the stored rows of the days not in dirty, and rows computed from
// the cases for the days in dirty.
func rollupSQL(r rollup, keys, cols []string, q bot.FunnelQuery, dirty []int64) (string, []any) {
	w := &where{}
	cases, days := spanConds(w, spansOf(dirty))
	stored := "SELECT " + strings.Join(append(slices.Clone(r.keys), cols...), ", ") +
		" FROM " + r.table + " WHERE NOT " + days
	rollupFilter(w, q)
	sel := slices.Clone(keys)
	for _, c := range cols {
		sel = append(sel, "coalesce(sum(x."+c+"), 0)::bigint")
	}
	query := "SELECT " + strings.Join(sel, ", ") + " FROM (" + stored + " UNION ALL " + fromCases(r, cols, cases) + ") x" + w.sql()
	if len(keys) > 0 {
		list := strings.Join(keys, ", ")
		query += " GROUP BY " + list + " ORDER BY " + list
	}
	return query, w.args
}

// rollupRows answers q from a roll-up, in one snapshot: it calls fn with each
// group's keys (named as Funnel names them) and sums of cols, ordered by
// keys. ok is false when no roll-up can answer q.
func (db *DB) rollupRows(ctx context.Context, q bot.FunnelQuery, cols []string,
	fn func(keys []string, vals []int64) error) (ok bool, err error) {
	r, keys, ok := rollupFor(q)
	if !ok {
		return false, nil
	}
	if err := db.refreshDashboard(ctx); err != nil {
		return true, err
	}
	vals := make([]int64, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	return true, db.View(ctx, func(btx bot.Tx) error {
		t := btx.(*tx).tx
		dirty, err := dirtyDays(ctx, t, q.Since, q.Until)
		if err != nil {
			return err
		}
		query, args := rollupSQL(r, keys, cols, q, dirty)
		rows, err := t.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k := make([]string, len(keys))
			dest := make([]any, 0, len(keys)+len(cols))
			for i := range k {
				dest = append(dest, &k[i])
			}
			if err := rows.Scan(append(dest, ptrs...)...); err != nil {
				return err
			}
			if err := fn(k, vals); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// DashboardFunnel returns what Funnel returns for q, from a roll-up when one
// can answer q (a few thousand rows for any period), otherwise from Funnel.
func (db *DB) DashboardFunnel(ctx context.Context, q bot.FunnelQuery) ([]bot.FunnelRow, error) {
	var out []bot.FunnelRow
	n := len(bot.Stages)
	ok, err := db.rollupRows(ctx, q, stageColumns(), func(keys []string, vals []int64) error {
		r := bot.FunnelRow{Keys: keys, Counts: make([]int, n), Recoveries: int(vals[n])}
		for i := range r.Counts {
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
	var out []bot.Ref
	_, err := db.rollupRows(ctx, bot.FunnelQuery{GroupBy: []string{"platform", "channel"}}, nil,
		func(keys []string, _ []int64) error {
			out = append(out, bot.Ref{Platform: keys[0], Channel: keys[1]})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	return out, nil
}

// groups runs query in a snapshot and calls fn with each row's nk string keys
// and the rest scanned into dest.
func (db *DB) groups(ctx context.Context, nk int, query string, args []any,
	fn func(keys []string) error, dest ...any) error {
	return db.View(ctx, func(btx bot.Tx) error {
		rows, err := btx.(*tx).query(ctx, query, args...)
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
			if err := fn(keys); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// RatingCounts calls fn, for each group of the cases q selects (ordered by
// keys) and each scale and score their ratings have, with the number of
// ratings. Every round's rating counts.
func (db *DB) RatingCounts(ctx context.Context, q bot.FunnelQuery,
	fn func(keys []string, scale bot.Scale, score, n int) error) error {
	if err := validGroups(q); err != nil {
		return err
	}
	all := scores()
	ok, err := db.rollupRows(ctx, q, scoreColumns(), func(keys []string, vals []int64) error {
		for i, n := range vals {
			if n != 0 {
				if err := fn(keys, all[i].scale, all[i].n, int(n)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil && !ok {
		err = db.scanRatings(ctx, q, fn)
	}
	if err != nil {
		return fmt.Errorf("store: rating counts: %w", err)
	}
	return nil
}

// scanRatings is RatingCounts read from the cases.
func (db *DB) scanRatings(ctx context.Context, q bot.FunnelQuery,
	fn func(keys []string, scale bot.Scale, score, n int) error) error {
	keys := casesKeys(q.GroupBy)
	w := funnelWhere(q)
	group := strings.Join(append(slices.Clone(keys), "r.scale", "r.score"), ", ")
	query := "SELECT " + group + ", count(*) FROM ratings r JOIN cases c ON c.id = r.case_id" + w.sql() +
		" GROUP BY " + group + " ORDER BY " + group
	var scale string
	var score, n int
	return db.groups(ctx, len(keys), query, w.args, func(keys []string) error {
		return fn(keys, bot.Scale(scale), score, n)
	}, &scale, &score, &n)
}

// ResponseTimes calls fn, for each group of the cases q selects (ordered by
// keys), with histograms of their times from opening to the first staff
// response and to the (last) resolution: firstResponse[i] and resolution[i]
// count the cases whose time is below bounds[i] and at or above bounds[i-1];
// the last bucket has no upper bound. Cases not yet answered (resolved) are
// not counted in firstResponse (resolution).
func (db *DB) ResponseTimes(ctx context.Context, q bot.FunnelQuery,
	fn func(keys []string, bounds []time.Duration, firstResponse, resolution []int) error) error {
	if err := validGroups(q); err != nil {
		return err
	}
	bounds, err := db.timeBounds(ctx)
	if err != nil {
		return fmt.Errorf("store: response times: %w", err)
	}
	ok, err := db.rollupRows(ctx, q, timeColumns(), func(keys []string, vals []int64) error {
		first, res := make([]int, timeBuckets), make([]int, timeBuckets)
		for i := range timeBuckets {
			first[i], res[i] = int(vals[i]), int(vals[timeBuckets+i])
		}
		return fn(keys, bounds, first, res)
	})
	if err == nil && !ok {
		err = db.scanTimes(ctx, q, bounds, fn)
	}
	if err != nil {
		return fmt.Errorf("store: response times: %w", err)
	}
	return nil
}

// scanTimes is ResponseTimes read from the cases.
func (db *DB) scanTimes(ctx context.Context, q bot.FunnelQuery, bounds []time.Duration,
	fn func(keys []string, bounds []time.Duration, firstResponse, resolution []int) error) error {
	keys := casesKeys(q.GroupBy)
	w := funnelWhere(q)
	sel := append(slices.Clone(keys), timeBucket("c.first_response_at - c.opened_at", bounds),
		timeBucket("c.resolved_at - c.opened_at", bounds), "count(*)")
	group := append(slices.Clone(keys), strconv.Itoa(len(keys)+1), strconv.Itoa(len(keys)+2))
	query := "SELECT " + strings.Join(sel, ", ") + " FROM cases c" + w.sql() + " GROUP BY " + strings.Join(group, ", ")
	type hist struct {
		keys       []string
		first, res []int
	}
	byKeys := map[string]*hist{}
	var fb, rb, n int
	err := db.groups(ctx, len(keys), query, w.args, func(k []string) error {
		id := strings.Join(k, "\x00")
		h := byKeys[id]
		if h == nil {
			h = &hist{keys: k, first: make([]int, timeBuckets), res: make([]int, timeBuckets)}
			byKeys[id] = h
		}
		if fb >= 0 && fb < timeBuckets {
			h.first[fb] += n
		}
		if rb >= 0 && rb < timeBuckets {
			h.res[rb] += n
		}
		return nil
	}, &fb, &rb, &n)
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

// timeBounds reads the histograms' bucket bounds.
func (db *DB) timeBounds(ctx context.Context) ([]time.Duration, error) {
	var out []time.Duration
	err := db.View(ctx, func(btx bot.Tx) error {
		var err error
		out, err = collect(ctx, btx.(*tx), `SELECT below_ms FROM dashboard_time_bounds ORDER BY bucket`, nil,
			func(s scanner) (time.Duration, error) {
				var v int64
				err := s.Scan(&v)
				return time.Duration(v) * time.Millisecond, err
			})
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out) != timeBuckets-1 {
		return nil, fmt.Errorf("%d time bounds, want %d", len(out), timeBuckets-1)
	}
	return out, nil
}

// timeBucket is the SQL for the bucket of a duration d in milliseconds: -1
// for NULL (not yet), else the number of bounds at or below it.
func timeBucket(d string, bounds []time.Duration) string {
	var b strings.Builder
	b.WriteString("CASE WHEN " + d + " IS NULL THEN -1")
	for i, bound := range bounds {
		fmt.Fprintf(&b, " WHEN %s < %d THEN %d", d, bound.Milliseconds(), i)
	}
	fmt.Fprintf(&b, " ELSE %d END", len(bounds))
	return b.String()
}

// Testimonials calls fn with the shared events recorded in q's period (by
// the time they were shared) on the cases matching q's platform and channel,
// newest first, from offset up to n of them (n <= 0: all), each with its
// offer (zero if it is gone), and returns how many there are in all.
func (db *DB) Testimonials(ctx context.Context, q bot.FunnelQuery, offset, n int,
	fn func(e bot.CaseEvent, o bot.Offer) error) (int, error) {
	w := &where{}
	w.add("e.kind = " + w.arg(bot.KindShared))
	if !q.Since.IsZero() {
		w.add("e.at >= " + w.arg(q.Since.UnixMilli()))
	}
	if !q.Until.IsZero() {
		w.add("e.at < " + w.arg(q.Until.UnixMilli()))
	}
	if q.Platform != "" {
		w.add("c.platform = " + w.arg(q.Platform))
	}
	if q.Channel != "" {
		w.add("c.public_channel = " + w.arg(q.Channel))
	}
	from := ` FROM case_events e JOIN cases c ON c.id = e.case_id` + w.sql()
	var total int
	var events []bot.CaseEvent
	var offers []bot.Offer
	err := db.View(ctx, func(btx bot.Tx) error {
		t := btx.(*tx)
		if err := t.queryRow(ctx, `SELECT count(*)`+from, w.args...).Scan(&total); err != nil {
			return err
		}
		args := slices.Clone(w.args)
		page := ` ORDER BY e.at DESC, e.id DESC LIMIT $` + strconv.Itoa(len(args)+1) + ` OFFSET $` + strconv.Itoa(len(args)+2)
		var err error
		if events, err = collect(ctx, t, `SELECT `+eventCols+from+page, append(args, limit(n), max(offset, 0)), scanEvent); err != nil {
			return err
		}
		offers = make([]bot.Offer, len(events))
		for i, e := range events {
			var ref struct {
				Offer int64 `json:"offer"`
			}
			if fromJSON(string(e.Detail), &ref) != nil || ref.Offer == 0 {
				continue
			}
			o, err := scanOffer(t.queryRow(ctx, `SELECT `+offerCols+` FROM offers WHERE id = $1`, ref.Offer))
			switch {
			case err == nil:
				offers[i] = *o
			case !errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("offer %d: %w", ref.Offer, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: testimonials: %w", err)
	}
	for i, e := range events {
		if err := fn(e, offers[i]); err != nil {
			return 0, err
		}
	}
	return total, nil
}
