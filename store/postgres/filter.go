package postgres

import (
	"strconv"
	"strings"
	"time"
)

// where builds a WHERE clause from conditions joined with AND, numbering its
// arguments $1, $2… as they are added.
type where struct {
	conds []string
	args  []any
}

// arg adds v to the arguments and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// sql is the clause with a leading space, or "" when there is no condition.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// timeWhere selects cases (aliased c) opened in [since, until); zero is unbounded.
func timeWhere(since, until time.Time) *where {
	w := &where{}
	if !since.IsZero() {
		w.add("c.opened_at >= " + w.arg(ms(since)))
	}
	if !until.IsZero() {
		w.add("c.opened_at < " + w.arg(ms(until)))
	}
	return w
}
