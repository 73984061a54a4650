package seed_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/seed"
	"github.com/advocate-bot/advocate/store/sqlite"
)

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	end := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	opts := seed.Options{Cases: 3000, End: end, Days: 60, Seed: 7}
	path, err := seed.Cached(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// A second call reuses the file.
	again, err := seed.Cached(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if info2, err := os.Stat(again); err != nil || again != path || !info2.ModTime().Equal(info.ModTime()) {
		t.Errorf("second Cached: got %s (%v), want the same file unchanged", again, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "advocate-seed-*")); len(left) != 1 {
		t.Errorf("files left in the cache directory: %v, want only the database", left)
	}

	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()

	// The roll-ups the seed summed in Go are what the store computes itself.
	seeded := dumpRollups(t, path)
	if err := db.RebuildDashboard(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt := dumpRollups(t, path); !slices.Equal(seeded, rebuilt) {
		t.Errorf("seeded roll-ups differ from the store's rebuild:\n got %d rows %.300v\nwant %d rows %.300v",
			len(seeded), seeded, len(rebuilt), rebuilt)
	}
	var total int
	err = db.View(ctx, func(tx bot.Tx) (err error) {
		_, total, err = tx.FindCases(ctx, bot.CaseFilter{Since: end.AddDate(0, 0, -60), Until: end})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != opts.Cases {
		t.Errorf("cases in the period: got %d, want %d", total, opts.Cases)
	}
	for _, q := range []bot.FunnelQuery{{}, {GroupBy: []string{"platform", "channel"}}, {GroupBy: []string{"staff", "week"}}} {
		rolled, err := db.DashboardFunnel(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		scanned, err := db.Funnel(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(rolled) != fmt.Sprint(scanned) {
			t.Errorf("group %v: the rebuilt roll-up says %v, the cases %v", q.GroupBy, rolled, scanned)
		}
	}
	all, err := db.Funnel(ctx, bot.FunnelQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// Every stage is reached by some and fewer than those before (satisfied
	// aside, a subset of rated): a plausible funnel.
	c := all[0].Counts
	if c[0] != opts.Cases {
		t.Errorf("asked: got %d, want %d", c[0], opts.Cases)
	}
	for i := 1; i < len(c); i++ {
		if c[i] == 0 || c[i] > c[i-1] && bot.Stages[i] != "offered" {
			t.Errorf("stage %s: %d after %d", bot.Stages[i], c[i], c[i-1])
		}
	}
	// The last half year's prompts are in the wording experiment, each
	// variant about half of them.
	exps, err := db.ExperimentCounts(ctx, bot.FunnelQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exps) != 2 || exps[0].Variant != "plain" || exps[1].Variant != "warm" ||
		exps[0].Offered < 200 || exps[1].Offered < 200 || exps[0].Shared == 0 || exps[1].Shared == 0 {
		t.Errorf("experiment counts: got %+v, want both variants of prompt wording with shares", exps)
	}
	n, err := db.Testimonials(ctx, bot.FunnelQuery{}, 0, 1, func(e bot.CaseEvent, o bot.Offer) error {
		if o.State != bot.OfferShared && o.State != bot.OfferWithdrawn || len(e.Detail) == 0 {
			t.Errorf("testimonial %+v with offer %+v", e, o)
		}
		return nil
	})
	if err != nil || n != c[len(c)-1] {
		t.Errorf("testimonials: got %d (%v), want one per shared case, %d", n, err, c[len(c)-1])
	}
	// About two in five of those on the wall, the withdrawn ones not.
	wall, err := db.Wall(ctx, 0, 0)
	if err != nil || len(wall) == 0 || len(wall) > n/2 {
		t.Errorf("the wall: got %d testimonials (%v), want some and fewer than half of the %d shared", len(wall), err, n)
	}
	named := 0
	for _, e := range wall {
		if e.Name != "" {
			named++
		}
	}
	if named == 0 || named == len(wall) {
		t.Errorf("names on the wall: %d of %d, want some", named, len(wall))
	}
}

// dumpRollups reads the dashboard's roll-up tables as lines.
func dumpRollups(t *testing.T, path string) []string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out []string
	for _, table := range []string{"dashboard_daily", "dashboard_staff", "dashboard_experiments"} {
		rows, err := conn.QueryContext(t.Context(), "SELECT * FROM "+table+" ORDER BY 1, 2, 3, 4, 5")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, table+" "+fmt.Sprint(vals...))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if len(out) == 0 {
		t.Fatal("the roll-ups are empty")
	}
	return out
}

func TestGenerateRefusesAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := seed.Generate(t.Context(), path, seed.Options{Cases: 10}); err == nil {
		t.Error("got no error")
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Error("the existing file was changed")
	}
}
