package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/storetest"
)

// openPath opens a store on path and closes it when t ends.
func openPath(t *testing.T, path string, opts Options) *DB {
	t.Helper()
	db, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// openTest opens a store on a new file in t's temporary directory.
func openTest(t *testing.T, opts Options) *DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "advocate.db"), opts)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store { return openTest(t, Options{}) })
}

func TestConformanceReads(t *testing.T) {
	storetest.RunReads(t, func(t *testing.T) storetest.Reads { return openTest(t, Options{}) })
}

// mustUpdate runs fn in a write transaction and fails the test on error.
func mustUpdate(t *testing.T, db *DB, fn func(ctx context.Context, tx bot.Tx) error) {
	t.Helper()
	ctx := t.Context()
	if err := db.Update(ctx, func(tx bot.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// newCase stores a minimal case opened at opened on platform.
func newCase(t *testing.T, db *DB, platform string, opened time.Time) int64 {
	t.Helper()
	c := bot.Case{Platform: platform, Customer: bot.Person{Platform: platform, ID: "ann"},
		Public: bot.Ref{Platform: platform, Channel: "C-help"}, Question: "help", OpenedAt: opened}
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error { return tx.CreateCase(ctx, &c) })
	return c.ID
}

// newestMigration is the highest version among the embedded migrations.
func newestMigration(t *testing.T) int64 {
	t.Helper()
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var newest int64
	for _, e := range entries {
		digits, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		newest = max(newest, v)
	}
	return newest
}

func TestOpenSchemaVersion(t *testing.T) {
	tests := []struct {
		name    string
		add     int64 // a version to record as applied, 0 for none
		wantErr []string
	}{
		{"current version reopens", 0, nil},
		{"newer version refused", 9999, []string{"version 9999", fmt.Sprintf("(%d)", newestMigration(t))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "advocate.db")
			db, err := Open(t.Context(), path, Options{})
			if err != nil {
				t.Fatalf("first Open: %v", err)
			}
			if tt.add != 0 {
				_, err := db.write.ExecContext(t.Context(),
					`INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)`, tt.add)
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db, err = Open(t.Context(), path, Options{})
			if err == nil {
				defer db.Close()
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("reopen: got %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("reopen: got no error, want one naming %q", tt.wantErr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("reopen error %q: want it to contain %q", err, s)
				}
			}
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	err = db.Update(t.Context(), func(tx bot.Tx) error {
		c := bot.Case{Platform: bot.Slack, Customer: bot.Person{ID: "ann"}, Question: "help"}
		if err := tx.CreateCase(t.Context(), &c); err != nil {
			return err
		}
		id = c.ID
		_, err := tx.Seen(t.Context(), "e1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openPath(t, path, Options{})
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		c, err := tx.Case(ctx, id)
		if err != nil {
			return err
		}
		if c.Question != "help" {
			t.Errorf("question after reopen: got %q, want %q", c.Question, "help")
		}
		seen, err := tx.Seen(ctx, "e1")
		if !seen {
			t.Errorf("Seen after reopen: got false, want true")
		}
		return err
	})
}

func TestConcurrentUpdates(t *testing.T) {
	db := openTest(t, Options{})
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				errs <- db.Update(t.Context(), func(tx bot.Tx) error {
					if _, err := tx.Seen(t.Context(), fmt.Sprintf("e-%d-%d", w, i)); err != nil {
						return err
					}
					c := bot.Case{Platform: bot.Slack, Customer: bot.Person{ID: fmt.Sprint("u", w)}}
					if err := tx.CreateCase(t.Context(), &c); err != nil {
						return err
					}
					return tx.Record(t.Context(), bot.CaseEvent{CaseID: c.ID, Kind: bot.KindAskedPublic})
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	rows, err := db.Funnel(t.Context(), bot.FunnelQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[0].Counts[0], workers*each; got != want {
		t.Errorf("cases asked after concurrent updates: got %d, want %d", got, want)
	}
}

func TestClock(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	now := time.Date(2026, 11, 16, 10, 0, 0, 123456789, paris)
	db := openTest(t, Options{Now: func() time.Time { return now }})
	want := time.Date(2026, 11, 16, 9, 0, 0, 123000000, time.UTC)
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		if got := tx.Now(); got != want {
			t.Errorf("Now: got %v, want %v", got, want)
		}
		c := bot.Case{Platform: bot.Slack}
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		got, err := tx.Case(ctx, c.ID)
		if err != nil {
			return err
		}
		if got.OpenedAt != want {
			t.Errorf("OpenedAt: got %v, want %v", got.OpenedAt, want)
		}
		return nil
	})
}

// outboxMsg reads an action's stored message as it is in the table.
func outboxMsg(t *testing.T, db *DB, id int64) sql.NullString {
	t.Helper()
	var msg sql.NullString
	if err := db.read.QueryRowContext(t.Context(), `SELECT msg FROM outbox WHERE id = ?`, id).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestOutboxKeepsNoTextAfterDelivery(t *testing.T) {
	db := openTest(t, Options{})
	id := newCase(t, db, bot.Slack, time.Time{})
	var sent, dead bot.Action
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		for i, a := range []*bot.Action{&sent, &dead} {
			*a = bot.Action{CaseID: id, Platform: bot.Slack, Lane: fmt.Sprint(i), Kind: bot.ActSend,
				Msg: bot.Message{Text: "your order 1234"}}
			if err := tx.Enqueue(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if got := outboxMsg(t, db, sent.ID); !strings.Contains(got.String, "order 1234") {
		t.Fatalf("pending msg: got %q, want the text", got.String)
	}
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		if err := tx.MarkDelivered(ctx, sent.ID, bot.Delivery{Ref: bot.Ref{Channel: "C", Message: "1"}}); err != nil {
			return err
		}
		return tx.MarkFailed(ctx, dead.ID, 5, time.Time{}, "gone", true)
	})
	if got := outboxMsg(t, db, sent.ID); got.Valid {
		t.Errorf("delivered msg: got %q, want NULL", got.String)
	}
	if got := outboxMsg(t, db, dead.ID); !got.Valid {
		t.Errorf("dead msg: got NULL, want it kept for an operator to retry")
	}
}

func TestSeenEmptyID(t *testing.T) {
	db := openTest(t, Options{})
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		for range 2 {
			seen, err := tx.Seen(ctx, "")
			if err != nil || seen {
				t.Errorf("Seen(\"\"): got %v, %v; want false, nil", seen, err)
			}
		}
		return nil
	})
}

func TestWritesForMissingCase(t *testing.T) {
	db := openTest(t, Options{})
	const missing = 42
	writes := []struct {
		name string
		do   func(ctx context.Context, tx bot.Tx) error
	}{
		{"Record", func(ctx context.Context, tx bot.Tx) error {
			return tx.Record(ctx, bot.CaseEvent{CaseID: missing, Kind: bot.KindNote})
		}},
		{"PutRating", func(ctx context.Context, tx bot.Tx) error {
			return tx.PutRating(ctx, &bot.Rating{CaseID: missing, Round: 1})
		}},
		{"CreateOffer", func(ctx context.Context, tx bot.Tx) error {
			return tx.CreateOffer(ctx, &bot.Offer{CaseID: missing})
		}},
		{"SetTimer", func(ctx context.Context, tx bot.Tx) error {
			return tx.SetTimer(ctx, bot.Timer{CaseID: missing, Kind: bot.TimerSLA})
		}},
		{"Enqueue", func(ctx context.Context, tx bot.Tx) error {
			return tx.Enqueue(ctx, &bot.Action{CaseID: missing, Kind: bot.ActSend})
		}},
	}
	for _, w := range writes {
		err := db.Update(t.Context(), func(tx bot.Tx) error { return w.do(t.Context(), tx) })
		if !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("%s for a missing case: got %v, want %v", w.name, err, bot.ErrNotFound)
		}
	}
	id := newCase(t, db, bot.Slack, time.Time{})
	err := db.Update(t.Context(), func(tx bot.Tx) error {
		return tx.Record(t.Context(), bot.CaseEvent{CaseID: id, Kind: bot.KindNote, Detail: json.RawMessage(`{"a":`)})
	})
	if err == nil {
		t.Errorf("Record with a broken detail: got no error, want one")
	}
}

func TestUpdateCanceled(t *testing.T) {
	db := openTest(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := db.Update(ctx, func(bot.Tx) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("Update with a canceled context: got %v (fn called: %v), want %v before fn", err, called, context.Canceled)
	}
}

func TestExport(t *testing.T) {
	db := openTest(t, Options{})
	day := func(n int) time.Time { return time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	ids := []int64{newCase(t, db, bot.Slack, day(0)), newCase(t, db, bot.Discord, day(1)), newCase(t, db, bot.Slack, day(2))}
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
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
		{"time", bot.FunnelQuery{Since: day(1), Until: day(2)}, []int64{ids[1]}, 2},
	}
	for _, tt := range tests {
		var got []int64
		err := db.ExportCases(t.Context(), tt.q, func(c bot.Case) error { got = append(got, c.ID); return nil })
		if err != nil {
			t.Fatal(err)
		}
		events := 0
		err = db.ExportEvents(t.Context(), tt.q, func(e bot.CaseEvent) error {
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

	stop := errors.New("stop")
	for range readConns + 1 { // more than the pool: a leaked Rows would hold a connection
		errC := db.ExportCases(t.Context(), bot.FunnelQuery{}, func(bot.Case) error { return stop })
		errE := db.ExportEvents(t.Context(), bot.FunnelQuery{}, func(bot.CaseEvent) error { return stop })
		if !errors.Is(errC, stop) || !errors.Is(errE, stop) {
			t.Fatalf("export stopped by fn: got %v and %v, want %v", errC, errE, stop)
		}
	}
	if inUse := db.read.Stats().InUse; inUse != 0 {
		t.Errorf("read connections in use after exports: got %d, want 0", inUse)
	}
}

func TestPrune(t *testing.T) {
	clock := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	db := openTest(t, Options{Now: func() time.Time { return clock }})
	id := newCase(t, db, bot.Slack, time.Time{})
	var delivered, pending, dead bot.Action
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		if _, err := tx.Seen(ctx, "old"); err != nil {
			return err
		}
		for i, a := range []*bot.Action{&delivered, &pending, &dead} {
			*a = bot.Action{CaseID: id, Platform: bot.Slack, Lane: fmt.Sprint(i), Kind: bot.ActSend}
			if err := tx.Enqueue(ctx, a); err != nil {
				return err
			}
		}
		if err := tx.MarkDelivered(ctx, delivered.ID, bot.Delivery{}); err != nil {
			return err
		}
		return tx.MarkFailed(ctx, dead.ID, 1, clock, "gone", true)
	})
	clock = clock.Add(48 * time.Hour)
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		_, err := tx.Seen(ctx, "new")
		return err
	})
	events, actions, err := db.Prune(t.Context(), clock.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if events != 1 || actions != 1 {
		t.Errorf("Prune: got %d events, %d actions; want 1, 1", events, actions)
	}
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		pendingN, deadN, err := tx.OutboxStats(ctx)
		if pendingN != 1 || deadN != 1 {
			t.Errorf("outbox after Prune: got %d pending, %d dead; want 1, 1", pendingN, deadN)
		}
		seen, _ := tx.Seen(ctx, "new")
		if !seen {
			t.Errorf("a recent event ID was pruned")
		}
		return err
	})
}

func TestFunnelUsesCoveringIndex(t *testing.T) {
	db := openTest(t, Options{})
	for _, g := range []string{"", "platform", "channel", "staff", "week"} {
		var keys []string
		if g != "" {
			expr, err := groupExpr(g)
			if err != nil {
				t.Fatal(err)
			}
			keys = []string{expr}
		}
		w := funnelWhere(bot.FunnelQuery{Since: time.Unix(0, 0), Platform: bot.Slack})
		q := funnelSQL(keys, stageCounts(), false, w.sql())
		rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, w.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), "COVERING INDEX cases_funnel") {
			t.Errorf("funnel by %q: plan %q does not read only the covering index", g, plan)
		}
	}
}

// BenchmarkUpdate measures one small write transaction: an event ID and a
// funnel event, the core's smallest unit of work.
func BenchmarkUpdate(b *testing.B) {
	db, err := Open(b.Context(), filepath.Join(b.TempDir(), "advocate.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	c := bot.Case{Platform: bot.Slack}
	if err := db.Update(b.Context(), func(tx bot.Tx) error { return tx.CreateCase(b.Context(), &c) }); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		err := db.Update(b.Context(), func(tx bot.Tx) error {
			if _, err := tx.Seen(b.Context(), fmt.Sprint("e", i)); err != nil {
				return err
			}
			return tx.Record(b.Context(), bot.CaseEvent{CaseID: c.ID, Kind: bot.KindNote, Actor: "S1"})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFunnel measures a grouped funnel over 20,000 cases.
func BenchmarkFunnel(b *testing.B) {
	db, err := Open(b.Context(), filepath.Join(b.TempDir(), "advocate.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	_, err = db.write.ExecContext(b.Context(), `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
		INSERT INTO cases (platform, customer, status, assignee, opened_at, public_channel, opened_week, stages, recovered)
		SELECT CASE i % 2 WHEN 0 THEN 'slack' ELSE 'discord' END, json_object('id', 'u' || i), 'closed',
			'S' || (i % 15), 1767225600000 + i * 600000, 'C' || (i % 20), 'W' || (i / 1008),
			(1 << (i % 11)) - 1, i % 50 = 0
		FROM n`)
	if err != nil {
		b.Fatal(err)
	}
	q := bot.FunnelQuery{GroupBy: []string{"channel", "week"}}
	for b.Loop() {
		if _, err := db.Funnel(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
}
