package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// offerPath is a share offer and the states it goes through after offered.
type offerPath struct {
	target, kind, text string
	states             []string
}

// story is a case and what happened to it, in order. A step is an event kind
// (string), a bot.Rating (stored with its rated event) or an offerPath.
type story struct {
	customer, platform, channel, staff string
	opened                             time.Time
	steps                              []any
}

// actorOf says who causes an event of kind: the customer or the staff member.
func (st story) actorOf(kind string) string {
	switch kind {
	case bot.KindAskedPublic, bot.KindShareClicked, bot.KindShared:
		return st.customer
	case bot.KindFirstStaffResponse, bot.KindResolved:
		return st.staff
	}
	return ""
}

// tell stores the story in one transaction and returns its case.
func tell(t *testing.T, s bot.Store, st story) bot.Case {
	t.Helper()
	c := sampleCase(st.customer, st.opened)
	c.Platform, c.Customer.Platform, c.Public.Channel, c.Assignee = st.platform, st.platform, st.channel, st.staff
	c.Private.Platform, c.Staff.Platform, c.Public.Platform = st.platform, st.platform, st.platform
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		for i, step := range st.steps {
			if err := st.apply(ctx, tx, c.ID, st.opened.Add(time.Duration(i+1)*time.Minute), step); err != nil {
				return err
			}
		}
		return nil
	})
	return c
}

func (st story) apply(ctx context.Context, tx bot.Tx, caseID int64, at time.Time, step any) error {
	event := bot.CaseEvent{CaseID: caseID, Platform: st.platform, At: at}
	switch step := step.(type) {
	case string:
		event.Kind, event.Actor = step, st.actorOf(step)
	case bot.Rating:
		step.CaseID, step.At = caseID, at
		if err := tx.PutRating(ctx, &step); err != nil {
			return err
		}
		event.Kind, event.Actor = bot.KindRated, st.customer
		event.Detail, _ = json.Marshal(map[string]any{
			"round": step.Round, "score": step.Score, "satisfied": step.Satisfied, "recovery": step.Recovery})
	case offerPath:
		o := bot.Offer{CaseID: caseID, Round: 1, Target: step.target, Kind: step.kind,
			Policy: bot.PolicyEveryone, Text: step.text, State: bot.OfferOffered, At: at}
		if err := tx.CreateOffer(ctx, &o); err != nil {
			return err
		}
		for _, state := range step.states {
			o.State = state
			if state == bot.OfferShared {
				o.SharedAt = at
			}
			if err := tx.UpdateOffer(ctx, &o); err != nil {
				return err
			}
		}
		event.Kind = bot.KindShareOffered
		event.Detail, _ = json.Marshal(map[string]any{"target": step.target, "policy": o.Policy, "text": step.text})
	default:
		return fmt.Errorf("story step %T", step)
	}
	return tx.Record(ctx, event)
}

// funnelCases stores five cases; A and B (slack, C-help, week 47) go far,
// C (discord, week 48) and D (discord, 2027-01-01, ISO week 2026-W53) stop
// early, E (slack) was opened a month before the others.
func funnelCases(t *testing.T, s bot.Store) map[string]bot.Case {
	t.Helper()
	helped := []any{bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindFirstStaffResponse, bot.KindResolved, bot.KindSurveySent}
	stories := map[string]story{
		"A": {"ann", bot.Slack, "C-help", "S1", day(0), append(slices.Clone(helped),
			bot.Rating{Round: 1, Scale: bot.CSAT, Score: 5, Satisfied: true, Comment: "great"},
			offerPath{"showcase", bot.TargetCommunityPost, "They fixed it", []string{bot.OfferClicked, bot.OfferShared, bot.OfferWithdrawn}},
			offerPath{"review", bot.TargetReviewLink, "", []string{bot.OfferClicked, bot.OfferExpired}},
			offerPath{"x", bot.TargetXPost, "Thanks @brand", []string{bot.OfferDeclined}},
			bot.KindShareClicked, bot.KindShared, bot.KindShareWithdrawn)},
		"B": {"bob", bot.Slack, "C-help", "S2", day(1), append(slices.Clone(helped),
			bot.Rating{Round: 1, Scale: bot.CSAT, Score: 1, Unhappy: true, Comment: "meh"},
			bot.KindReopened, bot.KindResolved, bot.KindSurveySent,
			bot.Rating{Round: 2, Scale: bot.CSAT, Score: 5, Satisfied: true, Recovery: true},
			offerPath{"review", bot.TargetReviewLink, "", nil})},
		"C": {"cy", bot.Discord, "G-general", "S1", day(7), []any{bot.KindAskedPublic, bot.KindTakenPrivate}},
		"D": {"dee", bot.Discord, "G-general", "", day(46), []any{bot.KindAskedPublic, bot.KindAskedPublic, bot.KindNote}},
		"E": {"eve", bot.Slack, "C-help", "S1", day(-30), helped[:4]},
	}
	cases := map[string]bot.Case{}
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		cases[name] = tell(t, s, stories[name])
	}
	return cases
}

// formatRows renders funnel rows as "key|key: counts… rec n" for comparison.
func formatRows(rows []bot.FunnelRow) []string {
	var out []string
	for _, r := range rows {
		counts := make([]string, len(r.Counts))
		for i, n := range r.Counts {
			counts[i] = fmt.Sprint(n)
		}
		out = append(out, fmt.Sprintf("%s: %s rec %d", strings.Join(r.Keys, "|"), strings.Join(counts, " "), r.Recoveries))
	}
	return out
}

// funnel runs q and formats its rows.
func funnel(t *testing.T, s bot.Store, q bot.FunnelQuery) []string {
	t.Helper()
	rows, err := s.Funnel(t.Context(), q)
	if err != nil {
		t.Fatalf("Funnel(%+v): %v", q, err)
	}
	for _, r := range rows {
		if len(r.Counts) != len(bot.Stages) || len(r.Keys) != len(q.GroupBy) {
			t.Errorf("Funnel(%+v): row has %d counts and %d keys, want %d and %d",
				q, len(r.Counts), len(r.Keys), len(bot.Stages), len(q.GroupBy))
		}
	}
	return formatRows(rows)
}

func testFunnel(t *testing.T, s bot.Store) {
	funnelCases(t, s)
	recent := day(-7)
	tests := []struct {
		name string
		q    bot.FunnelQuery
		want []string
	}{
		{"all time", bot.FunnelQuery{}, []string{": 5 4 3 3 2 2 2 2 1 1 rec 1"}},
		{"since", bot.FunnelQuery{Since: recent}, []string{": 4 3 2 2 2 2 2 2 1 1 rec 1"}},
		{"until", bot.FunnelQuery{Since: recent, Until: day(7)}, []string{": 2 2 2 2 2 2 2 2 1 1 rec 1"}},
		{"one day", bot.FunnelQuery{Since: day(7), Until: day(8)}, []string{": 1 1 0 0 0 0 0 0 0 0 rec 0"}},
		{"platform filter", bot.FunnelQuery{Platform: bot.Discord}, []string{": 2 1 0 0 0 0 0 0 0 0 rec 0"}},
		{"channel filter", bot.FunnelQuery{Channel: "C-help"}, []string{": 3 3 3 3 2 2 2 2 1 1 rec 1"}},
		{"by platform", bot.FunnelQuery{Since: recent, GroupBy: []string{"platform"}}, []string{
			"discord: 2 1 0 0 0 0 0 0 0 0 rec 0",
			"slack: 2 2 2 2 2 2 2 2 1 1 rec 1",
		}},
		{"by channel", bot.FunnelQuery{Since: recent, GroupBy: []string{"channel"}}, []string{
			"C-help: 2 2 2 2 2 2 2 2 1 1 rec 1",
			"G-general: 2 1 0 0 0 0 0 0 0 0 rec 0",
		}},
		{"by staff", bot.FunnelQuery{Since: recent, GroupBy: []string{"staff"}}, []string{
			": 1 0 0 0 0 0 0 0 0 0 rec 0",
			"S1: 2 2 1 1 1 1 1 1 1 1 rec 0",
			"S2: 1 1 1 1 1 1 1 1 0 0 rec 1",
		}},
		{"by week", bot.FunnelQuery{GroupBy: []string{"week"}}, []string{
			"2026-W42: 1 1 1 1 0 0 0 0 0 0 rec 0",
			"2026-W47: 2 2 2 2 2 2 2 2 1 1 rec 1",
			"2026-W48: 1 1 0 0 0 0 0 0 0 0 rec 0",
			"2026-W53: 1 0 0 0 0 0 0 0 0 0 rec 0",
		}},
		{"by platform and week", bot.FunnelQuery{Since: recent, GroupBy: []string{"platform", "week"}}, []string{
			"discord|2026-W48: 1 1 0 0 0 0 0 0 0 0 rec 0",
			"discord|2026-W53: 1 0 0 0 0 0 0 0 0 0 rec 0",
			"slack|2026-W47: 2 2 2 2 2 2 2 2 1 1 rec 1",
		}},
		{"grouped, nothing matches", bot.FunnelQuery{Platform: "irc", GroupBy: []string{"platform"}}, nil},
	}
	for _, tt := range tests {
		if got := funnel(t, s, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func testFunnelByTarget(t *testing.T, s bot.Store) {
	funnelCases(t, s)
	tests := []struct {
		name string
		q    bot.FunnelQuery
		want []string
	}{
		{"by target", bot.FunnelQuery{GroupBy: []string{"target"}}, []string{
			"review: 0 0 0 0 0 0 0 2 1 0 rec 0",
			"showcase: 0 0 0 0 0 0 0 1 1 1 rec 0",
			"x: 0 0 0 0 0 0 0 1 0 0 rec 0",
		}},
		{"by staff and target", bot.FunnelQuery{GroupBy: []string{"staff", "target"}}, []string{
			"S1|review: 0 0 0 0 0 0 0 1 1 0 rec 0",
			"S1|showcase: 0 0 0 0 0 0 0 1 1 1 rec 0",
			"S1|x: 0 0 0 0 0 0 0 1 0 0 rec 0",
			"S2|review: 0 0 0 0 0 0 0 1 0 0 rec 0",
		}},
		{"filtered by time", bot.FunnelQuery{Since: day(1), GroupBy: []string{"target"}}, []string{
			"review: 0 0 0 0 0 0 0 1 0 0 rec 0",
		}},
		{"no offers", bot.FunnelQuery{Platform: bot.Discord, GroupBy: []string{"target"}}, nil},
	}
	for _, tt := range tests {
		if got := funnel(t, s, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func testFunnelErrors(t *testing.T, s bot.Store) {
	for _, groups := range [][]string{{"month"}, {"platform", ""}} {
		if _, err := s.Funnel(t.Context(), bot.FunnelQuery{GroupBy: groups}); err == nil {
			t.Errorf("Funnel grouped by %q: got no error, want one", groups)
		}
	}
}
