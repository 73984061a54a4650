package sqlite

import (
	"bytes"
	"errors"
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

// TestSessionKeyOnAReadOnlyDatabase: once made, the key is read without a
// write, so a read-only database still starts (and /readyz says it is not
// ready).
func TestSessionKeyOnAReadOnlyDatabase(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	key, err := db.SessionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	if got, err := db.SessionKey(ctx); err != nil || !bytes.Equal(got, key) {
		t.Errorf("SessionKey on a read-only database: %x, %v; want %x", got, err, key)
	}
	if err := db.Probe(ctx); !errors.Is(err, ErrDatabaseReadOnly) {
		t.Errorf("Probe on a read-only database: %v, want %v", err, ErrDatabaseReadOnly)
	}
}
