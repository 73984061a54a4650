package store

import (
	"testing"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/storetest"
)

// openTest opens a store on a new file in t's temporary directory.
func openTest(t *testing.T, opts Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), t.TempDir()+"/advocate.db", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store { return openTest(t, Options{}) })
}
