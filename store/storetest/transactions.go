package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

func testSeen(t *testing.T, s bot.Store) {
	steps := []struct {
		id   string
		want bool
	}{{"e1", false}, {"e1", true}, {"e2", false}, {"", false}, {"", false}} // an empty ID is never seen
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, st := range steps {
			got, err := tx.Seen(ctx, st.id)
			if err != nil {
				return err
			}
			if got != st.want {
				t.Errorf("Seen(%q) in first tx: got %v, want %v", st.id, got, st.want)
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, id := range []string{"e1", "e2"} {
			got, err := tx.Seen(ctx, id)
			if err != nil {
				return err
			}
			if !got {
				t.Errorf("Seen(%q) in a later tx: got false, want true", id)
			}
		}
		return nil
	})
}

func testRollback(t *testing.T, s bot.Store) {
	boom := errors.New("boom")
	var id int64
	err := s.Update(t.Context(), func(tx bot.Tx) error {
		ctx := t.Context()
		c := sampleCase("ann", day(0))
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		id = c.ID
		if _, err := tx.Seen(ctx, "e-rollback"); err != nil {
			return err
		}
		if err := tx.Record(ctx, bot.CaseEvent{CaseID: c.ID, Kind: bot.KindAskedPublic, At: day(0)}); err != nil {
			return err
		}
		if err := tx.SetTimer(ctx, bot.Timer{CaseID: c.ID, Kind: bot.TimerSLA, DueAt: day(0)}); err != nil {
			return err
		}
		a := bot.Action{CaseID: c.ID, Platform: bot.Slack, Lane: "x", Kind: bot.ActSend, NextAt: day(0)}
		if err := tx.Enqueue(ctx, &a); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update: got error %v, want %v", err, boom)
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		_, err := tx.Case(ctx, id)
		wantErr(t, "Case after rollback", err, bot.ErrNotFound)
		_, total, err := tx.FindCases(ctx, bot.CaseFilter{})
		if err != nil {
			return err
		}
		pending, _, err := tx.OutboxStats(ctx)
		if err != nil {
			return err
		}
		timers, err := tx.DueTimers(ctx, day(1), 0)
		if err != nil {
			return err
		}
		if total != 0 || pending != 0 || len(timers) != 0 {
			t.Errorf("after rollback: got %d cases, %d pending, %d timers; want none", total, pending, len(timers))
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		seen, err := tx.Seen(ctx, "e-rollback")
		if seen {
			t.Errorf("Seen after rollback: got true, want false")
		}
		return err
	})
	rows, err := s.Funnel(t.Context(), bot.FunnelQuery{})
	if err != nil {
		t.Fatalf("Funnel: %v", err)
	}
	if got := formatRows(rows); len(got) != 1 || got[0] != ": 0 0 0 0 0 0 0 0 0 0 rec 0" {
		t.Errorf("Funnel after rollback: got %q, want one row of zeros", got)
	}
}

func testViewReadOnly(t *testing.T, s bot.Store) {
	c := createCase(t, s, sampleCase("ann", day(0)))
	err := s.View(t.Context(), func(tx bot.Tx) error {
		got, err := tx.Case(t.Context(), c.ID)
		if err != nil {
			return err
		}
		if got.Question != c.Question {
			t.Errorf("View sees question %q, want %q", got.Question, c.Question)
		}
		n := sampleCase("bob", day(0))
		return tx.CreateCase(t.Context(), &n)
	})
	if err == nil {
		t.Errorf("CreateCase in View: got no error, want one")
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		_, total, err := tx.FindCases(ctx, bot.CaseFilter{})
		if total != 1 {
			t.Errorf("cases after a write in View: got %d, want 1", total)
		}
		return err
	})
}

func testNow(t *testing.T, s bot.Store) {
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		now := tx.Now()
		if now.IsZero() || now.Location() != time.UTC {
			t.Errorf("Now: got %v, want a non-zero UTC time", now)
		}
		if again := tx.Now(); !again.Equal(now) {
			t.Errorf("Now twice in one tx: got %v then %v, want equal", now, again)
		}
		c := sampleCase("ann", time.Time{})
		if err := tx.CreateCase(ctx, &c); err != nil {
			return err
		}
		got, err := tx.Case(ctx, c.ID)
		if err != nil {
			return err
		}
		want := now.Truncate(time.Millisecond)
		if !got.OpenedAt.Truncate(time.Millisecond).Equal(want) || got.OpenedAt.Location() != time.UTC {
			t.Errorf("OpenedAt defaulted: got %v, want %v (UTC)", got.OpenedAt, want)
		}
		return nil
	})
}

// testConcurrentUpdates runs many Updates at once, as the bot does under
// load (group commit batches them on SQLite; PostgreSQL runs them side by
// side): each commits or fails alone, and an event ID seen by several
// concurrent transactions has its effect once.
func testConcurrentUpdates(t *testing.T, s bot.Store) {
	const events, copies = 16, 3
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make(chan error, events*copies)
	for i := range events * copies {
		wg.Go(func() {
			id := fmt.Sprint("e", i%events)
			errs <- s.Update(t.Context(), func(tx bot.Tx) error {
				seen, err := tx.Seen(t.Context(), id)
				if err != nil || seen {
					return err
				}
				c := sampleCase(id, day(0))
				if err := tx.CreateCase(t.Context(), &c); err != nil {
					return err
				}
				if i%events == 5 {
					return boom // its writes, the event ID too, are rolled back
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, boom) {
			t.Errorf("Update: %v", err)
		}
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		for i := range events {
			id := fmt.Sprint("e", i)
			cases, n, err := tx.FindCases(ctx, bot.CaseFilter{CustomerID: id})
			if err != nil {
				return err
			}
			want := 1
			if i == 5 {
				want = 0
			}
			if n != want || len(cases) != want {
				t.Errorf("cases of %s: got %d, want %d", id, n, want)
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for _, c := range []struct {
			id   string
			want bool
		}{{"e0", true}, {"e15", true}, {"e5", false}} {
			got, err := tx.Seen(ctx, c.id)
			if err != nil {
				return err
			}
			if got != c.want {
				t.Errorf("Seen(%s) after the burst: got %v, want %v", c.id, got, c.want)
			}
		}
		return nil
	})
}
