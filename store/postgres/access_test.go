package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/advocate-bot/advocate/store/storetest"
)

func TestConformanceAccess(t *testing.T) {
	storetest.RunAccess(t, func(t *testing.T) (storetest.Access, func() storetest.Access) {
		url := testURL(t)
		open := func() storetest.Access {
			db, err := Open(context.Background(), url, Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		return open(), open
	})
}

// TestProbeOfAReadOnlyDatabase opens a second store on a database whose
// connections refuse writes, as a standby's do: Probe says so.
func TestProbeOfAReadOnlyDatabase(t *testing.T) {
	url := testURL(t)
	db, err := Open(t.Context(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Probe(t.Context()); err != nil {
		t.Fatalf("Probe of a healthy store: %v", err)
	}
	ro, err := Open(t.Context(), url+"&default_transaction_read_only=on", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	if err := ro.Probe(t.Context()); !errors.Is(err, ErrDatabaseReadOnly) {
		t.Errorf("Probe of a read-only database: got %v, want %v", err, ErrDatabaseReadOnly)
	}
}
