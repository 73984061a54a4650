package sqlite

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// dashDay() is a Monday at 00:00 UTC; the random cases are opened in the 60 days after it.
func dashDay() time.Time { return time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC) }

// randomCases stores n cases through the Tx API with random channels, staff,
// stages, ratings and times, then changes some of them as the core would
// (claims, later responses, resolutions), so the roll-up's triggers see
// inserts and every kind of update.
func randomCases(t *testing.T, db *DB, n int, seed uint64) []*bot.Case {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	platforms := []string{bot.Slack, bot.Discord}
	channels := []string{"help", "billing", ""}
	staff := []string{"", "S1", "S2", "S3"}
	kinds := []string{bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindFirstStaffResponse, bot.KindResolved,
		bot.KindSurveySent, bot.KindShareOffered, bot.KindShareClicked, bot.KindShared, bot.KindNote}
	var cases []*bot.Case
	ctx := t.Context()
	err := db.Update(ctx, func(tx bot.Tx) error {
		for range n {
			p := platforms[rng.IntN(2)]
			c := &bot.Case{Platform: p, Customer: bot.Person{Platform: p, ID: fmt.Sprint("u", rng.IntN(50))},
				Public:   bot.Ref{Platform: p, Channel: channels[rng.IntN(len(channels))]},
				Assignee: staff[rng.IntN(len(staff))],
				OpenedAt: dashDay().Add(time.Duration(rng.Int64N(int64(60 * day)))).Truncate(time.Millisecond)}
			if rng.IntN(3) == 0 {
				c.FirstResponseAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(30 * time.Hour))))
			}
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
			for _, k := range kinds {
				if rng.IntN(3) == 0 {
					if err := tx.Record(ctx, bot.CaseEvent{CaseID: c.ID, Kind: k, At: c.OpenedAt}); err != nil {
						return err
					}
				}
			}
			cases = append(cases, c)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("store cases: %v", err)
	}
	scales := []bot.Scale{bot.CSAT, bot.CES, bot.NPS}
	err = db.Update(ctx, func(tx bot.Tx) error {
		for _, c := range cases {
			switch rng.IntN(4) {
			case 0:
				c.Assignee = staff[rng.IntN(len(staff))]
			case 1:
				c.FirstResponseAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(10 * day))))
				c.ResolvedAt = c.FirstResponseAt.Add(time.Duration(rng.Int64N(int64(3 * day))))
			case 2:
				c.ResolvedAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(90 * time.Minute))))
			}
			c.Status = bot.StatusResolved
			if err := tx.UpdateCase(ctx, c); err != nil {
				return err
			}
			for round := 1; round <= rng.IntN(3); round++ {
				s := scales[rng.IntN(3)]
				r := bot.Rating{CaseID: c.ID, Round: round, Scale: s, Score: 1 + rng.IntN(5), Satisfied: rng.IntN(2) == 0}
				r.Recovery = round == 2 && r.Satisfied
				if err := tx.PutRating(ctx, &r); err != nil {
					return err
				}
				detail, _ := json.Marshal(map[string]any{"satisfied": r.Satisfied, "recovery": r.Recovery})
				if err := tx.Record(ctx, bot.CaseEvent{CaseID: c.ID, Kind: bot.KindRated, Detail: detail}); err != nil {
					return err
				}
			}
			if rng.IntN(5) == 0 { // a later claim moves the case, ratings and all, to another staff member
				c.Assignee = staff[rng.IntN(len(staff))]
				if err := tx.UpdateCase(ctx, c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("update cases: %v", err)
	}
	return cases
}

// dashQueries are periods (whole days, as the roll-up needs) and groupings to compare.
func dashQueries() []bot.FunnelQuery {
	var qs []bot.FunnelQuery
	for _, g := range [][]string{nil, {"platform"}, {"channel"}, {"staff"}, {"week"}, {"platform", "channel"}, {"week", "staff"}} {
		qs = append(qs,
			bot.FunnelQuery{GroupBy: g},
			bot.FunnelQuery{Since: dashDay().AddDate(0, 0, 10), Until: dashDay().AddDate(0, 0, 40), GroupBy: g},
			bot.FunnelQuery{Since: dashDay().AddDate(0, 0, 20), Platform: bot.Slack, Channel: "help", GroupBy: g},
			bot.FunnelQuery{Until: dashDay().AddDate(0, 0, 1), Platform: bot.Discord, GroupBy: g},
		)
	}
	return qs
}

func TestDashboardFunnelMatchesFunnel(t *testing.T) {
	db := openTest(t, Options{})
	randomCases(t, db, 400, 1)
	check := func(t *testing.T) {
		for _, q := range dashQueries() {
			_, _, rolled := rollupFor(q)
			staffFiltered := slices.Contains(q.GroupBy, "staff") && (q.Platform != "" || q.Channel != "")
			if rolled == staffFiltered {
				t.Errorf("query %+v: roll-up %v, want %v", q, rolled, !staffFiltered)
			}
			got, err := db.DashboardFunnel(t.Context(), q)
			if err != nil {
				t.Fatalf("DashboardFunnel(%+v): %v", q, err)
			}
			want, err := db.Funnel(t.Context(), q)
			if err != nil {
				t.Fatalf("Funnel(%+v): %v", q, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("query %+v:\n got %v\nwant %v", q, got, want)
			}
		}
	}
	check(t)
	// Forgetting a staff member renames the assignee on their cases: the
	// roll-up follows.
	if err := db.Update(t.Context(), func(tx bot.Tx) error {
		_, err := tx.Forget(t.Context(), bot.Slack, "S1")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	check(t)
}

func TestDashboardFunnelFallsBack(t *testing.T) {
	db := openTest(t, Options{})
	randomCases(t, db, 50, 2)
	for _, q := range []bot.FunnelQuery{
		{Since: dashDay().Add(36 * time.Hour)},    // not a whole day
		{GroupBy: []string{"target", "platform"}}, // not in the roll-up
	} {
		got, err := db.DashboardFunnel(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		want, err := db.Funnel(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("query %+v:\n got %v\nwant %v", q, got, want)
		}
	}
	if _, err := db.DashboardFunnel(t.Context(), bot.FunnelQuery{GroupBy: []string{"colour"}}); err == nil {
		t.Error("grouping by colour: got no error")
	}
}

// collect runs one of the dashboard's callback queries into comparable lines.
func collectRatings(t *testing.T, fn func(func(keys []string, scale bot.Scale, score, n int) error) error) []string {
	t.Helper()
	var out []string
	if err := fn(func(keys []string, scale bot.Scale, score, n int) error {
		out = append(out, fmt.Sprintf("%q %s %d: %d", keys, scale, score, n))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func collectTimes(t *testing.T, fn func(func(keys []string, bounds []time.Duration, first, res []int) error) error) []string {
	t.Helper()
	var out []string
	if err := fn(func(keys []string, bounds []time.Duration, first, res []int) error {
		if len(first) != len(bounds)+1 || len(res) != len(bounds)+1 {
			t.Errorf("%d bounds for %d and %d buckets", len(bounds), len(first), len(res))
		}
		out = append(out, fmt.Sprintf("%q first %v resolved %v", keys, first, res))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDashboardRollupMatchesScan(t *testing.T) {
	db := openTest(t, Options{})
	randomCases(t, db, 400, 3)
	ctx := t.Context()
	bounds, err := db.timeBounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range dashQueries() {
		if _, _, ok := rollupFor(q); !ok {
			continue
		}
		got := collectRatings(t, func(fn func([]string, bot.Scale, int, int) error) error {
			_, err := db.rollupRatings(ctx, q, fn)
			return err
		})
		want := collectRatings(t, func(fn func([]string, bot.Scale, int, int) error) error { return db.scanRatings(ctx, q, fn) })
		if !slices.Equal(got, want) {
			t.Errorf("ratings %+v:\n got %v\nwant %v", q, got, want)
		}
		gotT := collectTimes(t, func(fn func([]string, []time.Duration, []int, []int) error) error {
			_, err := db.rollupTimes(ctx, q, bounds, fn)
			return err
		})
		wantT := collectTimes(t, func(fn func([]string, []time.Duration, []int, []int) error) error {
			return db.scanTimes(ctx, q, bounds, fn)
		})
		if !slices.Equal(gotT, wantT) {
			t.Errorf("times %+v:\n got %v\nwant %v", q, gotT, wantT)
		}
	}
}

// TestResponseTimesBuckets checks the bucket of known times against the
// bounds: below the first bound, exactly on a bound, and past the last.
func TestResponseTimesBuckets(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	opened := dashDay().Add(time.Hour)
	times := []time.Duration{30 * time.Second, time.Minute, 59 * time.Minute, 8 * day}
	err := db.Update(ctx, func(tx bot.Tx) error {
		for _, d := range times {
			c := &bot.Case{Platform: bot.Slack, OpenedAt: opened, FirstResponseAt: opened.Add(d)}
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []bot.FunnelQuery{{}, {Since: opened}} { // roll-up, then scan
		var first []int
		var bounds []time.Duration
		err := db.ResponseTimes(ctx, q, func(_ []string, b []time.Duration, f, _ []int) error {
			first, bounds = f, b
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int, timeBuckets)
		for _, d := range times {
			i, _ := slices.BinarySearch(bounds, d)
			if i < len(bounds) && bounds[i] == d {
				i++ // a time on a bound belongs to the bucket above it
			}
			want[i]++
		}
		if !slices.Equal(first, want) {
			t.Errorf("query %+v: got buckets %v, want %v", q, first, want)
		}
		if want[0] != 1 || want[1] != 1 || want[timeBuckets-1] != 1 {
			t.Errorf("bounds %v do not start at 1 min or end below 8 days", bounds)
		}
	}
}

// rollupRowsOf brings the roll-ups up to date and dumps one, leaving out
// groups with no case.
func rollupRowsOf(t *testing.T, db *DB, table string) []string {
	t.Helper()
	if err := db.refreshDashboard(t.Context()); err != nil {
		t.Fatal(err)
	}
	rows, err := db.read.QueryContext(t.Context(), "SELECT * FROM "+table+" WHERE cases != 0 ORDER BY 1, 2, 3")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRebuildDashboard(t *testing.T) {
	db := openTest(t, Options{})
	randomCases(t, db, 150, 5)
	for _, table := range []string{"dashboard_daily", "dashboard_staff"} {
		before := rollupRowsOf(t, db, table)
		if len(before) == 0 {
			t.Fatalf("%s is empty", table)
		}
		if err := db.RebuildDashboard(t.Context()); err != nil {
			t.Fatal(err)
		}
		if after := rollupRowsOf(t, db, table); !slices.Equal(before, after) {
			t.Errorf("%s: the triggers' rows differ from the rebuilt ones:\n got %v\nwant %v", table, before, after)
		}
	}
}

func TestChannels(t *testing.T) {
	db := openTest(t, Options{})
	randomCases(t, db, 60, 4)
	got, err := db.Channels(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var want []bot.Ref
	for _, p := range []string{bot.Discord, bot.Slack} {
		for _, c := range []string{"", "billing", "help"} {
			want = append(want, bot.Ref{Platform: p, Channel: c})
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Channels: got %v, want %v", got, want)
	}
}

func TestTestimonials(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	var ids []int64
	err := db.Update(ctx, func(tx bot.Tx) error {
		for i := range 5 {
			c := &bot.Case{Platform: bot.Slack, Public: bot.Ref{Channel: []string{"help", "billing"}[i%2]}, OpenedAt: dashDay()}
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
			at := dashDay().Add(time.Duration(i) * day)
			o := &bot.Offer{CaseID: c.ID, Round: 1, Target: "showcase", Kind: bot.TargetCommunityPost,
				Policy: bot.PolicySatisfied, Text: fmt.Sprint("text ", i), State: bot.OfferShared, At: at, SharedAt: at,
				Post: bot.Ref{Platform: bot.Slack, Channel: "C-show", Message: fmt.Sprint("m", i)}}
			if i == 3 {
				o.State = bot.OfferWithdrawn
			}
			if err := tx.CreateOffer(ctx, o); err != nil {
				return err
			}
			detail, _ := json.Marshal(map[string]any{"offer": o.ID, "target": o.Target, "text": o.Text,
				"channel": "C-show", "message": o.Post.Message, "consented_at": at})
			if err := tx.Record(ctx, bot.CaseEvent{CaseID: c.ID, Kind: bot.KindShared, At: at, Detail: detail}); err != nil {
				return err
			}
			ids = append(ids, c.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		caseID int64
		state  string
	}
	list := func(q bot.FunnelQuery, offset, limit int) ([]seen, int) {
		var out []seen
		total, err := db.Testimonials(ctx, q, offset, limit, func(e bot.CaseEvent, o bot.Offer) error {
			if o.CaseID != e.CaseID {
				t.Errorf("event of case %d came with the offer of case %d", e.CaseID, o.CaseID)
			}
			out = append(out, seen{e.CaseID, o.State})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out, total
	}
	got, total := list(bot.FunnelQuery{}, 1, 2)
	want := []seen{{ids[3], bot.OfferWithdrawn}, {ids[2], bot.OfferShared}}
	if total != 5 || !slices.Equal(got, want) {
		t.Errorf("page 2 of 2: got %v of %d, want %v of 5", got, total, want)
	}
	got, total = list(bot.FunnelQuery{Since: dashDay().Add(day), Until: dashDay().Add(4 * day), Channel: "help"}, 0, 0)
	want = []seen{{ids[2], bot.OfferShared}}
	if total != 1 || !slices.Equal(got, want) {
		t.Errorf("days 1-3 in help: got %v of %d, want %v of 1", got, total, want)
	}
}

// day is a UTC day, for the tests' dates.
const day = 24 * time.Hour

// TestMigrationBackfills upgrades a database that has cases but not the
// roll-ups, as an existing deployment does, and checks that the migration
// marks every day, so that the first read fills the roll-ups.
func TestMigrationBackfills(t *testing.T) {
	path := t.TempDir() + "/advocate.db"
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	randomCases(t, db, 120, 6)
	want := map[string][]string{}
	for _, table := range []string{"dashboard_daily", "dashboard_staff"} {
		want[table] = rollupRowsOf(t, db, table)
	}
	for _, q := range []string{
		"DROP TRIGGER dashboard_rating_update", "DROP TRIGGER dashboard_rating_delete",
		"DROP TRIGGER dashboard_rating_insert", "DROP TRIGGER dashboard_case_delete",
		"DROP TRIGGER dashboard_case_update", "DROP TRIGGER dashboard_case_insert",
		"DROP INDEX case_events_shared", "DROP TABLE dashboard_dirty", "DROP TABLE dashboard_staff", "DROP TABLE dashboard_daily",
		"DROP TABLE dashboard_time_bounds", "DELETE FROM goose_db_version WHERE version_id = 2",
		// and the later migrations, so that the database is at version 1
		"DROP INDEX case_events_staff", "DROP TABLE store_probe", "DROP TABLE dashboard_sessions",
		"DROP TABLE dashboard_keys", "DELETE FROM goose_db_version WHERE version_id = 3",
	} {
		if _, err := db.write.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for table, rows := range want {
		if got := rollupRowsOf(t, db, table); !slices.Equal(got, rows) {
			t.Errorf("%s after the migration:\n got %v\nwant %v", table, got, rows)
		}
	}
}
