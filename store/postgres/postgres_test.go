package postgres

import (
	"context"
	"testing"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/postgres/pgtest"
	"github.com/advocate-bot/advocate/store/storetest"
)

// testURL is a new, empty schema of the test server (see pgtest).
func testURL(t testing.TB) string { return pgtest.URL(t) }

// openTest opens a store on a new schema and closes it when t ends.
func openTest(t testing.TB, opts Options) *DB {
	t.Helper()
	db, err := Open(context.Background(), testURL(t), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store { return openTest(t, Options{}) })
}

func TestConformanceReads(t *testing.T) {
	storetest.RunReads(t, func(t *testing.T) storetest.Reads { return openTest(t, Options{}) })
}
