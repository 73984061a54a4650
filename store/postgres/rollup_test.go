package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/advocate-bot/advocate/bot"
)

// rollupDay is a Monday at 00:00 UTC; the cases below open in the 10 days after it.
var rollupDay = time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)

// someCases stores n cases over 10 days with random channels, staff, times,
// stages and ratings, and returns their IDs.
func someCases(t *testing.T, db *DB, n int, rng *rand.Rand) []int64 {
	t.Helper()
	var ids []int64
	err := db.Update(t.Context(), func(tx bot.Tx) error {
		ids = ids[:0]
		for i := range n {
			p := []string{bot.Slack, bot.Discord}[rng.IntN(2)]
			opened := rollupDay.Add(time.Duration(rng.Int64N(int64(10 * 24 * time.Hour)))).Truncate(time.Millisecond)
			c := &bot.Case{Platform: p, Customer: bot.Person{Platform: p, ID: fmt.Sprint("u", i)},
				Public:   bot.Ref{Platform: p, Channel: []string{"help", "billing", ""}[rng.IntN(3)]},
				Assignee: []string{"", "S1", "S2"}[rng.IntN(3)], OpenedAt: opened}
			if rng.IntN(2) == 0 {
				c.FirstResponseAt = opened.Add(time.Duration(rng.Int64N(int64(30 * time.Hour)))).Truncate(time.Millisecond)
			}
			if err := tx.CreateCase(t.Context(), c); err != nil {
				return err
			}
			if rng.IntN(2) == 0 {
				r := bot.Rating{CaseID: c.ID, Round: 1, Scale: bot.CSAT, Score: 1 + rng.IntN(5)}
				if err := tx.PutRating(t.Context(), &r); err != nil {
					return err
				}
			}
			ids = append(ids, c.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// changeCase changes what the roll-ups count of one case, as the core does:
// a funnel step, a claim by someone else, a resolution.
func changeCase(ctx context.Context, db *DB, id int64, rng *rand.Rand) error {
	return db.Update(ctx, func(tx bot.Tx) error {
		c, err := tx.Case(ctx, id)
		if err != nil {
			return err
		}
		switch rng.IntN(3) {
		case 0:
			kinds := []string{bot.KindTakenPrivate, bot.KindFirstStaffResponse, bot.KindResolved, bot.KindShareOffered, bot.KindShared}
			return tx.Record(ctx, bot.CaseEvent{CaseID: id, Kind: kinds[rng.IntN(len(kinds))]})
		case 1:
			c.Assignee = []string{"", "S1", "S2", "S3"}[rng.IntN(4)]
		case 2:
			c.ResolvedAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(72 * time.Hour)))).Truncate(time.Millisecond)
		}
		return tx.UpdateCase(ctx, c)
	})
}

// rollupQueries are the periods and groupings the roll-ups answer.
func rollupQueries() []bot.FunnelQuery {
	var qs []bot.FunnelQuery
	for _, g := range [][]string{nil, {"platform"}, {"channel"}, {"staff"}, {"week"}, {"platform", "channel"}, {"week", "staff"}} {
		qs = append(qs, bot.FunnelQuery{GroupBy: g},
			bot.FunnelQuery{Since: rollupDay.AddDate(0, 0, 3), Until: rollupDay.AddDate(0, 0, 8), GroupBy: g},
			bot.FunnelQuery{Since: rollupDay.AddDate(0, 0, 2), Platform: bot.Slack, Channel: "help", GroupBy: g})
	}
	return qs
}

// dashboardAnswers is what the dashboard reads for every query, as one string.
func dashboardAnswers(t *testing.T, db *DB) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	for _, q := range rollupQueries() {
		rows, err := db.DashboardFunnel(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%+v funnel %v\n", q, rows)
		err = db.RatingCounts(ctx, q, func(keys []string, scale bot.Scale, score, n int) error {
			fmt.Fprintf(&b, "%q %s %d: %d\n", keys, scale, score, n)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.ResponseTimes(ctx, q, func(keys []string, _ []time.Duration, first, res []int) error {
			fmt.Fprintf(&b, "%q %v %v\n", keys, first, res)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	refs, err := db.Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "channels %v\n", refs)
	return b.String()
}

// casesAnswers is dashboardAnswers computed from the cases alone.
func casesAnswers(t *testing.T, db *DB) string {
	t.Helper()
	ctx := t.Context()
	bounds, err := db.timeBounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, q := range rollupQueries() {
		rows, err := db.Funnel(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%+v funnel %v\n", q, rows)
		err = db.scanRatings(ctx, q, func(keys []string, scale bot.Scale, score, n int) error {
			fmt.Fprintf(&b, "%q %s %d: %d\n", keys, scale, score, n)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.scanTimes(ctx, q, bounds, func(keys []string, _ []time.Duration, first, res []int) error {
			fmt.Fprintf(&b, "%q %v %v\n", keys, first, res)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var refs []bot.Ref
	err = db.View(ctx, func(btx bot.Tx) error {
		refs, err = collect(ctx, btx.(*tx), `SELECT DISTINCT platform, public_channel FROM cases ORDER BY 1, 2`, nil,
			func(s scanner) (bot.Ref, error) {
				var r bot.Ref
				return r, s.Scan(&r.Platform, &r.Channel)
			})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "channels %v\n", refs)
	return b.String()
}

func count(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// storedRollups is every roll-up row, as one string.
func storedRollups(t *testing.T, db *DB) string {
	t.Helper()
	var b strings.Builder
	for _, r := range rollups {
		rows, err := db.pool.Query(t.Context(), `SELECT * FROM `+r.table+` ORDER BY `+strings.Join(r.keys, ", "))
		if err != nil {
			t.Fatal(err)
		}
		all, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([]any, error) { return row.Values() })
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %v\n", r.table, all)
	}
	return b.String()
}

// TestDashboardRollups: the dashboard reads the roll-ups, refreshed before a
// read, and a day marked but not refreshed yet (another instance holding the
// refresh) is read from its cases: the answers are the cases' either way.
func TestDashboardRollups(t *testing.T) {
	db := openTest(t, Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	ids := someCases(t, db, 200, rng)
	for _, id := range ids[:50] {
		if err := changeCase(t.Context(), db, id, rng); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := dashboardAnswers(t, db), casesAnswers(t, db); got != want {
		t.Fatalf("refreshed roll-ups:\n got %s\nwant %s", got, want)
	}
	if n := count(t, db, "dashboard_dirty"); n != 0 {
		t.Errorf("%d marks after a read, want none", n)
	}
	if n := count(t, db, "dashboard_daily"); n == 0 {
		t.Error("no dashboard_daily rows after a read")
	}

	// Another instance is refreshing: this one's read computes the days
	// changed since from their cases.
	conn, err := pgx.Connect(t.Context(), testURLOf(t, db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	lock := strings.Replace(refreshLock, "pg_try_advisory_xact_lock", "pg_advisory_lock", 1)
	if _, err := conn.Exec(t.Context(), lock); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[50:120] {
		if err := changeCase(t.Context(), db, id, rng); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := dashboardAnswers(t, db), casesAnswers(t, db); got != want {
		t.Fatalf("marked days while another refreshes:\n got %s\nwant %s", got, want)
	}
	if n := count(t, db, "dashboard_dirty"); n == 0 {
		t.Fatal("the marks went while another instance held the refresh")
	}
	if _, err := conn.Exec(t.Context(), `SELECT pg_advisory_unlock_all()`); err != nil {
		t.Fatal(err)
	}
	if got, want := dashboardAnswers(t, db), casesAnswers(t, db); got != want {
		t.Fatalf("after the refresh:\n got %s\nwant %s", got, want)
	}
	if n := count(t, db, "dashboard_dirty"); n != 0 {
		t.Errorf("%d marks after the refresh, want none", n)
	}
}

// testURLOf is the URL db was opened with.
func testURLOf(t *testing.T, db *DB) string {
	t.Helper()
	return db.pool.Config().ConnString()
}

// TestDashboardRollupsConcurrentInstances changes cases on two instances
// while both read the dashboard (and so refresh the roll-ups) at once: no
// change is lost, and the stored rows are those a rebuild computes.
func TestDashboardRollupsConcurrentInstances(t *testing.T) {
	first := openTest(t, Options{})
	second, err := Open(t.Context(), testURLOf(t, first), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	dbs := []*DB{first, second}
	ids := someCases(t, first, 300, rand.New(rand.NewPCG(3, 4)))
	ctx := t.Context()
	var writers, readers sync.WaitGroup
	done := make(chan struct{})
	for i := range 4 {
		db := dbs[i%2]
		rng := rand.New(rand.NewPCG(uint64(i), 5))
		writers.Go(func() {
			for range 60 {
				if err := changeCase(ctx, db, ids[rng.IntN(len(ids))], rng); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 2 {
		db := dbs[i]
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, q := range rollupQueries()[:6] {
					if _, err := db.DashboardFunnel(ctx, q); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	writers.Wait()
	close(done)
	readers.Wait()
	want := casesAnswers(t, first)
	for i, db := range dbs {
		if got := dashboardAnswers(t, db); got != want {
			t.Errorf("instance %d after concurrent changes:\n got %s\nwant %s", i, got, want)
		}
	}
	if n := count(t, first, "dashboard_dirty"); n != 0 {
		t.Errorf("%d marks after the last read, want none", n)
	}
	stored := storedRollups(t, first)
	if err := first.RebuildDashboard(ctx); err != nil {
		t.Fatal(err)
	}
	if rebuilt := storedRollups(t, first); stored != rebuilt {
		t.Errorf("stored roll-ups differ from a rebuild:\n got %s\nwant %s", stored, rebuilt)
	}
}
