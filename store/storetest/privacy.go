package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// caseRecord is everything the store holds about one case.
type caseRecord struct {
	Case    *bot.Case
	Events  []bot.CaseEvent
	Ratings []bot.Rating
	Offers  []*bot.Offer
}

func readCase(t *testing.T, s bot.Store, id int64) caseRecord {
	t.Helper()
	var r caseRecord
	view(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		if r.Case, err = tx.Case(ctx, id); err != nil {
			return err
		}
		if r.Events, err = tx.CaseEvents(ctx, id); err != nil {
			return err
		}
		if r.Ratings, err = tx.Ratings(ctx, id); err != nil {
			return err
		}
		r.Offers, err = tx.Offers(ctx, id)
		return err
	})
	return r
}

// wantNoText fails the test if any message text of the case is left: the
// question, rating comments, offer texts, or "text" in event details.
func wantNoText(t *testing.T, what string, r caseRecord) {
	t.Helper()
	if r.Case.Question != "" {
		t.Errorf("%s: question %q left", what, r.Case.Question)
	}
	for _, rt := range r.Ratings {
		if rt.Comment != "" {
			t.Errorf("%s: rating comment %q left", what, rt.Comment)
		}
	}
	for _, o := range r.Offers {
		if o.Text != "" {
			t.Errorf("%s: offer text %q left", what, o.Text)
		}
	}
	for _, e := range r.Events {
		var d map[string]any
		if len(e.Detail) > 0 && json.Unmarshal(e.Detail, &d) == nil && d["text"] != nil {
			t.Errorf("%s: %s event keeps text %v", what, e.Kind, d["text"])
		}
	}
}

// funnelViews are the funnel reports Forget must leave unchanged.
func funnelViews(t *testing.T, s bot.Store) [][]string {
	t.Helper()
	var out [][]string
	for _, g := range [][]string{nil, {"platform", "channel", "week"}, {"target"}} {
		out = append(out, funnel(t, s, bot.FunnelQuery{GroupBy: g}))
	}
	return out
}

func testForget(t *testing.T, s bot.Store) {
	cases := funnelCases(t, s)
	later := createCase(t, s, sampleCase("ann", day(20))) // ann's second, active case
	annD := bot.Identity{Platform: bot.Discord, ID: "ann-d"}
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		if err := tx.Link(ctx, bot.Identity{Platform: bot.Slack, ID: "ann"}, annD, bot.LinkViaCode); err != nil {
			return err
		}
		if err := tx.PutLinkCode(ctx, bot.LinkCode{Hash: "h-ann", Identity: bot.Identity{Platform: bot.Slack, ID: "ann"},
			Expires: tx.Now().Add(time.Hour)}); err != nil {
			return err
		}
		return tx.PutPerson(ctx, bot.PersonRecord{Platform: bot.Slack, ID: "ann", OptedOut: true, LastPromptAt: day(3)})
	})
	before := funnelViews(t, s)
	bob := readCase(t, s, cases["B"].ID)

	var n int
	update(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		n, err = tx.Forget(ctx, bot.Slack, "ann")
		return err
	})
	if n != 2 {
		t.Errorf("Forget: got %d cases, want 2", n)
	}
	first, second := readCase(t, s, cases["A"].ID), readCase(t, s, later.ID)
	token := first.Case.Customer.ID
	if !strings.HasPrefix(token, "forgotten:") || second.Case.Customer.ID != token {
		t.Errorf("customer IDs after Forget: got %q and %q, want one forgotten:<n> token", token, second.Case.Customer.ID)
	}
	for _, r := range []caseRecord{first, second} {
		if p := r.Case.Customer; p.Name != "" || len(p.Roles) > 0 {
			t.Errorf("customer after Forget: got %+v, want no name or roles", p)
		}
		wantNoText(t, "after Forget", r)
		for _, e := range r.Events {
			if e.Actor == "ann" {
				t.Errorf("%s event still names ann as its actor", e.Kind)
			}
		}
	}
	if got := funnelViews(t, s); !reflect.DeepEqual(got, before) {
		t.Errorf("funnel after Forget:\n got %q\nwant %q", got, before)
	}
	if got := readCase(t, s, cases["B"].ID); !reflect.DeepEqual(got, bob) {
		t.Errorf("another customer's case changed by Forget:\n got %+v\nwant %+v", got, bob)
	}
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		// The opt-out outlives the record: nothing else of it is left.
		p, err := tx.Person(ctx, bot.Slack, "ann")
		if want := (bot.PersonRecord{Platform: bot.Slack, ID: "ann", OptedOut: true}); err != nil || p != want {
			t.Errorf("Person after Forget: got %+v, %v; want %+v", p, err, want)
		}
		_, aerr := tx.ActiveCaseFor(ctx, bot.Slack, "ann")
		wantErr(t, "ActiveCaseFor after Forget", aerr, bot.ErrNotFound)
		ids, err := tx.Identities(ctx, annD)
		if want := []bot.Identity{annD}; err != nil || !reflect.DeepEqual(ids, want) {
			t.Errorf("Identities of ann's other account after Forget: got %v, %v; want %v", ids, err, want)
		}
		_, err = tx.TakeLinkCode(ctx, "h-ann")
		wantErr(t, "TakeLinkCode of ann's code after Forget", err, bot.ErrNotFound)
		return nil
	})

	// A staff member is forgotten too: their ID leaves the cases they handled.
	update(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		n, err = tx.Forget(ctx, bot.Slack, "S2")
		return err
	})
	staffed := readCase(t, s, cases["B"].ID)
	if n != 0 || !strings.HasPrefix(staffed.Case.Assignee, "forgotten:") || staffed.Case.Assignee == token {
		t.Errorf("Forget of staff: got %d cases, assignee %q; want 0 and a new forgotten:<n> token", n, staffed.Case.Assignee)
	}
	if i := slices.IndexFunc(staffed.Events, func(e bot.CaseEvent) bool { return e.Actor == "S2" }); i >= 0 {
		t.Errorf("a %s event still names S2", staffed.Events[i].Kind)
	}
	// Only an opt-out leaves a marker: S2 never opted out.
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		p, err := tx.Person(ctx, bot.Slack, "S2")
		if p.OptedOut {
			t.Errorf("Person of forgotten S2: got %+v, want not opted out", p)
		}
		return err
	})
}

func testPurge(t *testing.T, s bot.Store) {
	cases := funnelCases(t, s)
	closeAt := map[string]int{"A": 2, "B": 9} // C, D and E stay open
	for name, d := range closeAt {
		c := cases[name]
		c.Status, c.ClosedAt = bot.StatusClosed, day(d)
		update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.UpdateCase(ctx, &c) })
	}
	stuck := enqueue(t, s, bot.Action{CaseID: cases["A"].ID, Platform: bot.Slack, Lane: "stuck",
		Kind: bot.ActSend, Place: bot.PlacePrivate, NextAt: day(0), Msg: bot.Message{Text: "your order 123"}})[0]
	kept := map[string]caseRecord{}
	for _, name := range []string{"B", "C", "E"} {
		kept[name] = readCase(t, s, cases[name].ID)
	}

	var n int
	update(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		n, err = tx.Purge(ctx, day(5))
		return err
	})
	if n != 1 {
		t.Errorf("Purge: got %d cases, want 1", n)
	}
	purged := readCase(t, s, cases["A"].ID)
	wantNoText(t, "after Purge", purged)
	if purged.Case.Customer.ID != "ann" {
		t.Errorf("Purge changed the customer: got %+v", purged.Case.Customer)
	}
	for name, want := range kept {
		if got := readCase(t, s, cases[name].ID); !reflect.DeepEqual(got, want) {
			t.Errorf("case %s changed by Purge:\n got %+v\nwant %+v", name, got, want)
		}
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		actions, err := tx.PendingActions(ctx, day(30), 0)
		for _, a := range actions {
			if a.ID == stuck.ID && a.Msg.Text != "" {
				t.Errorf("pending message of a purged case: got %q, want blank", a.Msg.Text)
			}
		}
		return err
	})
}
