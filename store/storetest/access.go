package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// Access is what the dashboard keeps in the store beyond reports: its
// signing key, its sign-ins, staff display names and the readiness probe
// (web.Store, web.Sessions and the session key).
type Access interface {
	bot.Store
	SessionKey(ctx context.Context) ([]byte, error)
	StartSession(ctx context.Context, id, user string, now, expires time.Time) error
	Session(ctx context.Context, id string) (user string, expires time.Time, err error)
	EndSession(ctx context.Context, id string) error
	StaffNames(ctx context.Context, ids []string) (map[string]string, error)
	Probe(ctx context.Context) error
}

// RunAccess runs the suite of the dashboard's own records. open must return
// a new, empty store for each call and close it when t ends; reopen, a
// second store on the same database.
func RunAccess(t *testing.T, open func(t *testing.T) (s Access, reopen func() Access)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Access, reopen func() Access)
	}{
		{"SessionKey", testSessionKey},
		{"Sessions", testSessions},
		{"StaffNames", testStaffNames},
		{"Probe", testProbe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, reopen := open(t)
			tt.fn(t, s, reopen)
		})
	}
}

func testSessionKey(t *testing.T, s Access, reopen func() Access) {
	ctx := t.Context()
	first, err := s.SessionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 32 || bytes.Equal(first, make([]byte, len(first))) {
		t.Errorf("session key %x: want 32 random bytes", first)
	}
	again, err := s.SessionKey(ctx)
	if err != nil || !bytes.Equal(first, again) {
		t.Errorf("second SessionKey: %x, %v; want the first, %x", again, err, first)
	}
	other, err := reopen().SessionKey(ctx)
	if err != nil || !bytes.Equal(first, other) {
		t.Errorf("SessionKey from another store on the database: %x, %v; want %x", other, err, first)
	}
}

func testSessions(t *testing.T, s Access, reopen func() Access) {
	ctx := t.Context()
	now := day(0) // the dashboard's clock, whatever the store's
	if err := s.StartSession(ctx, "s1", "ada", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.StartSession(ctx, "s2", "vic", now, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	user, exp, err := reopen().Session(ctx, "s1")
	if err != nil || user != "ada" || !exp.Equal(now.Add(time.Hour)) {
		t.Errorf("Session(s1) from another store: %q %v %v; want ada, in an hour", user, exp, err)
	}
	if err := s.EndSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	_, _, err = reopen().Session(ctx, "s1")
	wantErr(t, "Session after EndSession", err, bot.ErrNotFound)
	if err := s.EndSession(ctx, "never"); err != nil {
		t.Errorf("EndSession of an unknown session: %v", err)
	}
	later := now.Add(2 * time.Hour) // s2 expires
	if err := s.StartSession(ctx, "s3", "ada", later, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Session(ctx, "s2")
	wantErr(t, "an expired session after the next sign-in", err, bot.ErrNotFound)
	if user, _, err := s.Session(ctx, "s3"); err != nil || user != "ada" {
		t.Errorf("Session(s3): %q, %v", user, err)
	}
}

func testStaffNames(t *testing.T, s Access, _ func() Access) {
	c := createCase(t, s, sampleCase("ann", day(0)))
	record := func(kind, actor string, detail map[string]any) {
		b, err := json.Marshal(detail)
		if err != nil {
			t.Fatal(err)
		}
		update(t, s, func(ctx context.Context, tx bot.Tx) error {
			return tx.Record(ctx, bot.CaseEvent{CaseID: c.ID, Kind: kind, Actor: actor, Platform: bot.Slack, Detail: b})
		})
	}
	record(bot.KindClaimed, "U1", map[string]any{"assignee": "U1", "name": "Sam"})
	record(bot.KindFirstStaffResponse, "U1", map[string]any{"seconds": 3, "name": "Sam Smith"})
	record(bot.KindFirstStaffResponse, "U2", map[string]any{"seconds": 3})
	record(bot.KindMessage, "U3", map[string]any{"role": "customer", "name": "Not Staff"})
	got, err := s.StaffNames(t.Context(), []string{"U1", "U2", "U3", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["U1"] != "Sam Smith" {
		t.Errorf("StaffNames: got %v, want U1 with its latest name only", got)
	}
}

func testProbe(t *testing.T, s Access, _ func() Access) {
	for i := range 3 { // the first makes the probe's row, the others rewrite it
		if err := s.Probe(t.Context()); err != nil {
			t.Fatalf("Probe %d of a healthy store: %v", i+1, err)
		}
	}
}
