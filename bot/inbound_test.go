package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// dmQuestion is a customer's question in a DM with the bot.
func dmQuestion(id string) bot.Event {
	return bot.Event{ID: id, Kind: bot.EventMessage, Direct: true, Text: "my widget does not start",
		Where:  bot.Ref{Platform: bot.Slack, Channel: "D-ann", Message: "1700000000.000100"},
		Author: bot.Person{Platform: bot.Slack, ID: "ann", Name: "Ann"}}
}

// casesOf counts the customer's cases.
func casesOf(t *testing.T, s bot.Store, customer string) int {
	t.Helper()
	var n int
	err := s.View(t.Context(), func(tx bot.Tx) error {
		var err error
		_, n, err = tx.FindCases(t.Context(), bot.CaseFilter{CustomerID: customer})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Accept commits the event without deciding it; decide decides it once, and
// the same event again is a duplicate with nothing to decide.
func TestAcceptThenDecide(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ctx := t.Context()
	decide, err := h.Core.Accept(ctx, dmQuestion("ev1"))
	if err != nil || decide == nil {
		t.Fatalf("Accept: decide %v, err %v; want a decision to run", decide != nil, err)
	}
	if n := casesOf(t, h.Store, "ann"); n != 0 {
		t.Fatalf("after Accept: %d cases, want none before the decision", n)
	}
	decide(ctx)
	if n := casesOf(t, h.Store, "ann"); n != 1 {
		t.Fatalf("after decide: %d cases, want 1", n)
	}
	again, err := h.Core.Accept(ctx, dmQuestion("ev1"))
	if err != nil || again != nil {
		t.Errorf("the same event again: decide %v, err %v; want nothing to decide", again != nil, err)
	}
	decide(ctx) // a decision run twice decides once
	if n := casesOf(t, h.Store, "ann"); n != 1 {
		t.Errorf("after a second decide: %d cases, want 1", n)
	}
}

// An event acknowledged and never decided (the process stopped in between)
// is decided by the next process at start, once.
func TestAcceptedEventDecidedAfterRestart(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	if _, err := h.Core.Accept(t.Context(), dmQuestion("ev1")); err != nil {
		t.Fatal(err)
	}
	h.Restart()
	n, err := h.Core.Reclaim(t.Context(), true)
	if err != nil || n != 1 {
		t.Fatalf("Reclaim at start: decided %d, err %v; want 1", n, err)
	}
	if got := casesOf(t, h.Store, "ann"); got != 1 {
		t.Errorf("after the restart: %d cases, want 1", got)
	}
	if n, err := h.Core.Reclaim(t.Context(), false); err != nil || n != 0 {
		t.Errorf("Reclaim again: decided %d, err %v; want none", n, err)
	}
	h.Settle()
	if kinds := h.Kinds(1); !bottest.HasKinds(kinds, bot.KindAskedPublic, bot.KindTakenPrivate) {
		t.Errorf("case 1 after the relay ran: events %v, want it asked and taken private", kinds)
	}
}

// sharedStore is the SQLite store posing as one several instances share
// (bot.Claimer): every destination is this instance's.
type sharedStore struct{ *sqlite.DB }

func (sharedStore) ClaimDestinations(_ context.Context, _ string, dests []string, _ time.Duration) ([]string, []string, error) {
	return dests, nil, nil
}
func (sharedStore) ReleaseDestinations(context.Context, string) error { return nil }

// On a shared store another instance leaves an accepted event to the
// instance that accepted it until that one's claim runs out; then it decides
// it, and the first instance's late decision changes nothing.
func TestAcceptedEventClaimedAfterItsLease(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	other, err := bot.New(bot.Options{Store: sharedStore{h.Store}, Config: h.Config, Now: h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	decide, err := h.Core.Accept(t.Context(), dmQuestion("ev1"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := other.Reclaim(t.Context(), true); err != nil || n != 0 {
		t.Fatalf("other instance at start: decided %d, err %v; want none while the claim runs", n, err)
	}
	h.Clock.Advance(31 * time.Second)
	if n, err := other.Reclaim(t.Context(), false); err != nil || n != 1 {
		t.Fatalf("other instance after the lease: decided %d, err %v; want 1", n, err)
	}
	decide(t.Context())
	if got := casesOf(t, h.Store, "ann"); got != 1 {
		t.Errorf("%d cases, want 1", got)
	}
}
