package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/advocate-bot/advocate/bot"
)

// rollup sums the generated cases into the store's dashboard roll-ups, as
// the store's triggers would, so that seeding need not run the triggers for
// every row. It learns the tables' columns from the database and fails on a
// column it cannot fill, so a changed roll-up cannot be seeded wrong quietly;
// TestGenerate compares its rows with the store's own rebuild.
type rollup struct {
	bounds []int64 // time bucket bounds, Unix milliseconds
	tables []*rollupTable
}

// rollupTable is one roll-up: its key columns (day, platform, channel,
// assignee) and where each counted column is in a row's values.
type rollupTable struct {
	name     string
	keys     []string
	cols     []string
	cases    int
	stages   []int
	recov    int
	first    []int
	resolve  []int
	scores   map[string]int // "csat_5" → index
	rows     map[string]*rollupRow
	rowOrder []*rollupRow
}

type rollupRow struct {
	keys []any
	vals []int64
}

// rollupTables are the roll-ups the seed fills.
func rollupTables() []string { return []string{"dashboard_daily", "dashboard_staff"} }

func loadRollup(ctx context.Context, conn *sql.DB) (*rollup, error) {
	r := &rollup{}
	rows, err := conn.QueryContext(ctx, `SELECT below_ms FROM dashboard_time_bounds ORDER BY bucket`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var b int64
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, err
		}
		r.bounds = append(r.bounds, b)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	for _, name := range rollupTables() {
		t, err := loadTable(ctx, conn, name, len(r.bounds)+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r.tables = append(r.tables, t)
	}
	return r, nil
}

func loadTable(ctx context.Context, conn *sql.DB, name string, buckets int) (*rollupTable, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return nil, err
	}
	t := &rollupTable{name: name, scores: map[string]int{}, rows: map[string]*rollupRow{}, cases: -1, recov: -1}
	for rows.Next() {
		var col string
		var pk int
		if err := rows.Scan(&col, &pk); err != nil {
			rows.Close()
			return nil, err
		}
		if pk > 0 {
			t.keys = append(t.keys, col)
		} else {
			t.cols = append(t.cols, col)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	index := func(col string) int { return slices.Index(t.cols, col) }
	t.cases, t.recov = index("cases"), index("recovered")
	for _, s := range bot.Stages {
		t.stages = append(t.stages, index(s))
	}
	for i := range buckets {
		t.first = append(t.first, index("first_"+strconv.Itoa(i)))
		t.resolve = append(t.resolve, index("resolve_"+strconv.Itoa(i)))
	}
	known := append(append(append([]int{t.cases, t.recov}, t.stages...), t.first...), t.resolve...)
	if slices.Contains(known, -1) || len(t.cols) == 0 {
		return nil, fmt.Errorf("columns %v: not the roll-up this seed knows", t.cols)
	}
	for i, col := range t.cols {
		if !slices.Contains(known, i) {
			t.scores[col] = i // the rest are rating counts, "<scale>_<score>"
		}
	}
	for _, k := range t.keys {
		if !slices.Contains([]string{"day", "platform", "channel", "assignee"}, k) {
			return nil, fmt.Errorf("key column %q: not one this seed knows", k)
		}
	}
	return t, nil
}

// bucket is the time bucket of d milliseconds, or -1 for none (d < 0).
func (r *rollup) bucket(d int64) int {
	if d < 0 {
		return -1
	}
	n, _ := slices.BinarySearch(r.bounds, d+1) // the number of bounds <= d
	return n
}

// add counts one generated case: opened is Unix ms; first and resolve are
// its times in ms, or -1 when it has none.
func (r *rollup) add(l *life, opened, first, resolve int64) error {
	vals := map[string]any{"day": opened / dayMs, "platform": l.ch.platform, "channel": l.ch.name, "assignee": l.assignee}
	fb, rb := r.bucket(first), r.bucket(resolve)
	for _, t := range r.tables {
		keys := make([]any, len(t.keys))
		id := make([]string, len(t.keys))
		for i, k := range t.keys {
			keys[i], id[i] = vals[k], fmt.Sprint(vals[k])
		}
		row := t.rows[strings.Join(id, "\x00")]
		if row == nil {
			row = &rollupRow{keys: keys, vals: make([]int64, len(t.cols))}
			t.rows[strings.Join(id, "\x00")] = row
			t.rowOrder = append(t.rowOrder, row)
		}
		row.vals[t.cases]++
		for i, col := range t.stages {
			row.vals[col] += l.stages >> i & 1
		}
		row.vals[t.recov] += l.recovered
		if fb >= 0 {
			row.vals[t.first[fb]]++
		}
		if rb >= 0 {
			row.vals[t.resolve[rb]]++
		}
		for _, rt := range l.ratings {
			col, ok := t.scores[string(rt.Scale)+"_"+strconv.Itoa(rt.Score)]
			if !ok {
				return fmt.Errorf("%s: no column for a %s rating of %d", t.name, rt.Scale, rt.Score)
			}
			row.vals[col]++
		}
	}
	return nil
}

// write inserts the roll-ups' rows.
func (r *rollup) write(ctx context.Context, tx *sql.Tx) error {
	for _, t := range r.tables {
		in := newInserter(tx, "INSERT INTO "+t.name+" ("+strings.Join(append(slices.Clone(t.keys), t.cols...), ", ")+") VALUES ",
			len(t.keys)+len(t.cols))
		for _, row := range t.rowOrder {
			vals := slices.Clone(row.keys)
			for _, v := range row.vals {
				vals = append(vals, v)
			}
			if err := in.add(ctx, vals...); err != nil {
				return err
			}
		}
		if err := in.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}
