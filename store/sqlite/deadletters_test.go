package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// The dead-letter rules are in the conformance suite; these tests need
// SQLite itself: a hand-edited file, and a second store on the same file.

// kill enqueues a and marks it dead after attempts failures with lastErr.
func kill(t *testing.T, db *DB, a bot.Action, attempts int, lastErr string) int64 {
	t.Helper()
	if a.Lane == "" {
		a.Lane = fmt.Sprint("case:", a.CaseID)
	}
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		if err := tx.Enqueue(ctx, &a); err != nil {
			return err
		}
		return tx.MarkFailed(ctx, a.ID, attempts, time.Time{}, lastErr, true)
	})
	return a.ID
}

// retrier is the core that decides and puts back dead actions of db.
func retrier(t *testing.T, db *DB) *bot.Core {
	t.Helper()
	cfg := bot.DefaultConfig()
	cfg.Secret = "test-secret-0123456789abcdef"
	core, err := bot.New(bot.Options{Store: db, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return core
}

func TestRetryRefusesActionOfDeletedCase(t *testing.T) {
	db := openTest(t, Options{NoGroupCommit: true})
	id := newCase(t, db, bot.Slack, time.Time{})
	act := kill(t, db, bot.Action{CaseID: id, Platform: bot.Slack, Kind: bot.ActDelete, Key: "testimonial:1"}, 1, "x")
	// Cases are never deleted by advocate; an operator's hand-edited database may.
	for _, q := range []struct {
		sql  string
		args []any
	}{{`PRAGMA foreign_keys = OFF`, nil}, {`DELETE FROM cases WHERE id = ?`, []any{id}}, {`PRAGMA foreign_keys = ON`, nil}} {
		if _, err := db.write.ExecContext(t.Context(), q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	got, err := retrier(t, db).RetryDead(t.Context(), act)
	if err != nil || len(got) != 1 || got[0].Refusal != bot.RefuseCaseMissing {
		t.Errorf("RetryDead: got %+v, %v; want case_missing", got, err)
	}
}

// TestRetryWhileBotWrites runs a second store on the same file, as the CLI
// does beside a running bot: its retries and the bot's own writes all commit,
// and the bot's relay query sees the retried actions.
func TestRetryWhileBotWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	bot1 := openPath(t, path, Options{})
	id := newCase(t, bot1, bot.Slack, time.Time{})
	const n = 40
	var ids []int64
	for i := range n {
		ids = append(ids, kill(t, bot1, bot.Action{CaseID: id, Platform: bot.Slack, Lane: fmt.Sprint("dead", i),
			Kind: bot.ActSend}, 10, "boom"))
	}
	cli := retrier(t, openPath(t, path, Options{}))

	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	wg.Go(func() {
		for i := range n {
			err := bot1.Update(t.Context(), func(tx bot.Tx) error {
				a := bot.Action{CaseID: id, Platform: bot.Slack, Lane: fmt.Sprint("live", i), Kind: bot.ActSend,
					NextAt: tx.Now().Add(time.Hour)}
				return tx.Enqueue(t.Context(), &a)
			})
			errs <- err
		}
	})
	wg.Go(func() {
		for _, id := range ids {
			got, err := cli.RetryDead(t.Context(), id)
			if err == nil && got[0].Refusal != "" {
				err = fmt.Errorf("action %d refused: %s", id, got[0].Refusal)
			}
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var due []bot.Action
	var pending, dead int
	err := bot1.View(t.Context(), func(tx bot.Tx) (err error) {
		if due, err = tx.PendingActions(t.Context(), tx.Now(), 0); err != nil {
			return err
		}
		pending, dead, err = tx.OutboxStats(t.Context())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != n || pending != 2*n || dead != 0 {
		t.Errorf("bot sees %d due, %d pending, %d dead; want %d, %d, 0", len(due), pending, dead, n, 2*n)
	}
}

// TestMigrationBackfillsPurpose reopens a database made before the outbox
// had a purpose column: its sends under a survey, reminder, prompt or
// testimonial key get that purpose and subject, nothing else does.
func TestMigrationBackfillsPurpose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := newCase(t, db, bot.Slack, time.Time{})
	keys := []struct {
		kind, key string
		purpose   bot.Purpose
		subject   int64
	}{
		{bot.ActSend, "survey:2", bot.PurposeSurvey, 2},
		{bot.ActSend, "reminder:2", bot.PurposeReminder, 2},
		{bot.ActSend, "prompt:3", bot.PurposePrompt, 3},
		{bot.ActSend, "testimonial:41", bot.PurposeTestimonial, 41},
		{bot.ActSend, "controls", "", 0},
		{bot.ActSend, "withdraw:41", "", 0},
		{bot.ActUpdate, "survey:2", "", 0},
	}
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		for i, k := range keys {
			a := bot.Action{CaseID: id, Platform: bot.Slack, Lane: fmt.Sprint(i), Kind: k.kind, Key: k.key}
			if err := tx.Enqueue(ctx, &a); err != nil {
				return err
			}
		}
		return nil
	})
	for _, q := range []string{"ALTER TABLE outbox DROP COLUMN subject", "ALTER TABLE outbox DROP COLUMN purpose",
		"DELETE FROM goose_db_version WHERE version_id = 4"} {
		if _, err := db.write.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openPath(t, path, Options{})
	var got []bot.Action
	err = db.View(t.Context(), func(tx bot.Tx) (err error) {
		got, err = tx.PendingActions(t.Context(), tx.Now().Add(time.Hour), 0)
		return err
	})
	if err != nil || len(got) != len(keys) {
		t.Fatalf("pending: got %d, %v; want %d", len(got), err, len(keys))
	}
	for i, k := range keys {
		if got[i].Purpose != k.purpose || got[i].Subject != k.subject {
			t.Errorf("%s %q: purpose %q subject %d, want %q %d", k.kind, k.key, got[i].Purpose, got[i].Subject, k.purpose, k.subject)
		}
	}
}
