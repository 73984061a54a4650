package sqlite

import (
	"strings"
	"time"
)

// where builds a WHERE clause from conditions joined with AND.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) addIf(ok bool, cond string, args ...any) {
	if ok {
		w.add(cond, args...)
	}
}

// sql is the clause with a leading space, or "" when there is no condition.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// timeWhere selects cases (aliased c) opened in [since, until); zero is unbounded.
func timeWhere(since, until time.Time) where {
	var w where
	w.addIf(!since.IsZero(), "c.opened_at >= ?", ms(since))
	w.addIf(!until.IsZero(), "c.opened_at < ?", ms(until))
	return w
}

// sqlLimit turns "0 or less: no limit" into SQLite's LIMIT -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
