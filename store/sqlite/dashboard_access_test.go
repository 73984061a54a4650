package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/store/storetest"
)

func TestConformanceAccess(t *testing.T) {
	storetest.RunAccess(t, func(t *testing.T) (storetest.Access, func() storetest.Access) {
		path := filepath.Join(t.TempDir(), "advocate.db")
		return openPath(t, path, Options{}), func() storetest.Access { return openPath(t, path, Options{}) }
	})
}

func TestStaffNameLookUpUsesItsIndex(t *testing.T) {
	db := openTest(t, Options{})
	rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+staffNameQuery, "U1")
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
	if !strings.Contains(strings.Join(plan, "; "), "case_events_staff") {
		t.Errorf("staff name look-up plan %q does not use the case_events_staff index", plan)
	}
}
