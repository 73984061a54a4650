// Package storetest is the conformance suite of bot.Store: every implementation
// (SQLite today, PostgreSQL later) runs it from its own tests, so the core can
// rely on the same behaviour from each.
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// Run runs the suite. open must return a new, empty store for each call and
// close it when t ends. The store may use any clock: the suite passes explicit
// times wherever the outcome depends on them.
func Run(t *testing.T, open func(t *testing.T) bot.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s bot.Store)
	}{
		{"Seen", testSeen},
		{"Rollback", testRollback},
		{"ViewReadOnly", testViewReadOnly},
		{"Now", testNow},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"CaseRoundTrip", testCaseRoundTrip},
		{"ActiveCaseFor", testActiveCaseFor},
		{"NameCustomer", testNameCustomer},
		{"CaseByConversation", testCaseByConversation},
		{"FindCases", testFindCases},
		{"CaseEvents", testCaseEvents},
		{"Ratings", testRatings},
		{"Offers", testOffers},
		{"People", testPeople},
		{"Links", testLinks},
		{"LinkCodes", testLinkCodes},
		{"Timers", testTimers},
		{"Inbound", testInbound},
		{"InboundTakenOnce", testInboundTakenOnce},
		{"OutboxLanes", testOutboxLanes},
		{"PendingActionsAfter", testPendingActionsAfter},
		{"LaneHeads", testLaneHeads},
		{"Deliveries", testDeliveries},
		{"Forget", testForget},
		{"Purge", testPurge},
		{"Funnel", testFunnel},
		{"FunnelByTarget", testFunnelByTarget},
		{"FunnelErrors", testFunnelErrors},
		{"DeadLettersList", testDeadLettersList},
		{"RetryDeadInLaneOrder", testRetryDeadInLaneOrder},
		{"RetryAllDeadInBatches", testRetryAllDeadInBatches},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
	t.Run("RetryRefusals", func(t *testing.T) { testRetryRefusals(t, open) })
}

// day is a fixed moment (Monday 2026-11-16 09:00 UTC, ISO week 47) plus n days.
func day(n int) time.Time {
	return time.Date(2026, time.November, 16, 9, 0, 0, 0, time.UTC).AddDate(0, 0, n)
}

// update runs fn in a write transaction and fails the test on error.
func update(t *testing.T, s bot.Store, fn func(ctx context.Context, tx bot.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.Update(ctx, func(tx bot.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(t *testing.T, s bot.Store, fn func(ctx context.Context, tx bot.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := s.View(ctx, func(tx bot.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// sampleCase is a Slack case with every field set; times are whole
// milliseconds so that every store returns them exactly.
func sampleCase(customer string, opened time.Time) bot.Case {
	return bot.Case{
		Platform: bot.Slack,
		Customer: bot.Person{Platform: bot.Slack, ID: customer, Name: "Name of " + customer, Roles: []string{"R1"}},
		Status:   bot.StatusAwaitingStaff,
		Public:   bot.Ref{Platform: bot.Slack, Space: "T1", Channel: "C-help", Message: "100.1"},
		Private:  bot.Ref{Platform: bot.Slack, Space: "T1", Channel: "D-" + customer},
		Staff:    bot.Ref{Platform: bot.Slack, Space: "T1", Channel: "C-staff", Thread: "200." + customer},
		Assignee: "S1",
		Question: "my login fails",
		Round:    1,
		OpenedAt: opened,
	}
}

// createCase stores c in its own transaction and returns it with its ID.
func createCase(t *testing.T, s bot.Store, c bot.Case) bot.Case {
	t.Helper()
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.CreateCase(ctx, &c) })
	if c.ID == 0 {
		t.Fatalf("CreateCase left ID 0")
	}
	return c
}

// getCase reads a case in a read transaction.
func getCase(t *testing.T, s bot.Store, id int64) *bot.Case {
	t.Helper()
	var c *bot.Case
	view(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		c, err = tx.Case(ctx, id)
		return err
	})
	return c
}

// wantErr fails the test unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}
