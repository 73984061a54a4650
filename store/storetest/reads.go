package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// Reads is a store with the reads the dashboard and the export make beside
// the core's contract (web.Store and cmd/advocate's exportStore name them for
// their users).
type Reads interface {
	bot.Store
	DashboardFunnel(ctx context.Context, q bot.FunnelQuery) ([]bot.FunnelRow, error)
	Channels(ctx context.Context) ([]bot.Ref, error)
	RatingCounts(ctx context.Context, q bot.FunnelQuery, fn func(keys []string, scale bot.Scale, score, n int) error) error
	ResponseTimes(ctx context.Context, q bot.FunnelQuery,
		fn func(keys []string, bounds []time.Duration, firstResponse, resolution []int) error) error
	Testimonials(ctx context.Context, q bot.FunnelQuery, offset, limit int, fn func(e bot.CaseEvent, o bot.Offer) error) (int, error)
	ExportCases(ctx context.Context, q bot.FunnelQuery, fn func(bot.Case) error) error
	ExportEvents(ctx context.Context, q bot.FunnelQuery, fn func(bot.CaseEvent) error) error
	Wall(ctx context.Context, offset, limit int) ([]bot.WallEntry, error)
	ExperimentCounts(ctx context.Context, q bot.FunnelQuery) ([]bot.VariantCounts, error)
	SurveySkips(ctx context.Context, q bot.FunnelQuery) (map[string]int, error)
}

// RunReads runs the suite of the dashboard's and the export's reads. open
// must return a new, empty store for each call and close it when t ends.
func RunReads(t *testing.T, open func(t *testing.T) Reads) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Reads)
	}{
		{"DashboardFunnel", testDashboardFunnel},
		{"RatingCounts", testRatingCounts},
		{"ResponseTimes", testResponseTimes},
		{"ResponseTimeBuckets", testResponseTimeBuckets},
		{"Channels", testChannels},
		{"Testimonials", testTestimonials},
		{"Export", testExport},
		{"Wall", testWall},
		{"ExperimentCounts", testExperimentCounts},
		{"SurveySkips", testSurveySkips},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

const oneDay = 24 * time.Hour

// dashDay is a Monday at 00:00 UTC; the random cases are opened in the 60 days after it.
func dashDay() time.Time { return time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC) }

// rated is a rating as randomCases stored it.
type rated struct {
	caseID int64
	scale  bot.Scale
	score  int
}

// randomCases stores n cases through the Tx API with random channels, staff,
// stages, ratings and times, then changes some of them as the core would
// (claims, later responses, resolutions). It returns the cases as they are
// now and the ratings.
func randomCases(t *testing.T, s bot.Store, n int, seed uint64) ([]*bot.Case, []rated) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	platforms := []string{bot.Slack, bot.Discord}
	channels := []string{"help", "billing", ""}
	staff := []string{"", "S1", "S2", "S3"}
	kinds := []string{bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindFirstStaffResponse, bot.KindResolved,
		bot.KindSurveySent, bot.KindShareOffered, bot.KindShareClicked, bot.KindShared, bot.KindNote}
	var cases []*bot.Case
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		cases = cases[:0]
		for range n {
			p := platforms[rng.IntN(2)]
			c := &bot.Case{Platform: p, Customer: bot.Person{Platform: p, ID: fmt.Sprint("u", rng.IntN(50))},
				Public:   bot.Ref{Platform: p, Channel: channels[rng.IntN(len(channels))]},
				Assignee: staff[rng.IntN(len(staff))],
				OpenedAt: dashDay().Add(time.Duration(rng.Int64N(int64(60 * oneDay)))).Truncate(time.Millisecond)}
			if rng.IntN(3) == 0 {
				c.FirstResponseAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(30 * time.Hour)))).Truncate(time.Millisecond)
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
	scales := []bot.Scale{bot.CSAT, bot.CES, bot.NPS}
	var ratings []rated
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		ratings = ratings[:0]
		for _, c := range cases {
			switch rng.IntN(4) {
			case 0:
				c.Assignee = staff[rng.IntN(len(staff))]
			case 1:
				c.FirstResponseAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(10 * oneDay)))).Truncate(time.Millisecond)
				c.ResolvedAt = c.FirstResponseAt.Add(time.Duration(rng.Int64N(int64(3 * oneDay)))).Truncate(time.Millisecond)
			case 2:
				c.ResolvedAt = c.OpenedAt.Add(time.Duration(rng.Int64N(int64(90 * time.Minute)))).Truncate(time.Millisecond)
			}
			c.Status = bot.StatusResolved
			if err := tx.UpdateCase(ctx, c); err != nil {
				return err
			}
			for round := 1; round <= rng.IntN(3); round++ {
				sc := scales[rng.IntN(3)]
				r := bot.Rating{CaseID: c.ID, Round: round, Scale: sc, Score: 1 + rng.IntN(5), Satisfied: rng.IntN(2) == 0}
				r.Recovery = round == 2 && r.Satisfied
				if err := tx.PutRating(ctx, &r); err != nil {
					return err
				}
				ratings = append(ratings, rated{c.ID, sc, r.Score})
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
	return cases, ratings
}

// dashQueries are periods and groupings to compare.
func dashQueries() []bot.FunnelQuery {
	var qs []bot.FunnelQuery
	for _, g := range [][]string{nil, {"platform"}, {"channel"}, {"staff"}, {"week"}, {"platform", "channel"}, {"week", "staff"}} {
		qs = append(qs,
			bot.FunnelQuery{GroupBy: g},
			bot.FunnelQuery{Since: dashDay().AddDate(0, 0, 10), Until: dashDay().AddDate(0, 0, 40), GroupBy: g},
			bot.FunnelQuery{Since: dashDay().AddDate(0, 0, 20), Platform: bot.Slack, Channel: "help", GroupBy: g},
			bot.FunnelQuery{Until: dashDay().AddDate(0, 0, 1), Platform: bot.Discord, GroupBy: g},
			bot.FunnelQuery{Since: dashDay().Add(36 * time.Hour), GroupBy: g}, // not a whole day
		)
	}
	return qs
}

// selects reports whether q selects c, and c's group keys under q.
func selects(q bot.FunnelQuery, c *bot.Case) (bool, []string) {
	if (!q.Since.IsZero() && c.OpenedAt.Before(q.Since)) || (!q.Until.IsZero() && !c.OpenedAt.Before(q.Until)) ||
		(q.Platform != "" && c.Platform != q.Platform) || (q.Channel != "" && c.Public.Channel != q.Channel) {
		return false, nil
	}
	keys := []string{}
	for _, g := range q.GroupBy {
		switch g {
		case "platform":
			keys = append(keys, c.Platform)
		case "channel":
			keys = append(keys, c.Public.Channel)
		case "staff":
			keys = append(keys, c.Assignee)
		case "week":
			y, w := c.OpenedAt.ISOWeek()
			keys = append(keys, fmt.Sprintf("%04d-W%02d", y, w))
		}
	}
	return true, keys
}

func testDashboardFunnel(t *testing.T, s Reads) {
	randomCases(t, s, 300, 1)
	check := func(t *testing.T) {
		for _, q := range append(dashQueries(), bot.FunnelQuery{GroupBy: []string{"target", "platform"}}) {
			got, err := s.DashboardFunnel(t.Context(), q)
			if err != nil {
				t.Fatalf("DashboardFunnel(%+v): %v", q, err)
			}
			want, err := s.Funnel(t.Context(), q)
			if err != nil {
				t.Fatalf("Funnel(%+v): %v", q, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("query %+v:\n got %v\nwant %v", q, got, want)
			}
		}
	}
	check(t)
	// Forgetting a staff member renames the assignee on their cases.
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		_, err := tx.Forget(ctx, bot.Slack, "S1")
		return err
	})
	check(t)
	if _, err := s.DashboardFunnel(t.Context(), bot.FunnelQuery{GroupBy: []string{"colour"}}); err == nil {
		t.Error("grouping by colour: got no error")
	}
}

func testRatingCounts(t *testing.T, s Reads) {
	cases, ratings := randomCases(t, s, 300, 3)
	byID := map[int64]*bot.Case{}
	for _, c := range cases {
		byID[c.ID] = c
	}
	for _, q := range dashQueries() {
		want := map[string]int{}
		for _, r := range ratings {
			if ok, keys := selects(q, byID[r.caseID]); ok {
				want[fmt.Sprintf("%q %s %d", keys, r.scale, r.score)]++
			}
		}
		got := map[string]int{}
		var order []string
		err := s.RatingCounts(t.Context(), q, func(keys []string, scale bot.Scale, score, n int) error {
			k := fmt.Sprintf("%q %s %d", keys, scale, score)
			got[k] += n
			order = append(order, fmt.Sprintf("%q", keys))
			return nil
		})
		if err != nil {
			t.Fatalf("RatingCounts(%+v): %v", q, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ratings %+v:\n got %v\nwant %v", q, got, want)
		}
		if !slices.IsSorted(order) {
			t.Errorf("ratings %+v: groups not ordered by keys: %v", q, order)
		}
	}
	if err := s.RatingCounts(t.Context(), bot.FunnelQuery{GroupBy: []string{"target"}},
		func([]string, bot.Scale, int, int) error { return nil }); err == nil {
		t.Error("ratings grouped by target: got no error")
	}
}

// bucket is the histogram bucket of d: the number of bounds at or below it.
func bucket(d time.Duration, bounds []time.Duration) int {
	i, found := slices.BinarySearch(bounds, d)
	if found {
		i++ // a time on a bound belongs to the bucket above it
	}
	return i
}

func testResponseTimes(t *testing.T, s Reads) {
	cases, _ := randomCases(t, s, 300, 4)
	for _, q := range dashQueries() {
		got := map[string]string{}
		var bounds []time.Duration
		err := s.ResponseTimes(t.Context(), q, func(keys []string, b []time.Duration, first, res []int) error {
			bounds = b
			if len(first) != len(b)+1 || len(res) != len(b)+1 {
				t.Errorf("%d bounds for %d and %d buckets", len(b), len(first), len(res))
			}
			got[fmt.Sprintf("%q", keys)] = fmt.Sprint(first, res)
			return nil
		})
		if err != nil {
			t.Fatalf("ResponseTimes(%+v): %v", q, err)
		}
		type hist struct{ first, res []int }
		hs := map[string]*hist{}
		for _, c := range cases {
			ok, keys := selects(q, c)
			if !ok {
				continue
			}
			k := fmt.Sprintf("%q", keys)
			if hs[k] == nil {
				hs[k] = &hist{make([]int, len(bounds)+1), make([]int, len(bounds)+1)}
			}
			if !c.FirstResponseAt.IsZero() {
				hs[k].first[bucket(c.FirstResponseAt.Sub(c.OpenedAt), bounds)]++
			}
			if !c.ResolvedAt.IsZero() {
				hs[k].res[bucket(c.ResolvedAt.Sub(c.OpenedAt), bounds)]++
			}
		}
		want := map[string]string{}
		for k, h := range hs {
			want[k] = fmt.Sprint(h.first, h.res)
		}
		if len(q.GroupBy) == 0 && len(want) == 0 {
			want[`[]`] = fmt.Sprint(make([]int, len(bounds)+1), make([]int, len(bounds)+1))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("times %+v:\n got %v\nwant %v", q, got, want)
		}
	}
}

// testResponseTimeBuckets checks the bucket of known times against the
// bounds: below the first bound, exactly on a bound, and past the last.
func testResponseTimeBuckets(t *testing.T, s Reads) {
	opened := dashDay().Add(time.Hour)
	times := []time.Duration{30 * time.Second, time.Minute, 59 * time.Minute, 8 * oneDay}
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, d := range times {
			c := &bot.Case{Platform: bot.Slack, OpenedAt: opened, FirstResponseAt: opened.Add(d)}
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	for _, q := range []bot.FunnelQuery{{}, {Since: opened}} {
		var first []int
		var bounds []time.Duration
		err := s.ResponseTimes(t.Context(), q, func(_ []string, b []time.Duration, f, _ []int) error {
			first, bounds = f, b
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int, len(bounds)+1)
		for _, d := range times {
			want[bucket(d, bounds)]++
		}
		if !slices.Equal(first, want) {
			t.Errorf("query %+v: got buckets %v, want %v", q, first, want)
		}
		if want[0] != 1 || want[1] != 1 || want[len(bounds)] != 1 {
			t.Errorf("bounds %v do not start at 1 min or end below 8 days", bounds)
		}
	}
}

func testChannels(t *testing.T, s Reads) {
	randomCases(t, s, 60, 4)
	got, err := s.Channels(t.Context())
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

func testTestimonials(t *testing.T, s Reads) {
	ctx := t.Context()
	var ids []int64
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		ids = ids[:0]
		for i := range 5 {
			c := &bot.Case{Platform: bot.Slack, Public: bot.Ref{Channel: []string{"help", "billing"}[i%2]}, OpenedAt: dashDay()}
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
			at := dashDay().Add(time.Duration(i) * oneDay)
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
	type seen struct {
		caseID int64
		state  string
		text   string
	}
	list := func(q bot.FunnelQuery, offset, limit int) ([]seen, int) {
		var out []seen
		total, err := s.Testimonials(ctx, q, offset, limit, func(e bot.CaseEvent, o bot.Offer) error {
			if o.CaseID != e.CaseID {
				t.Errorf("event of case %d came with the offer of case %d", e.CaseID, o.CaseID)
			}
			out = append(out, seen{e.CaseID, o.State, o.Text})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out, total
	}
	got, total := list(bot.FunnelQuery{}, 1, 2)
	want := []seen{{ids[3], bot.OfferWithdrawn, "text 3"}, {ids[2], bot.OfferShared, "text 2"}}
	if total != 5 || !slices.Equal(got, want) {
		t.Errorf("page 2 of 2: got %v of %d, want %v of 5", got, total, want)
	}
	got, total = list(bot.FunnelQuery{Since: dashDay().Add(oneDay), Until: dashDay().Add(4 * oneDay), Channel: "help"}, 0, 0)
	want = []seen{{ids[2], bot.OfferShared, "text 2"}}
	if total != 1 || !slices.Equal(got, want) {
		t.Errorf("days 1-3 in help: got %v of %d, want %v of 1", got, total, want)
	}
}

func testExport(t *testing.T, s Reads) {
	var ids []int64
	for i, p := range []string{bot.Slack, bot.Discord, bot.Slack} {
		c := sampleCase(fmt.Sprint("c", i), day(i).Truncate(oneDay))
		c.Platform, c.Customer.Platform = p, p
		ids = append(ids, createCase(t, s, c).ID)
	}
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, id := range ids {
			for _, kind := range []string{bot.KindAskedPublic, bot.KindTakenPrivate} {
				if err := tx.Record(ctx, bot.CaseEvent{CaseID: id, Kind: kind}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	tests := []struct {
		name       string
		q          bot.FunnelQuery
		wantCases  []int64
		wantEvents int
	}{
		{"all", bot.FunnelQuery{}, ids, 6},
		{"platform", bot.FunnelQuery{Platform: bot.Slack}, []int64{ids[0], ids[2]}, 4},
		{"time", bot.FunnelQuery{Since: day(1).Truncate(oneDay), Until: day(2).Truncate(oneDay)}, []int64{ids[1]}, 2},
	}
	for _, tt := range tests {
		var got []int64
		err := s.ExportCases(t.Context(), tt.q, func(c bot.Case) error {
			if !strings.HasPrefix(c.Customer.ID, "c") || c.Question == "" {
				t.Errorf("%s: exported case %+v lacks its fields", tt.name, c)
			}
			got = append(got, c.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		events := 0
		err = s.ExportEvents(t.Context(), tt.q, func(e bot.CaseEvent) error {
			if !slices.Contains(tt.wantCases, e.CaseID) {
				t.Errorf("%s: event of case %d exported", tt.name, e.CaseID)
			}
			events++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.wantCases) || events != tt.wantEvents {
			t.Errorf("%s: got cases %v and %d events, want %v and %d", tt.name, got, events, tt.wantCases, tt.wantEvents)
		}
	}
	// fn's error stops the export and comes back as it is; a store that
	// leaked the rows would soon run out of connections.
	stop := errors.New("stop")
	for range 20 {
		errC := s.ExportCases(t.Context(), bot.FunnelQuery{}, func(bot.Case) error { return stop })
		errE := s.ExportEvents(t.Context(), bot.FunnelQuery{}, func(bot.CaseEvent) error { return stop })
		if !errors.Is(errC, stop) || !errors.Is(errE, stop) {
			t.Fatalf("export stopped by fn: got %v and %v, want %v", errC, errE, stop)
		}
	}
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return nil })
}

// testExperimentCounts counts prompts (a case's offers of one round) per
// experiment and variant: a click or share on any offer of a prompt counts
// once, a later round of the same case is another prompt, and offers outside
// experiments are left out.
func testExperimentCounts(t *testing.T, s Reads) {
	type offer struct {
		round        int
		exp, variant string
		state        string
		target       string
	}
	cases := []struct {
		day     int
		channel string
		offers  []offer
	}{
		{0, "help", []offer{
			{1, "wording", "plain", bot.OfferClicked, "x"}, {1, "wording", "plain", bot.OfferOffered, "showcase"},
			{2, "wording", "plain", bot.OfferShared, "showcase"}, {2, "wording", "plain", bot.OfferClicked, "x"},
		}},
		{0, "help", []offer{{1, "wording", "warm", bot.OfferDeclined, "showcase"}}},
		{1, "help", []offer{{1, "", "", bot.OfferShared, "showcase"}}},
		{1, "billing", []offer{{1, "wording", "warm", bot.OfferWithdrawn, "showcase"}}},
		{2, "help", []offer{{1, "delay", "next day", bot.OfferOffered, "x"}}},
	}
	var ids []int64
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		ids = ids[:0]
		for _, c := range cases {
			cs := &bot.Case{Platform: bot.Slack, Public: bot.Ref{Channel: c.channel}, OpenedAt: dashDay().Add(time.Duration(c.day) * oneDay)}
			if err := tx.CreateCase(ctx, cs); err != nil {
				return err
			}
			ids = append(ids, cs.ID)
			for _, o := range c.offers {
				bo := &bot.Offer{CaseID: cs.ID, Round: o.round, Target: o.target, Kind: bot.TargetCommunityPost,
					Policy: bot.PolicySatisfied, State: o.state, At: cs.OpenedAt, Experiment: o.exp, Variant: o.variant}
				if o.state == bot.OfferWithdrawn {
					bo.SharedAt = cs.OpenedAt // shared, then withdrawn: still a share
				}
				if err := tx.CreateOffer(ctx, bo); err != nil {
					return err
				}
			}
		}
		return nil
	})
	tests := []struct {
		name string
		q    bot.FunnelQuery
		want []bot.VariantCounts
	}{
		{"all", bot.FunnelQuery{}, []bot.VariantCounts{
			{Experiment: "delay", Variant: "next day", Offered: 1},
			{Experiment: "wording", Variant: "plain", Offered: 2, Clicked: 2, Shared: 1},
			{Experiment: "wording", Variant: "warm", Offered: 2, Clicked: 1, Shared: 1},
		}},
		{"first day", bot.FunnelQuery{Since: dashDay(), Until: dashDay().Add(oneDay)}, []bot.VariantCounts{
			{Experiment: "wording", Variant: "plain", Offered: 2, Clicked: 2, Shared: 1},
			{Experiment: "wording", Variant: "warm", Offered: 1},
		}},
		{"billing", bot.FunnelQuery{Channel: "billing"}, []bot.VariantCounts{
			{Experiment: "wording", Variant: "warm", Offered: 1, Clicked: 1, Shared: 1},
		}},
		{"another platform", bot.FunnelQuery{Platform: bot.Discord}, nil},
		{"not whole days", bot.FunnelQuery{Since: dashDay().Add(time.Hour), Until: dashDay().Add(36 * time.Hour)}, []bot.VariantCounts{
			{Experiment: "wording", Variant: "warm", Offered: 1, Clicked: 1, Shared: 1},
		}},
	}
	check := func(tests []struct {
		name string
		q    bot.FunnelQuery
		want []bot.VariantCounts
	}) {
		t.Helper()
		for _, tt := range tests {
			got, err := s.ExperimentCounts(t.Context(), tt.q)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
			}
		}
	}
	check(tests)
	// The second case's warm offer is clicked after the first reads: the
	// next read counts it.
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		offers, err := tx.Offers(ctx, ids[1])
		if err != nil || len(offers) != 1 {
			return fmt.Errorf("offers of the second case: %v, %v", offers, err)
		}
		offers[0].State = bot.OfferClicked
		return tx.UpdateOffer(ctx, offers[0])
	})
	tests[1].want[1].Clicked = 1
	check(tests[1:2])
}

// testSurveySkips counts survey_skipped events by reason, on the cases a
// query selects.
func testSurveySkips(t *testing.T, s Reads) {
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for i, reason := range []string{bot.SkipSampledOut, bot.SkipSampledOut, bot.SkipCooldown, bot.SkipSampledOut} {
			cs := &bot.Case{Platform: bot.Slack, Public: bot.Ref{Channel: []string{"help", "billing"}[i%2]},
				OpenedAt: dashDay().Add(time.Duration(i) * oneDay)}
			if err := tx.CreateCase(ctx, cs); err != nil {
				return err
			}
			detail, _ := json.Marshal(map[string]any{"reason": reason, "round": 1})
			for _, kind := range []string{bot.KindResolved, bot.KindSurveySkipped} {
				if err := tx.Record(ctx, bot.CaseEvent{CaseID: cs.ID, Kind: kind, Detail: detail}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	for _, tt := range []struct {
		name string
		q    bot.FunnelQuery
		want map[string]int
	}{
		{"all", bot.FunnelQuery{}, map[string]int{bot.SkipSampledOut: 3, bot.SkipCooldown: 1}},
		{"help", bot.FunnelQuery{Channel: "help"}, map[string]int{bot.SkipSampledOut: 1, bot.SkipCooldown: 1}},
		{"days 1-2", bot.FunnelQuery{Since: dashDay().Add(oneDay), Until: dashDay().Add(3 * oneDay)}, map[string]int{bot.SkipSampledOut: 1, bot.SkipCooldown: 1}},
		{"none", bot.FunnelQuery{Platform: bot.Discord}, map[string]int{}},
	} {
		got, err := s.SurveySkips(t.Context(), tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
