package sqlite

import (
	"strings"
	"testing"
)

// queryPlan is SQLite's plan for q, one line per step.
func queryPlan(t *testing.T, db *DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// The look-ups every event makes before its commit must find their rows
// through an index on what they look for, not read a table: each event's
// cost (and its acknowledgement) would grow with the number of cases.
func TestEventLookupsSearchAnIndex(t *testing.T) {
	db := openTest(t, Options{})
	for name, q := range map[string]string{
		"case":                 caseSQL,
		"active case":          activeCaseSQL,
		"case by conversation": caseByConversationSQL,
		"case events":          caseEventsSQL,
		"offers":               offersSQL,
		"person":               personSQL,
		"identities":           identitiesSQL,
		"ratings":              ratingsSQL,
		"delivered":            deliveredSQL,
	} {
		args := make([]any, strings.Count(q, "?"))
		if strings.Contains(q, "?1") { // numbered parameters
			args = args[:3]
		}
		for i := range args {
			args[i] = "x"
		}
		plan := queryPlan(t, db, q, args...)
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") || strings.HasSuffix(step, "(platform=?)") {
				t.Errorf("%s: plan %q reads more than the rows it looks for (%q)", name, plan, step)
			}
		}
	}
}

// The relay's look at the outbox walks the pending actions oldest first and
// stops at its limit: grouping every pending action by lane made each look
// cost the whole backlog (tens of milliseconds with 10,000 cases waiting on a
// channel's pace), many times a second.
func TestPendingActionsWalksTheDueIndex(t *testing.T) {
	db := openTest(t, Options{})
	plan := strings.Join(queryPlan(t, db, pendingActionsSQL, 0, 0, 128), "; ")
	if !strings.Contains(plan, "SEARCH o USING INDEX outbox_due (id>?)") || !strings.Contains(plan, "INDEX outbox_pending (lane=? AND id<?)") {
		t.Errorf("pending actions plan %q: want a walk of outbox_due with a search of outbox_pending per action", plan)
	}
	if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "LIST SUBQUERY") {
		t.Errorf("pending actions plan %q groups or sorts the backlog", plan)
	}
}

// The public wall is read from its partial index alone: a page far back
// skips index entries of the offers on the wall, never table rows.
func TestWallReadsItsCoveringIndex(t *testing.T) {
	db := openTest(t, Options{})
	plan := queryPlan(t, db, wallSQL, 20, 9980)
	if len(plan) != 1 || plan[0] != "SEARCH offers USING COVERING INDEX offers_wall (wall_at>?)" {
		t.Errorf("wall plan: got %q, want a search of the covering index offers_wall alone", plan)
	}
}
