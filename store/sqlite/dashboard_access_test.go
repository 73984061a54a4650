package sqlite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

func TestSessionKeyMadeOnceAndKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := db.SessionKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	again, err := db.SessionKey(t.Context())
	if err != nil || !bytes.Equal(first, again) {
		t.Errorf("second SessionKey: %x, %v; want the first, %x", again, err, first)
	}
	if len(first) < 32 || bytes.Equal(first, make([]byte, len(first))) {
		t.Errorf("session key %x: want 32 random bytes", first)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openPath(t, path, Options{})
	reopened, err := db.SessionKey(t.Context())
	if err != nil || !bytes.Equal(first, reopened) {
		t.Errorf("SessionKey after reopening: %x, %v; want %x", reopened, err, first)
	}
	other := openTest(t, Options{})
	if k, err := other.SessionKey(t.Context()); err != nil || bytes.Equal(k, first) {
		t.Errorf("another database's key: %x, %v; want a different one", k, err)
	}
}

func TestSessions(t *testing.T) {
	db := openTest(t, Options{})
	ctx := t.Context()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // the dashboard's clock, not the store's
	if err := db.StartSession(ctx, "s1", "ada", now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.StartSession(ctx, "s2", "vic", now, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	user, exp, err := db.Session(ctx, "s1")
	if err != nil || user != "ada" || !exp.Equal(now.Add(time.Hour)) {
		t.Errorf("Session(s1): %q %v %v; want ada, in an hour", user, exp, err)
	}
	if err := db.EndSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Session(ctx, "s1"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Session after EndSession: %v, want ErrNotFound", err)
	}
	if err := db.EndSession(ctx, "never"); err != nil {
		t.Errorf("EndSession of an unknown session: %v", err)
	}
	// A sign-in after s2 expired deletes it.
	later := now.Add(2 * time.Hour)
	if err := db.StartSession(ctx, "s3", "ada", later, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Session(ctx, "s2"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("an expired session after the next sign-in: %v, want ErrNotFound", err)
	}
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM dashboard_sessions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("session rows after expiry and a new sign-in: %d, %v; want 1", n, err)
	}
}

func TestStaffNames(t *testing.T) {
	db := openTest(t, Options{})
	id := newCase(t, db, bot.Slack, time.Now())
	record := func(kind, actor string, detail map[string]any) {
		b, err := json.Marshal(detail)
		if err != nil {
			t.Fatal(err)
		}
		mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
			return tx.Record(ctx, bot.CaseEvent{CaseID: id, Kind: kind, Actor: actor, Platform: bot.Slack, Detail: b})
		})
	}
	record(bot.KindClaimed, "U1", map[string]any{"assignee": "U1", "name": "Sam"})
	record(bot.KindFirstStaffResponse, "U1", map[string]any{"seconds": 3, "name": "Sam Smith"})
	record(bot.KindFirstStaffResponse, "U2", map[string]any{"seconds": 3})
	record(bot.KindMessage, "U3", map[string]any{"role": "customer", "name": "Not Staff"})
	got, err := db.StaffNames(t.Context(), []string{"U1", "U2", "U3", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["U1"] != "Sam Smith" {
		t.Errorf("StaffNames: got %v, want U1 as its latest name only", got)
	}
	rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+staffNameQuery, "U1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if !strings.Contains(strings.Join(plan, "; "), "case_events_staff") {
		t.Errorf("staff name look-up plan %q does not use the case_events_staff index", plan)
	}
}
