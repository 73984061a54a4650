package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

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

// deadIDs lists the IDs of every dead action, newest first.
func deadIDs(t *testing.T, db *DB) []int64 {
	t.Helper()
	dead, _, err := db.DeadLetters(t.Context(), bot.DeadFilter{}, 0)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	var ids []int64
	for _, d := range dead {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestDeadLettersListWithoutText(t *testing.T) {
	clock := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	db := openTest(t, Options{Now: func() time.Time { return clock }})
	id := newCase(t, db, bot.Slack, time.Time{})
	secret := "my account number is 4417"
	a := kill(t, db, bot.Action{CaseID: id, Platform: bot.Slack, Kind: bot.ActSend, Place: bot.PlacePrivate,
		Key: "survey:1", Msg: bot.Message{Text: secret}}, 10, "slack: 500 internal_error")
	clock = clock.Add(time.Minute)
	b := kill(t, db, bot.Action{Platform: bot.Discord, Lane: "x", Kind: bot.ActSend, Place: bot.PlaceRef,
		Msg: bot.Message{Text: secret}}, 1, `no adapter for platform "discord"`)
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		p := bot.Action{CaseID: id, Platform: bot.Slack, Lane: "case:1", Kind: bot.ActSend}
		return tx.Enqueue(ctx, &p) // pending: not listed
	})

	tests := []struct {
		name  string
		f     bot.DeadFilter
		limit int
		want  []int64
		total int
	}{
		{"all, newest first", bot.DeadFilter{}, 0, []int64{b, a}, 2},
		{"limit keeps the total", bot.DeadFilter{}, 1, []int64{b}, 2},
		{"by platform", bot.DeadFilter{Platform: bot.Slack}, 0, []int64{a}, 1},
		{"by case", bot.DeadFilter{CaseID: id}, 0, []int64{a}, 1},
		{"no match", bot.DeadFilter{Platform: bot.Sandbox}, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := db.DeadLetters(t.Context(), tt.f, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			if !slices.Equal(ids, tt.want) || total != tt.total {
				t.Errorf("got %v of %d, want %v of %d", ids, total, tt.want, tt.total)
			}
		})
	}

	got, _, err := db.DeadLetters(t.Context(), bot.DeadFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	start := clock.Add(-time.Minute)
	want := bot.DeadLetter{ID: a, CaseID: id, Platform: bot.Slack, Kind: bot.ActSend, Key: "survey:1",
		Place: bot.PlacePrivate, Attempts: 10, LastErr: "slack: 500 internal_error", CreatedAt: start, DiedAt: start,
		Refusal: bot.RefuseSurveyClosed} // the case is open, not resolved
	if got[1] != want {
		t.Errorf("dead letter:\n got %+v\nwant %+v", got[1], want)
	}
	if got[0].CaseID != 0 || got[0].DiedAt != clock || got[0].Refusal != "" {
		t.Errorf("caseless dead letter: got %+v", got[0])
	}
	if s := fmt.Sprintf("%+v", got); strings.Contains(s, "4417") {
		t.Errorf("dead letters carry message text: %s", s)
	}
}

func TestRetryDeadPutsBackInLaneOrder(t *testing.T) {
	clock := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	db := openTest(t, Options{Now: func() time.Time { return clock }})
	id := newCase(t, db, bot.Slack, time.Time{})
	dead := kill(t, db, bot.Action{CaseID: id, Platform: bot.Slack, Lane: "L", Kind: bot.ActSend,
		Msg: bot.Message{Text: "first"}}, 10, "timeout")
	var later bot.Action
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		later = bot.Action{CaseID: id, Platform: bot.Slack, Lane: "L", Kind: bot.ActSend, Msg: bot.Message{Text: "second"}}
		return tx.Enqueue(ctx, &later)
	})
	clock = clock.Add(time.Hour)

	got, err := db.RetryDead(t.Context(), dead, 999, dead, later.ID)
	if err != nil {
		t.Fatal(err)
	}
	var refusals []bot.Refusal
	for _, d := range got {
		refusals = append(refusals, d.Refusal)
	}
	if want := []bot.Refusal{"", bot.RefuseNotDead, bot.RefuseNotFound}; !slices.Equal(refusals, want) {
		t.Errorf("RetryDead refusals in ID order: got %q, want %q", refusals, want)
	}
	if ids := deadIDs(t, db); len(ids) != 0 {
		t.Errorf("dead after retry: got %v, want none", ids)
	}
	var pending []bot.Action
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) (err error) {
		pending, err = tx.PendingActions(ctx, clock, 0)
		return err
	})
	// The retried action comes before the later one of its lane, due now,
	// with its attempts reset and its text intact.
	if len(pending) != 1 || pending[0].ID != dead || pending[0].Attempts != 0 ||
		!pending[0].NextAt.Equal(clock) || pending[0].Msg.Text != "first" {
		t.Errorf("pending after retry: got %+v, want action %d, 0 attempts, due %v", pending, dead, clock)
	}
	again, err := db.RetryDead(t.Context(), dead)
	if err != nil || len(again) != 1 || again[0].Refusal != bot.RefuseNotDead {
		t.Errorf("second retry: got %+v, %v; want not_dead", again, err)
	}
}

func TestRetryRefusals(t *testing.T) {
	type setup struct {
		ctx  context.Context
		tx   bot.Tx
		cs   *bot.Case
		act  *bot.Action // before it is enqueued
		post func(ctx context.Context, tx bot.Tx) error
		err  error // the first error of the preparation
	}
	check := func(s *setup, err error) {
		if s.err == nil {
			s.err = err
		}
	}
	offer := func(s *setup, round int, state string) *bot.Offer {
		o := &bot.Offer{CaseID: s.cs.ID, Round: round, Target: "showcase", Kind: bot.TargetCommunityPost,
			Policy: bot.PolicySatisfied, State: state}
		check(s, s.tx.CreateOffer(s.ctx, o))
		return o
	}
	status := func(s *setup, st bot.Status, round int) {
		s.cs.Status, s.cs.Round = st, round
		check(s, s.tx.UpdateCase(s.ctx, s.cs))
	}
	resolved := func(s *setup, round int) { status(s, bot.StatusResolved, round) }
	send := func(s *setup, key string) { s.act.Kind, s.act.Key = bot.ActSend, key }
	forget := func(ctx context.Context, tx bot.Tx) error {
		_, err := tx.Forget(ctx, bot.Slack, "ann")
		return err
	}

	tests := []struct {
		name string
		prep func(s *setup)
		want bot.Refusal
	}{
		{"plain send", func(s *setup) { send(s, "") }, ""},
		{"message to a forgotten customer", func(s *setup) { s.post = forget }, bot.RefuseForgotten},
		{"open private for a forgotten customer", func(s *setup) {
			s.act.Kind = bot.ActOpenPrivate
			s.post = forget
		}, bot.RefuseForgotten},
		{"delete on a forgotten case still removes the post", func(s *setup) {
			s.act.Kind, s.act.Key = bot.ActDelete, "testimonial:1"
			s.post = forget
		}, ""},
		{"text purged by retention", func(s *setup) {
			s.cs.ClosedAt = s.tx.Now().Add(-48 * time.Hour)
			status(s, bot.StatusClosed, 0)
			s.post = func(ctx context.Context, tx bot.Tx) error {
				_, err := tx.Purge(ctx, tx.Now().Add(-time.Hour))
				return err
			}
		}, bot.RefuseTextErased},
		{"survey of the open round", func(s *setup) { resolved(s, 2); send(s, "survey:2") }, ""},
		{"reminder of the open round", func(s *setup) { resolved(s, 2); send(s, "reminder:2") }, ""},
		{"survey of an earlier round", func(s *setup) { resolved(s, 2); send(s, "survey:1") }, bot.RefuseSurveyClosed},
		{"survey of a closed case", func(s *setup) {
			status(s, bot.StatusClosed, 1)
			send(s, "survey:1")
		}, bot.RefuseSurveyClosed},
		{"update of a survey is not a new survey", func(s *setup) {
			s.act.Kind, s.act.Key = bot.ActUpdate, "survey:1"
		}, ""},
		{"prompt with an open offer", func(s *setup) { offer(s, 1, bot.OfferOffered); send(s, "prompt:1") }, ""},
		{"prompt to an opted-out customer", func(s *setup) {
			offer(s, 1, bot.OfferOffered)
			send(s, "prompt:1")
			s.post = func(ctx context.Context, tx bot.Tx) error {
				return tx.PutPerson(ctx, bot.PersonRecord{Platform: bot.Slack, ID: "ann", OptedOut: true})
			}
		}, bot.RefuseOptedOut},
		{"prompt counted when queued", func(s *setup) {
			offer(s, 1, bot.OfferOffered)
			send(s, "prompt:1")
			check(s, s.tx.PutPerson(s.ctx, bot.PersonRecord{Platform: bot.Slack, ID: "ann", LastPromptAt: s.tx.Now()}))
		}, ""},
		{"prompt after a later prompt", func(s *setup) {
			offer(s, 1, bot.OfferOffered)
			send(s, "prompt:1")
			s.post = func(ctx context.Context, tx bot.Tx) error {
				return tx.PutPerson(ctx, bot.PersonRecord{Platform: bot.Slack, ID: "ann", LastPromptAt: tx.Now().Add(time.Hour)})
			}
		}, bot.RefusePromptedSince},
		{"prompt whose offers were declined", func(s *setup) { offer(s, 1, bot.OfferDeclined); send(s, "prompt:1") }, bot.RefuseShareClosed},
		{"prompt of another round's offers", func(s *setup) { offer(s, 2, bot.OfferOffered); send(s, "prompt:1") }, bot.RefuseShareClosed},
		{"testimonial still shared", func(s *setup) {
			o := offer(s, 1, bot.OfferShared)
			send(s, fmt.Sprint("testimonial:", o.ID))
		}, ""},
		{"testimonial withdrawn", func(s *setup) {
			o := offer(s, 1, bot.OfferWithdrawn)
			send(s, fmt.Sprint("testimonial:", o.ID))
		}, bot.RefuseWithdrawn},
		{"testimonial of an unknown offer", func(s *setup) { send(s, "testimonial:77") }, bot.RefuseWithdrawn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t, Options{})
			id := newCase(t, db, bot.Slack, time.Time{})
			var s setup
			var actID int64
			mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
				cs, err := tx.Case(ctx, id)
				if err != nil {
					return err
				}
				s = setup{ctx: ctx, tx: tx, cs: cs, act: &bot.Action{CaseID: id, Platform: bot.Slack, Lane: "L",
					Kind: bot.ActSend, Place: bot.PlacePrivate, Msg: bot.Message{Text: "hello"}}}
				tt.prep(&s)
				if s.err != nil {
					return s.err
				}
				if err := tx.Enqueue(ctx, s.act); err != nil {
					return err
				}
				actID = s.act.ID
				return tx.MarkFailed(ctx, actID, 10, time.Time{}, "failed", true)
			})
			if s.post != nil {
				mustUpdate(t, db, s.post)
			}

			listed, _, err := db.DeadLetters(t.Context(), bot.DeadFilter{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != 1 || listed[0].Refusal != tt.want {
				t.Errorf("DeadLetters: got %+v, want refusal %q", listed, tt.want)
			}
			got, err := db.RetryDead(t.Context(), actID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Refusal != tt.want {
				t.Errorf("RetryDead: got %+v, want refusal %q", got, tt.want)
			}
			stillDead := len(deadIDs(t, db)) == 1
			if refused := tt.want != ""; stillDead != refused {
				t.Errorf("after RetryDead: still dead %v, want %v", stillDead, refused)
			}
			if tt.want != "" && tt.want.Reason() == string(tt.want) {
				t.Errorf("refusal %q has no reason", tt.want)
			}
		})
	}
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
	got, err := db.RetryDead(t.Context(), act)
	if err != nil || len(got) != 1 || got[0].Refusal != bot.RefuseCaseMissing {
		t.Errorf("RetryDead: got %+v, %v; want case_missing", got, err)
	}
}

func TestRetryAllDeadInBatches(t *testing.T) {
	db := openTest(t, Options{})
	ann := newCase(t, db, bot.Slack, time.Time{})
	n := 2*retryBatch + 3
	var refused int64
	mustUpdate(t, db, func(ctx context.Context, tx bot.Tx) error {
		for i := range n + 4 {
			a := bot.Action{CaseID: ann, Platform: bot.Slack, Lane: fmt.Sprint(i), Kind: bot.ActSend}
			switch {
			case i == retryBatch: // in the middle of the second batch's range
				a.Key = "survey:9"
			case i >= n+1:
				a.Platform = bot.Discord
			}
			if err := tx.Enqueue(ctx, &a); err != nil {
				return err
			}
			if a.Key != "" {
				refused = a.ID
			}
			if err := tx.MarkFailed(ctx, a.ID, 10, time.Time{}, "boom", true); err != nil {
				return err
			}
		}
		return nil
	})

	got, err := db.RetryAllDead(t.Context(), bot.DeadFilter{Platform: bot.Slack})
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for i, d := range got {
		if i > 0 && d.ID <= got[i-1].ID {
			t.Fatalf("results not in ID order at %d: %d after %d", i, d.ID, got[i-1].ID)
		}
		switch {
		case d.Refusal == "":
			retried++
		case d.ID != refused || d.Refusal != bot.RefuseSurveyClosed:
			t.Errorf("unexpected refusal: %+v", d)
		}
	}
	if len(got) != n+1 || retried != n {
		t.Errorf("RetryAllDead: got %d results, %d retried; want %d, %d", len(got), retried, n+1, n)
	}
	dead, total, err := db.DeadLetters(t.Context(), bot.DeadFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	platforms := map[string]int{}
	for _, d := range dead {
		platforms[d.Platform]++
	}
	if total != 4 || platforms[bot.Discord] != 3 || platforms[bot.Slack] != 1 {
		t.Errorf("left dead: %d, by platform %v; want 3 discord and the refused slack one", total, platforms)
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
	cli := openPath(t, path, Options{})

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
