package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/seed"
	"github.com/advocate-bot/advocate/store/sqlite"
	"github.com/advocate-bot/advocate/web"
)

// benchEnd is when the generated cases end; the benchmark's clock is just before it.
func benchEnd() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }

// BenchmarkDashboard renders the funnel and trends pages, and the public
// wall, over a generated database of 1,000,000 cases spread over two years (about 1,370 a day). The
// database is generated once (about a minute) and kept under os.TempDir(),
// named by seed.Version, so later runs start at once. Run:
//
//	go test -run '^$' -bench Dashboard -benchtime 20x ./web/
func BenchmarkDashboard(b *testing.B) {
	ctx := b.Context()
	start := time.Now()
	path, err := seed.Cached(ctx, os.TempDir(), seed.Options{Cases: 1_000_000, End: benchEnd(), Days: 730, Seed: 1})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	b.Logf("database %s ready in %v", path, time.Since(start).Round(time.Millisecond))
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	key, err := db.SessionKey(ctx)
	if err != nil {
		b.Fatal(err)
	}
	s, err := web.New(web.Options{Store: db, Sessions: db, SessionKey: key, Token: token, SLA: time.Hour,
		Now: func() time.Time { return benchEnd().Add(-time.Minute) }, Wall: true, Brand: "Acme",
		Experiments: seed.Experiments()})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	render := func(b *testing.B, path string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "</main>") {
			b.Fatalf("%s: got %d", path, rec.Code)
		}
	}
	for _, page := range []struct{ name, path string }{
		{"funnel/30d", "/dashboard/"},
		{"funnel/90d", "/dashboard/?period=90d"},
		{"funnel/all", "/dashboard/?period=all"},
		{"funnel/90d-channel", "/dashboard/?period=90d&platform=slack&channel=C-help"},
		{"trends/30d", "/dashboard/trends"},
		{"trends/90d", "/dashboard/trends?period=90d"},
		{"trends/all", "/dashboard/trends?period=all"},
		{"staff/90d", "/dashboard/by/staff?period=90d"}, // staff named from their events
		{"cases/30d", "/dashboard/cases"},               // 50 cases, assignees named
		{"experiments/30d", "/dashboard/experiments"},
		{"experiments/90d", "/dashboard/experiments?period=90d"},
		{"experiments/all", "/dashboard/experiments?period=all"}, // both experiments, a year of prompts
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				render(b, page.path)
			}
		})
	}
	// The public wall, no sign-in: the newest page, the feed, and the oldest
	// page the wall serves (page 500 of 20: 9,980 testimonials skipped).
	for _, page := range []struct{ name, path, want string }{
		{"wall/page", "/wall", "</main>"},
		{"wall/json", "/wall.json", `"testimonials"`},
		{"wall/json-limit50", "/wall.json?limit=50", `"testimonials"`},
		{"wall/page500", "/wall?page=500", "</main>"},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", page.path, nil))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), page.want) {
					b.Fatalf("%s: got %d", page.path, rec.Code)
				}
			}
		})
	}
	// As in a live community: a case of today changed since the last view
	// (here its assignee, flipped back and forth, restored at the end), so
	// each view first recomputes today's roll-up rows.
	b.Run("funnel/30d-after-a-change", func(b *testing.B) {
		var cs *bot.Case
		err := db.View(ctx, func(tx bot.Tx) (err error) {
			cs, err = tx.Case(ctx, 1_000_000)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		original, other := cs.Assignee, "U-ana"
		if original == other {
			other = "U-ben"
		}
		b.Cleanup(func() { setAssignee(b, context.Background(), db, cs, original) }) // b's context is done by then
		for i := 0; b.Loop(); i++ {
			setAssignee(b, ctx, db, cs, []string{other, original}[i%2])
			render(b, "/dashboard/")
		}
	})
}

func setAssignee(b *testing.B, ctx context.Context, db *sqlite.DB, cs *bot.Case, who string) {
	b.Helper()
	cs.Assignee = who
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.UpdateCase(ctx, cs) }); err != nil {
		b.Fatal(err)
	}
}
