package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// wallOffer is a community post offer of a customer as the core may leave
// it: a state, a text, the wall chosen or not, a name, a day on the wall.
type wallOffer struct {
	customer string
	state    string
	text     string
	wall     bool
	name     string
	onWall   int // day on the wall; -1: not on it
}

// testWall: the wall lists only testimonials on it (chosen by the customer,
// live, still shared, with a text), newest first, by pages, with nothing
// but the chosen name, the text and the time; Forget and Purge take a
// customer's off at once.
func testWall(t *testing.T, s Reads) {
	offers := []wallOffer{
		{"ann", bot.OfferShared, "Ann's words", true, "Ann L.", 3},
		{"bob", bot.OfferShared, "Bob's words", true, "", 2},
		{"cid", bot.OfferShared, "Cid's words", false, "", -1},     // did not choose the wall
		{"dan", bot.OfferShared, "Dan's words", true, "Dan", -1},   // chose it, the post is not live yet
		{"eve", bot.OfferWithdrawn, "Eve's words", true, "Eve", 1}, // withdrawn
		{"fay", bot.OfferShared, "", true, "Fay", 4},               // text erased
		{"gus", bot.OfferShared, "Gus's words", true, "Gus G.", 1}, // the oldest on the wall
		{"hal", bot.OfferOffered, "Hal's words", false, "", -1},    // never shared
		{"ivy", bot.OfferShared, "Ivy's words", false, "Ivy", 5},   // not chosen, whatever else says
		{"jon", bot.OfferDeclined, "Jon's words", true, "Jon", 5},  // declined
		{"kim", bot.OfferExpired, "Kim's words", true, "Kim", 6},   // expired
		{"lea", bot.OfferClicked, "Lea's words", true, "Lea", 6},   // clicked, not posted
		{"max", bot.OfferShared, "Max's words", true, "Max M.", 2}, // the same day as Bob, later
	}
	caseOf := map[string]bot.Case{}
	for i, w := range offers {
		c := createCase(t, s, sampleCase(w.customer, day(0)))
		caseOf[w.customer] = c
		o := bot.Offer{CaseID: c.ID, Round: 1, Target: "showcase", Kind: bot.TargetCommunityPost, Policy: bot.PolicySatisfied,
			Text: w.text, State: w.state, At: day(0), Wall: w.wall, WallName: w.name}
		if w.state == bot.OfferShared || w.state == bot.OfferWithdrawn {
			o.SharedAt = day(0)
		}
		if w.onWall >= 0 {
			o.WallAt = day(w.onWall).Add(time.Duration(i) * time.Minute) // distinct times, whole ms
		}
		update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.CreateOffer(ctx, &o) })
	}
	want := []bot.WallEntry{
		{Name: "Ann L.", Text: "Ann's words", At: day(3)},
		{Name: "Max M.", Text: "Max's words", At: day(2).Add(12 * time.Minute)},
		{Name: "", Text: "Bob's words", At: day(2).Add(time.Minute)},
		{Name: "Gus G.", Text: "Gus's words", At: day(1).Add(6 * time.Minute)},
	}
	wall := func(offset, limit int) []bot.WallEntry {
		t.Helper()
		got, err := s.Wall(t.Context(), offset, limit)
		if err != nil {
			t.Fatalf("Wall(%d, %d): %v", offset, limit, err)
		}
		return got
	}
	if got := wall(0, 0); !reflect.DeepEqual(got, want) {
		t.Errorf("Wall:\n got %+v\nwant %+v", got, want)
	}
	if got := wall(1, 2); !reflect.DeepEqual(got, want[1:3]) {
		t.Errorf("Wall(1, 2):\n got %+v\nwant %+v", got, want[1:3])
	}
	if got := wall(4, 10); len(got) != 0 {
		t.Errorf("Wall past the end: got %+v, want none", got)
	}

	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		_, err := tx.Forget(ctx, bot.Slack, "ann")
		return err
	})
	if got := wall(0, 0); !reflect.DeepEqual(got, want[1:]) {
		t.Errorf("Wall after ann was forgotten:\n got %+v\nwant %+v", got, want[1:])
	}
	gus := caseOf["gus"]
	gus.Status, gus.ClosedAt = bot.StatusClosed, day(1)
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		if err := tx.UpdateCase(ctx, &gus); err != nil {
			return err
		}
		_, err := tx.Purge(ctx, day(2))
		return err
	})
	if got := wall(0, 0); !reflect.DeepEqual(got, want[1:3]) {
		t.Errorf("Wall after gus's case was purged:\n got %+v\nwant %+v", got, want[1:3])
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, name := range []string{"ann", "gus"} {
			offers, err := tx.Offers(ctx, caseOf[name].ID)
			if err != nil {
				return err
			}
			if o := offers[0]; o.WallName != "" || !o.WallAt.IsZero() {
				t.Errorf("%s's offer after Forget or Purge: name %q, on the wall at %v; want neither", name, o.WallName, o.WallAt)
			}
		}
		return nil
	})
}
