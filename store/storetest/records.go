package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

func testCaseEvents(t *testing.T, s bot.Store) {
	c := createCase(t, s, sampleCase("ann", day(0)))
	other := createCase(t, s, sampleCase("bob", day(0)))
	detail := json.RawMessage(`{"target":"showcase","policy":"satisfied","text":"Great help!"}`)
	in := []bot.CaseEvent{
		{CaseID: c.ID, Kind: bot.KindTakenPrivate, Platform: bot.Slack, At: day(0).Add(time.Minute)},
		{CaseID: c.ID, Kind: bot.KindAskedPublic, Actor: "ann", Platform: bot.Slack, At: day(0)},
		{CaseID: other.ID, Kind: bot.KindAskedPublic, Actor: "bob", Platform: bot.Slack, At: day(0)},
		{CaseID: c.ID, Kind: bot.KindShareOffered, Platform: bot.Slack, At: day(0).Add(time.Hour), Detail: detail},
	}
	var now time.Time
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		now = tx.Now()
		for _, e := range in {
			if err := tx.Record(ctx, e); err != nil {
				return err
			}
		}
		return tx.Record(ctx, bot.CaseEvent{CaseID: c.ID, Kind: bot.KindNote, Actor: "S1", Platform: bot.Slack})
	})
	var got []bot.CaseEvent
	view(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		got, err = tx.CaseEvents(ctx, c.ID)
		return err
	})
	wantKinds := []string{bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindShareOffered, bot.KindNote}
	if len(got) != len(wantKinds) {
		t.Fatalf("CaseEvents: got %d events, want %d: %+v", len(got), len(wantKinds), got)
	}
	for i, e := range got {
		if e.Kind != wantKinds[i] || e.CaseID != c.ID || e.ID == 0 {
			t.Errorf("event %d: got %s of case %d (ID %d), want %s of case %d", i, e.Kind, e.CaseID, e.ID, wantKinds[i], c.ID)
		}
	}
	if got[0].Actor != "ann" || got[0].Platform != bot.Slack || !got[0].At.Equal(day(0)) {
		t.Errorf("first event: got actor %q platform %q at %v, want ann slack %v", got[0].Actor, got[0].Platform, got[0].At, day(0))
	}
	if !sameJSON(t, got[2].Detail, detail) {
		t.Errorf("detail: got %s, want %s", got[2].Detail, detail)
	}
	if got[1].Detail != nil {
		t.Errorf("absent detail: got %s, want nil", got[1].Detail)
	}
	if want := now.Truncate(time.Millisecond); !got[3].At.Truncate(time.Millisecond).Equal(want) {
		t.Errorf("defaulted At: got %v, want %v", got[3].At, want)
	}
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Errorf("decode %s: %v", a, err)
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Errorf("decode %s: %v", b, err)
		return false
	}
	return reflect.DeepEqual(x, y)
}

func testRatings(t *testing.T, s bot.Store) {
	c := createCase(t, s, sampleCase("ann", day(0)))
	first := bot.Rating{CaseID: c.ID, Round: 1, Scale: bot.CSAT, Score: 2, Unhappy: true, Comment: "slow", At: day(1)}
	second := bot.Rating{CaseID: c.ID, Round: 2, Scale: bot.CSAT, Score: 5, Satisfied: true, Recovery: true, At: day(2)}
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.PutRating(ctx, &first) })

	// A conflict fails only that call: the transaction still commits the rest.
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		again := first
		again.Score = 5
		wantErr(t, "PutRating of a rated round", tx.PutRating(ctx, &again), bot.ErrConflict)
		if _, err := tx.Seen(ctx, "after-conflict"); err != nil {
			return err
		}
		return tx.PutRating(ctx, &second)
	})
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		seen, err := tx.Seen(ctx, "after-conflict")
		if !seen {
			t.Errorf("Seen after a conflict in the same tx: got false, want true")
		}
		return err
	})
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		if err := tx.UpdateRatingComment(ctx, c.ID, 2, "thanks!"); err != nil {
			return err
		}
		wantErr(t, "UpdateRatingComment of an unrated round", tx.UpdateRatingComment(ctx, c.ID, 9, "x"), bot.ErrNotFound)
		return nil
	})
	second.Comment = "thanks!"
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		got, err := tx.Ratings(ctx, c.ID)
		if err != nil {
			return err
		}
		if want := []bot.Rating{first, second}; !reflect.DeepEqual(got, want) {
			t.Errorf("Ratings:\n got %+v\nwant %+v", got, want)
		}
		return nil
	})
}

func testOffers(t *testing.T, s bot.Store) {
	c := createCase(t, s, sampleCase("ann", day(0)))
	post := bot.Offer{CaseID: c.ID, Round: 1, Target: "showcase", Kind: bot.TargetCommunityPost,
		Policy: bot.PolicySatisfied, Text: "They fixed it in minutes", State: bot.OfferOffered, At: day(1),
		Experiment: "prompt wording", Variant: "warm"}
	review := bot.Offer{CaseID: c.ID, Round: 1, Target: "trustpilot", Kind: bot.TargetReviewLink,
		Policy: bot.PolicyEveryone, URL: "https://example.com/review", State: bot.OfferOffered, At: day(1)}
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		if err := tx.CreateOffer(ctx, &post); err != nil {
			return err
		}
		return tx.CreateOffer(ctx, &review)
	})
	if post.ID == 0 || review.ID == 0 || post.ID == review.ID {
		t.Fatalf("offer IDs: got %d and %d, want distinct non-zero", post.ID, review.ID)
	}
	post.State, post.Text = bot.OfferShared, "They fixed it in minutes!"
	post.Post = bot.Ref{Platform: bot.Slack, Channel: bot.ShowcaseChannel, Message: "900.1"}
	post.SharedAt = day(2)
	post.Wall, post.WallName, post.WallAt = true, "Ann from Leeds", day(2).Add(time.Second)
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.UpdateOffer(ctx, &post) })
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		got, err := tx.Offer(ctx, post.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(*got, post) {
			t.Errorf("Offer:\n got %+v\nwant %+v", *got, post)
		}
		all, err := tx.Offers(ctx, c.ID)
		if err != nil {
			return err
		}
		if len(all) != 2 || !reflect.DeepEqual(*all[0], post) || !reflect.DeepEqual(*all[1], review) {
			t.Errorf("Offers: got %+v, want [%+v %+v]", all, post, review)
		}
		_, err = tx.Offer(ctx, review.ID+100)
		wantErr(t, "Offer of a missing ID", err, bot.ErrNotFound)
		return nil
	})
	err := s.Update(t.Context(), func(tx bot.Tx) error {
		missing := review
		missing.ID += 100
		return tx.UpdateOffer(t.Context(), &missing)
	})
	wantErr(t, "UpdateOffer of a missing ID", err, bot.ErrNotFound)
}

func testPeople(t *testing.T, s bot.Store) {
	records := []bot.PersonRecord{
		{Platform: bot.Slack, ID: "ann", OptedOut: true},
		{Platform: bot.Slack, ID: "ann", LastPromptAt: day(3)}, // replaces the first
		{Platform: bot.Discord, ID: "bob", OptedOut: true, LastPromptAt: day(1), LastSurveyAt: day(2)},
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		got, err := tx.Person(ctx, bot.Slack, "ann")
		if want := (bot.PersonRecord{Platform: bot.Slack, ID: "ann"}); got != want {
			t.Errorf("unknown Person: got %+v, want %+v", got, want)
		}
		return err
	})
	for _, p := range records {
		update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.PutPerson(ctx, p) })
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, want := range records[1:] {
			got, err := tx.Person(ctx, want.Platform, want.ID)
			if err != nil {
				return err
			}
			if got != want {
				t.Errorf("Person(%s, %s): got %+v, want %+v", want.Platform, want.ID, got, want)
			}
		}
		got, err := tx.Person(ctx, bot.Discord, "ann")
		if got.OptedOut || !got.LastPromptAt.IsZero() || !got.LastSurveyAt.IsZero() {
			t.Errorf("same ID on another platform: got %+v, want a zero record", got)
		}
		return err
	})
}

func testTimers(t *testing.T, s bot.Store) {
	c1 := createCase(t, s, sampleCase("ann", day(0))).ID
	c2 := createCase(t, s, sampleCase("bob", day(0))).ID
	at := func(d time.Duration) time.Time { return day(0).Add(d) }
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, tm := range []bot.Timer{
			{CaseID: c1, Kind: bot.TimerSLA, DueAt: at(time.Hour)},
			{CaseID: c2, Kind: bot.TimerRemind, Round: 1, DueAt: at(30 * time.Minute)},
			{CaseID: c1, Kind: bot.TimerRemind, Round: 1, DueAt: at(2 * time.Hour)},
			{CaseID: c2, Kind: bot.TimerExpire, Round: 1, DueAt: at(90 * time.Minute)},
			{CaseID: c1, Kind: bot.TimerSLA, Round: 2, DueAt: at(10 * time.Minute)}, // replaces
			{CaseID: c2, Kind: bot.TimerPromptDelayed, Round: 1, DueAt: at(5 * time.Hour), Experiment: "e", Variant: "v1"},
			{CaseID: c2, Kind: bot.TimerPromptDelayed, Round: 1, DueAt: at(4 * time.Hour), Experiment: "e", Variant: "v2"}, // replaces
		} {
			if err := tx.SetTimer(ctx, tm); err != nil {
				return err
			}
		}
		if err := tx.CancelTimer(ctx, c2, bot.TimerRemind); err != nil {
			return err
		}
		return tx.CancelTimer(ctx, c2, bot.TimerPromptExpire) // none: no error
	})
	sla := bot.Timer{CaseID: c1, Kind: bot.TimerSLA, Round: 2, DueAt: at(10 * time.Minute)}
	remind := bot.Timer{CaseID: c1, Kind: bot.TimerRemind, Round: 1, DueAt: at(2 * time.Hour)}
	expire := bot.Timer{CaseID: c2, Kind: bot.TimerExpire, Round: 1, DueAt: at(90 * time.Minute)}
	delayed := bot.Timer{CaseID: c2, Kind: bot.TimerPromptDelayed, Round: 1, DueAt: at(4 * time.Hour), Experiment: "e", Variant: "v2"}
	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []bot.Timer
	}{
		{"none due", at(0), 0, nil},
		{"due exactly", at(10 * time.Minute), 0, []bot.Timer{sla}},
		{"earliest first", at(3 * time.Hour), 0, []bot.Timer{sla, expire, remind}},
		{"limit", at(3 * time.Hour), 2, []bot.Timer{sla, expire}},
		{"with its experiment variant", at(4 * time.Hour), 0, []bot.Timer{sla, expire, remind, delayed}},
	}
	defer testTakeTimer(t, s, sla, remind)
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, tt := range tests {
			got, err := tx.DueTimers(ctx, tt.now, tt.limit)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s: DueTimers got %+v, want %+v", tt.name, got, tt.want)
			}
		}
		return nil
	})
}

// testTakeTimer takes sla once, refuses it a second time, and refuses remind
// once it has been replaced by a later one.
func testTakeTimer(t *testing.T, s bot.Store, sla, remind bot.Timer) {
	t.Helper()
	later := remind
	later.DueAt = later.DueAt.Add(time.Hour)
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.SetTimer(ctx, later) })
	for _, c := range []struct {
		name string
		tm   bot.Timer
		want bool
	}{{"due timer", sla, true}, {"taken timer", sla, false}, {"replaced timer", remind, false}, {"its replacement", later, true}} {
		update(t, s, func(ctx context.Context, tx bot.Tx) error {
			got, err := tx.TakeTimer(ctx, c.tm)
			if err != nil {
				return err
			}
			if got != c.want {
				t.Errorf("TakeTimer of the %s: got %v, want %v", c.name, got, c.want)
			}
			return nil
		})
	}
}
