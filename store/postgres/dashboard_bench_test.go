package postgres_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/postgres"
	"github.com/advocate-bot/advocate/store/postgres/pgtest"
	"github.com/advocate-bot/advocate/store/seed"
	"github.com/advocate-bot/advocate/store/transfer"
	"github.com/advocate-bot/advocate/web"
)

// benchEnd is when the generated cases end, as in web's BenchmarkDashboard.
func benchEnd() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }

const benchToken = "bench-token-0123456789abcdef"

// seededURL is a schema of the test server holding web's 1,000,000-case
// database, copied with advocate migrate-store's code from the SQLite file
// store/seed generates (both are kept, named by seed.Version: only the first
// run pays for them).
func seededURL(b *testing.B, cases int) string {
	b.Helper()
	dsn := os.Getenv(pgtest.Env)
	if dsn == "" {
		b.Skipf("%s is not set: no PostgreSQL server to benchmark", pgtest.Env)
	}
	ctx := b.Context()
	schema := fmt.Sprintf("advocate_seed_v%d_%d", seed.Version, cases)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var have int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&have); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	if have == 1 {
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.cases`).Scan(&have); err == nil && have == int64(cases) {
			return u.String()
		}
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	path, err := seed.Cached(ctx, os.TempDir(), seed.Options{Cases: cases, End: benchEnd(), Days: 730, Seed: 1})
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	b.Logf("SQLite database %s ready in %v", path, time.Since(start).Round(time.Millisecond))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	counts, err := transfer.Copy(ctx, path, u.String(), transfer.Options{})
	if err != nil {
		b.Fatalf("copy: %v", err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("copied into PostgreSQL in %v: %v", time.Since(start).Round(time.Millisecond), counts)
	return u.String()
}

// BenchmarkDashboard is web's BenchmarkDashboard on PostgreSQL: the funnel,
// trends, staff and cases pages over 1,000,000 cases. A database copied by
// an older binary gets its roll-ups on the first page, shown before the
// timed ones. Run:
//
//	go test -run '^$' -bench Dashboard -benchtime 5x -timeout 60m ./store/postgres/
func BenchmarkDashboard(b *testing.B) {
	ctx := b.Context()
	db, err := postgres.Open(ctx, seededURL(b, 1_000_000), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	s, err := web.New(web.Options{Store: db, Token: benchToken, SLA: time.Hour,
		Now: func() time.Time { return benchEnd().Add(-time.Minute) }, Experiments: seed.Experiments()})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	render := func(b *testing.B, path string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(context.Background(), "GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+benchToken)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "</main>") {
			b.Fatalf("%s: got %d", path, rec.Code)
		}
	}
	start := time.Now()
	render(b, "/dashboard/")
	b.Logf("first page in %v", time.Since(start).Round(time.Millisecond))
	for _, page := range []struct{ name, path string }{
		{"funnel/30d", "/dashboard/"},
		{"funnel/90d", "/dashboard/?period=90d"},
		{"funnel/all", "/dashboard/?period=all"},
		{"funnel/90d-channel", "/dashboard/?period=90d&platform=slack&channel=C-help"},
		{"trends/30d", "/dashboard/trends"},
		{"trends/90d", "/dashboard/trends?period=90d"},
		{"trends/all", "/dashboard/trends?period=all"},
		{"staff/90d", "/dashboard/by/staff?period=90d"},
		{"cases/30d", "/dashboard/cases"},
		{"experiments/30d", "/dashboard/experiments"},
		{"experiments/90d", "/dashboard/experiments?period=90d"},
		{"experiments/all", "/dashboard/experiments?period=all"},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				render(b, page.path)
			}
		})
	}
	// As in a live community: a case of today changed since the last view
	// (its assignee, flipped back and forth, restored at the end), so each
	// view first rewrites today's roll-up rows.
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
		b.Cleanup(func() { setAssignee(b, context.Background(), db, cs, original) })
		for i := 0; b.Loop(); i++ {
			setAssignee(b, ctx, db, cs, []string{other, original}[i%2])
			render(b, "/dashboard/")
		}
	})
}

func setAssignee(b *testing.B, ctx context.Context, db *postgres.DB, cs *bot.Case, who string) {
	b.Helper()
	cs.Assignee = who
	if err := db.Update(ctx, func(tx bot.Tx) error { return tx.UpdateCase(ctx, cs) }); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWall is web's wall benchmark on PostgreSQL: the public wall's
// newest page, its feed, and its oldest page, over the same 1,000,000 cases.
// Run:
//
//	go test -run '^$' -bench Wall -benchtime 20x ./store/postgres/
func BenchmarkWall(b *testing.B) {
	ctx := b.Context()
	db, err := postgres.Open(ctx, seededURL(b, 1_000_000), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	s, err := web.New(web.Options{Store: db, Token: benchToken, Wall: true, Brand: "Acme"})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	for _, page := range []struct{ name, path, want string }{
		{"page", "/wall", "</main>"},
		{"json", "/wall.json", `"testimonials"`},
		{"json-limit50", "/wall.json?limit=50", `"testimonials"`},
		{"page500", "/wall?page=500", "</main>"},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), "GET", page.path, nil))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), page.want) {
					b.Fatalf("%s: got %d", page.path, rec.Code)
				}
			}
		})
	}
}
