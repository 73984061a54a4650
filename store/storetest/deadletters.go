package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// The dead-letter contract (Tx.DeadLetters, DeadLetter, Requeue) and the
// core's rules on top of it (bot.Core.RetryDead), which read the store
// through the rest of the contract.

// newCore is a core on s that decides which dead actions may go out again.
func newCore(t *testing.T, s bot.Store) *bot.Core {
	t.Helper()
	cfg := bot.DefaultConfig()
	cfg.Secret = "storetest-secret-0123456789abcdef"
	core, err := bot.New(bot.Options{Store: s, Config: cfg})
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return core
}

// kill enqueues a and marks it dead after attempts failures with lastErr, and
// returns its ID and when it died.
func kill(t *testing.T, s bot.Store, a bot.Action, attempts int, lastErr string) (int64, time.Time) {
	t.Helper()
	if a.Lane == "" {
		a.Lane = fmt.Sprint("case:", a.CaseID)
	}
	var at time.Time
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		at = tx.Now()
		if err := tx.Enqueue(ctx, &a); err != nil {
			return err
		}
		return tx.MarkFailed(ctx, a.ID, attempts, time.Time{}, lastErr, true)
	})
	return a.ID, at
}

// deadIDs lists the IDs of every dead action, newest first.
func deadIDs(t *testing.T, s bot.Store) []int64 {
	t.Helper()
	var ids []int64
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		dead, _, err := tx.DeadLetters(ctx, bot.DeadFilter{}, 0)
		for _, d := range dead {
			ids = append(ids, d.ID)
		}
		return err
	})
	return ids
}

func testDeadLettersList(t *testing.T, s bot.Store) {
	core := newCore(t, s)
	cs := createCase(t, s, sampleCase("ann", day(0)))
	secret := "my account number is 4417"
	a, died := kill(t, s, bot.Action{CaseID: cs.ID, Platform: bot.Slack, Kind: bot.ActSend, Place: bot.PlacePrivate,
		Key: "survey:1", Purpose: bot.PurposeSurvey, Subject: 1, Msg: bot.Message{Text: secret}}, 10, "slack: 500 internal_error")
	b, _ := kill(t, s, bot.Action{Platform: bot.Discord, Lane: "x", Kind: bot.ActSend, Place: bot.PlaceRef,
		Msg: bot.Message{Text: secret}}, 1, `no adapter for platform "discord"`)
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		p := bot.Action{CaseID: cs.ID, Platform: bot.Slack, Lane: "case:1", Kind: bot.ActSend}
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
		{"by case", bot.DeadFilter{CaseID: cs.ID}, 0, []int64{a}, 1},
		{"before an ID", bot.DeadFilter{Before: b}, 0, []int64{a}, 1},
		{"no match", bot.DeadFilter{Platform: bot.Sandbox}, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := core.DeadLetters(t.Context(), tt.f, tt.limit)
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

	got, _, err := core.DeadLetters(t.Context(), bot.DeadFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := bot.DeadLetter{ID: a, CaseID: cs.ID, Platform: bot.Slack, Kind: bot.ActSend, Key: "survey:1",
		Place: bot.PlacePrivate, Purpose: bot.PurposeSurvey, Subject: 1, Attempts: 10,
		LastErr: "slack: 500 internal_error", CreatedAt: died, DiedAt: died,
		Refusal: bot.RefuseSurveyClosed} // the case is open, not resolved
	if len(got) != 2 {
		t.Fatalf("dead letters: got %d, want 2", len(got))
	}
	if got[1] != want {
		t.Errorf("dead letter:\n got %+v\nwant %+v", got[1], want)
	}
	if got[0].CaseID != 0 || got[0].DiedAt.IsZero() || got[0].Refusal != "" {
		t.Errorf("caseless dead letter: got %+v", got[0])
	}
	if s := fmt.Sprintf("%+v", got); strings.Contains(s, "4417") {
		t.Errorf("dead letters carry message text: %s", s)
	}
}

func testRetryDeadInLaneOrder(t *testing.T, s bot.Store) {
	core := newCore(t, s)
	cs := createCase(t, s, sampleCase("ann", day(0)))
	dead, _ := kill(t, s, bot.Action{CaseID: cs.ID, Platform: bot.Slack, Lane: "L", Kind: bot.ActSend,
		Msg: bot.Message{Text: "first"}}, 10, "timeout")
	var later bot.Action
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		later = bot.Action{CaseID: cs.ID, Platform: bot.Slack, Lane: "L", Kind: bot.ActSend, Msg: bot.Message{Text: "second"}}
		return tx.Enqueue(ctx, &later)
	})

	got, err := core.RetryDead(t.Context(), dead, 999999, dead, later.ID)
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
	if ids := deadIDs(t, s); len(ids) != 0 {
		t.Errorf("dead after retry: got %v, want none", ids)
	}
	var pending []bot.Action
	var retriedAt time.Time
	update(t, s, func(ctx context.Context, tx bot.Tx) (err error) {
		retriedAt = tx.Now()
		pending, err = tx.PendingActions(ctx, tx.Now().Add(time.Minute), 0)
		return err
	})
	// The retried action comes before the later one of its lane, due now,
	// with its attempts reset and its text intact.
	if len(pending) != 1 || pending[0].ID != dead || pending[0].Attempts != 0 ||
		pending[0].NextAt.After(retriedAt) || pending[0].Msg.Text != "first" || pending[0].LastErr != "timeout" {
		t.Errorf("pending after retry: got %+v, want action %d, 0 attempts, due, its text and last error", pending, dead)
	}
	again, err := core.RetryDead(t.Context(), dead)
	if err != nil || len(again) != 1 || again[0].Refusal != bot.RefuseNotDead {
		t.Errorf("second retry: got %+v, %v; want not_dead", again, err)
	}
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		wantErr(t, "Requeue of a pending action", tx.Requeue(ctx, dead), bot.ErrNotFound)
		_, err := tx.DeadLetter(ctx, dead)
		wantErr(t, "DeadLetter of a pending action", err, bot.ErrConflict)
		_, err = tx.DeadLetter(ctx, 999999)
		wantErr(t, "DeadLetter of no action", err, bot.ErrNotFound)
		return nil
	})
}

func testRetryRefusals(t *testing.T, open func(t *testing.T) bot.Store) {
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
	send := func(s *setup, p bot.Purpose, subject int64) {
		s.act.Kind, s.act.Purpose, s.act.Subject = bot.ActSend, p, subject
		s.act.Key = fmt.Sprint(p, ":", subject)
	}
	forget := func(ctx context.Context, tx bot.Tx) error {
		_, err := tx.Forget(ctx, bot.Slack, "ann")
		return err
	}

	tests := []struct {
		name string
		prep func(s *setup)
		want bot.Refusal
	}{
		{"plain send", func(s *setup) {}, ""},
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
		{"survey of the open round", func(s *setup) { resolved(s, 2); send(s, bot.PurposeSurvey, 2) }, ""},
		{"reminder of the open round", func(s *setup) { resolved(s, 2); send(s, bot.PurposeReminder, 2) }, ""},
		{"survey of an earlier round", func(s *setup) { resolved(s, 2); send(s, bot.PurposeSurvey, 1) }, bot.RefuseSurveyClosed},
		{"survey of a closed case", func(s *setup) {
			status(s, bot.StatusClosed, 1)
			send(s, bot.PurposeSurvey, 1)
		}, bot.RefuseSurveyClosed},
		{"update of a survey is not a new survey", func(s *setup) {
			s.act.Kind, s.act.Key = bot.ActUpdate, "survey:1"
		}, ""},
		{"a key alone is no purpose", func(s *setup) { s.act.Key = "survey:7" }, ""},
		{"prompt with an open offer", func(s *setup) { offer(s, 1, bot.OfferOffered); send(s, bot.PurposePrompt, 1) }, ""},
		{"prompt to an opted-out customer", func(s *setup) {
			offer(s, 1, bot.OfferOffered)
			send(s, bot.PurposePrompt, 1)
			s.post = func(ctx context.Context, tx bot.Tx) error {
				return tx.PutPerson(ctx, bot.PersonRecord{Platform: bot.Slack, ID: "ann", OptedOut: true})
			}
		}, bot.RefuseOptedOut},
		{"prompt counted when queued", func(s *setup) {
			offer(s, 1, bot.OfferOffered)
			send(s, bot.PurposePrompt, 1)
			check(s, s.tx.PutPerson(s.ctx, bot.PersonRecord{Platform: bot.Slack, ID: "ann", LastPromptAt: s.tx.Now()}))
		}, ""},
		{"prompt after a later prompt", func(s *setup) {
			offer(s, 1, bot.OfferOffered)
			send(s, bot.PurposePrompt, 1)
			s.post = func(ctx context.Context, tx bot.Tx) error {
				return tx.PutPerson(ctx, bot.PersonRecord{Platform: bot.Slack, ID: "ann", LastPromptAt: tx.Now().Add(time.Hour)})
			}
		}, bot.RefusePromptedSince},
		{"prompt to a customer whose linked account opted out", func(s *setup) {
			offer(s, 1, bot.OfferOffered)
			send(s, bot.PurposePrompt, 1)
			s.post = func(ctx context.Context, tx bot.Tx) error {
				return linkedAnn(ctx, tx, bot.PersonRecord{Platform: bot.Discord, ID: "ann-d", OptedOut: true})
			}
		}, bot.RefuseOptedOut},
		{"prompt after a later prompt on a linked account", func(s *setup) {
			offer(s, 1, bot.OfferOffered)
			send(s, bot.PurposePrompt, 1)
			s.post = func(ctx context.Context, tx bot.Tx) error {
				return linkedAnn(ctx, tx, bot.PersonRecord{Platform: bot.Discord, ID: "ann-d", LastPromptAt: tx.Now().Add(time.Hour)})
			}
		}, bot.RefusePromptedSince},
		{"prompt whose offers were declined", func(s *setup) {
			offer(s, 1, bot.OfferDeclined)
			send(s, bot.PurposePrompt, 1)
		}, bot.RefuseShareClosed},
		{"prompt of another round's offers", func(s *setup) {
			offer(s, 2, bot.OfferOffered)
			send(s, bot.PurposePrompt, 1)
		}, bot.RefuseShareClosed},
		{"testimonial still shared", func(s *setup) {
			o := offer(s, 1, bot.OfferShared)
			send(s, bot.PurposeTestimonial, o.ID)
		}, ""},
		{"testimonial withdrawn", func(s *setup) {
			o := offer(s, 1, bot.OfferWithdrawn)
			send(s, bot.PurposeTestimonial, o.ID)
		}, bot.RefuseWithdrawn},
		{"testimonial of an unknown offer", func(s *setup) { send(s, bot.PurposeTestimonial, 77777) }, bot.RefuseWithdrawn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := open(t)
			core := newCore(t, st)
			cs := createCase(t, st, sampleCase("ann", day(0)))
			var s setup
			var actID int64
			update(t, st, func(ctx context.Context, tx bot.Tx) error {
				c, err := tx.Case(ctx, cs.ID)
				if err != nil {
					return err
				}
				s = setup{ctx: ctx, tx: tx, cs: c, act: &bot.Action{CaseID: cs.ID, Platform: bot.Slack, Lane: "L",
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
				update(t, st, s.post)
			}

			listed, _, err := core.DeadLetters(t.Context(), bot.DeadFilter{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != 1 || listed[0].Refusal != tt.want {
				t.Errorf("DeadLetters: got %+v, want refusal %q", listed, tt.want)
			}
			got, err := core.RetryDead(t.Context(), actID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Refusal != tt.want {
				t.Errorf("RetryDead: got %+v, want refusal %q", got, tt.want)
			}
			stillDead := len(deadIDs(t, st)) == 1
			if refused := tt.want != ""; stillDead != refused {
				t.Errorf("after RetryDead: still dead %v, want %v", stillDead, refused)
			}
			if tt.want != "" && tt.want.Reason() == string(tt.want) {
				t.Errorf("refusal %q has no reason", tt.want)
			}
		})
	}
}

// retryBatches is more than two of the core's batches of 256.
const retryBatches = 2*256 + 3

func testRetryAllDeadInBatches(t *testing.T, s bot.Store) {
	core := newCore(t, s)
	cs := createCase(t, s, sampleCase("ann", day(0)))
	n := retryBatches
	var refused int64
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for i := range n + 4 {
			a := bot.Action{CaseID: cs.ID, Platform: bot.Slack, Lane: fmt.Sprint(i), Kind: bot.ActSend}
			switch {
			case i == 256: // where a batch ends
				a.Key, a.Purpose, a.Subject = "survey:9", bot.PurposeSurvey, 9
			case i >= n+1:
				a.Platform = bot.Discord
			}
			if err := tx.Enqueue(ctx, &a); err != nil {
				return err
			}
			if a.Purpose != "" {
				refused = a.ID
			}
			if err := tx.MarkFailed(ctx, a.ID, 10, time.Time{}, "boom", true); err != nil {
				return err
			}
		}
		return nil
	})

	got, err := core.RetryAllDead(t.Context(), bot.DeadFilter{Platform: bot.Slack})
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
	dead, total, err := core.DeadLetters(t.Context(), bot.DeadFilter{}, 0)
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

// linkedAnn links ann (on Slack) with p's identity and stores p.
func linkedAnn(ctx context.Context, tx bot.Tx, p bot.PersonRecord) error {
	if err := tx.Link(ctx, bot.Identity{Platform: bot.Slack, ID: "ann"}, bot.Identity{Platform: p.Platform, ID: p.ID}, bot.LinkViaCode); err != nil {
		return err
	}
	return tx.PutPerson(ctx, p)
}
