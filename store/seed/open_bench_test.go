package seed_test

import (
	"os"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/store/seed"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// BenchmarkOpen1M opens the cached 1,000,000-case database (the dashboard
// benchmark's) with and without Open's integrity check (PRAGMA quick_check),
// for the start-up time the check adds and how it compares with
// sqlite.DefaultCheckTimeout.
func BenchmarkOpen1M(b *testing.B) {
	end := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	path, err := seed.Cached(b.Context(), os.TempDir(), seed.Options{Cases: 1_000_000, End: end, Days: 730, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(b.Context(), path, sqlite.Options{}) // migrations, if any, are not measured
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name    string
		timeout time.Duration
	}{{"checked", time.Minute}, {"unchecked", time.Nanosecond}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				db, err := sqlite.Open(b.Context(), path, sqlite.Options{CheckTimeout: bb.timeout})
				if err != nil {
					b.Fatal(err)
				}
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
