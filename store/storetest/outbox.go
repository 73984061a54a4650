package storetest

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// pendingIDs returns the IDs PendingActions gives at now.
func pendingIDs(t *testing.T, s bot.Store, now time.Time, limit int) []int64 {
	t.Helper()
	var ids []int64
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		actions, err := tx.PendingActions(ctx, now, limit)
		for _, a := range actions {
			ids = append(ids, a.ID)
		}
		return err
	})
	return ids
}

// enqueue adds actions in one transaction and returns them with their IDs.
func enqueue(t *testing.T, s bot.Store, actions ...bot.Action) []bot.Action {
	t.Helper()
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		for i := range actions {
			if err := tx.Enqueue(ctx, &actions[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return actions
}

func testOutboxLanes(t *testing.T, s bot.Store) {
	c := createCase(t, s, sampleCase("ann", day(0)))
	now := day(0)
	send := func(lane string, next time.Time) bot.Action {
		return bot.Action{CaseID: c.ID, Platform: bot.Slack, Lane: lane, Kind: bot.ActSend,
			Place: bot.PlacePrivate, NextAt: next, Msg: bot.Message{Text: "hello " + lane}}
	}
	first := send("A", now)
	first.To = bot.Ref{Platform: bot.Slack, Channel: "D-ann"}
	first.Fallback = []string{bot.PlacePublic, bot.PlaceStaff}
	first.Key = "survey:1"
	first.Msg.Buttons = []bot.Button{{ActionID: "rate:5", Label: "5", Style: "primary"}}
	noCase := send("D", now)
	noCase.CaseID = 0
	acts := enqueue(t, s, first, send("A", now), send("B", now), send("C", now.Add(time.Hour)), noCase, send("B", now))
	a1, a2, b1, c1, d1, b2 := acts[0].ID, acts[1].ID, acts[2].ID, acts[3].ID, acts[4].ID, acts[5].ID

	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		got, err := tx.PendingActions(ctx, now, 1)
		if err != nil {
			return err
		}
		if len(got) != 1 {
			t.Fatalf("pending actions: got %d, want 1", len(got))
		}
		a := got[0]
		if a.Created.IsZero() {
			t.Errorf("first pending action: no creation time")
		}
		a.Created = time.Time{} // the store's clock
		if !reflect.DeepEqual(a, acts[0]) {
			t.Errorf("first pending action:\n got %+v\nwant %+v", a, acts[0])
		}
		return nil
	})
	steps := []struct {
		name string
		do   func(ctx context.Context, tx bot.Tx) error
		now  time.Time
		want []int64
	}{
		{"start: one per lane, C not due", nil, now, []int64{a1, b1, d1}},
		{"C due later", nil, now.Add(time.Hour), []int64{a1, b1, c1, d1}},
		{"delivered unblocks its lane", func(ctx context.Context, tx bot.Tx) error {
			return tx.MarkDelivered(ctx, a1, bot.Delivery{Ref: bot.Ref{Platform: bot.Slack, Channel: "D-ann", Message: "1.1"}})
		}, now, []int64{a2, b1, d1}},
		{"a retry holds back its lane", func(ctx context.Context, tx bot.Tx) error {
			return tx.MarkFailed(ctx, b1, 1, now.Add(time.Minute), "HTTP 500", false)
		}, now, []int64{a2, d1}},
		{"the retry comes due", nil, now.Add(time.Minute), []int64{a2, b1, d1}},
		{"dead does not block", func(ctx context.Context, tx bot.Tx) error {
			return tx.MarkFailed(ctx, b1, 2, now, "channel_not_found", true)
		}, now, []int64{a2, d1, b2}},
	}
	for _, st := range steps {
		if st.do != nil {
			update(t, s, st.do)
		}
		if got := pendingIDs(t, s, st.now, 0); !slices.Equal(got, st.want) {
			t.Errorf("%s: pending got %v, want %v", st.name, got, st.want)
		}
	}
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		pending, dead, err := tx.OutboxStats(ctx)
		if pending != 4 || dead != 1 {
			t.Errorf("OutboxStats: got %d pending, %d dead; want 4, 1", pending, dead)
		}
		return err
	})
	err := s.Update(t.Context(), func(tx bot.Tx) error {
		wantErr(t, "MarkDelivered of a missing ID", tx.MarkDelivered(t.Context(), b2+100, bot.Delivery{}), bot.ErrNotFound)
		wantErr(t, "MarkFailed of a missing ID", tx.MarkFailed(t.Context(), b2+100, 1, now, "x", false), bot.ErrNotFound)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// pendingAfter returns the IDs PendingActionsAfter gives at now, and the
// last action ID it reports.
func pendingAfter(t *testing.T, s bot.Store, now time.Time, after int64, limit int) ([]int64, int64) {
	t.Helper()
	var ids []int64
	var last int64
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		actions, l, err := tx.PendingActionsAfter(ctx, now, after, limit)
		for _, a := range actions {
			ids = append(ids, a.ID)
		}
		last = l
		return err
	})
	return ids, last
}

// testPendingActionsAfter: the due lane heads above an ID, and the last ID
// queued, so that a second look reads only the lanes queued since the first.
func testPendingActionsAfter(t *testing.T, s bot.Store) {
	now := day(0)
	if ids, last := pendingAfter(t, s, now, 0, 0); len(ids) != 0 || last != 0 {
		t.Errorf("empty outbox: got %v, last %d; want none, 0", ids, last)
	}
	c := createCase(t, s, sampleCase("ann", day(0)))
	send := func(lane string, next time.Time) bot.Action {
		return bot.Action{CaseID: c.ID, Platform: bot.Slack, Lane: lane, Kind: bot.ActSend,
			Place: bot.PlacePrivate, NextAt: next, Msg: bot.Message{Text: "hello " + lane}}
	}
	first := enqueue(t, s, send("A", now), send("B", now), send("A", now))
	a1, b1, a2 := first[0].ID, first[1].ID, first[2].ID

	ids, last := pendingAfter(t, s, now, 0, 0)
	if want := pendingIDs(t, s, now, 0); !slices.Equal(ids, want) || last != a2 {
		t.Errorf("after 0: got %v, last %d; want PendingActions' %v, last %d", ids, last, want, a2)
	}
	if ids, _ := pendingAfter(t, s, now, 0, 1); !slices.Equal(ids, []int64{a1}) {
		t.Errorf("after 0, limit 1: got %v, want [%d]", ids, a1)
	}
	if ids, last := pendingAfter(t, s, now, last, 0); len(ids) != 0 || last != a2 {
		t.Errorf("nothing queued since: got %v, last %d; want none, %d", ids, last, a2)
	}

	// queued since: a new lane, a lane's second action, a lane not due yet
	later := enqueue(t, s, send("A", now), send("C", now), send("B", now), send("D", now.Add(time.Hour)))
	c1, d1 := later[1].ID, later[3].ID
	ids, next := pendingAfter(t, s, now, last, 0)
	if !slices.Equal(ids, []int64{c1}) || next != d1 {
		t.Errorf("after %d: got %v, last %d; want [%d] (the new lane), last %d", last, ids, next, c1, d1)
	}
	if ids, _ := pendingAfter(t, s, now.Add(time.Hour), last, 0); !slices.Equal(ids, []int64{c1, d1}) {
		t.Errorf("after %d an hour later: got %v, want [%d %d]", last, ids, c1, d1)
	}
	// a lane's head above after once the older ones are delivered
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		if err := tx.MarkDelivered(ctx, a1, bot.Delivery{}); err != nil {
			return err
		}
		return tx.MarkDelivered(ctx, a2, bot.Delivery{})
	})
	if ids, _ := pendingAfter(t, s, now, last, 0); !slices.Equal(ids, []int64{later[0].ID, c1}) {
		t.Errorf("after %d with A's first two delivered: got %v, want [%d %d]", last, ids, later[0].ID, c1)
	}
	if ids, _ := pendingAfter(t, s, now, b1, 0); slices.Contains(ids, b1) {
		t.Errorf("after %d: got %v, which holds %d itself", b1, ids, b1)
	}
}

// testLaneHeads: each lane's oldest pending action, due or not, by ID.
func testLaneHeads(t *testing.T, s bot.Store) {
	c := createCase(t, s, sampleCase("ann", day(0)))
	now := day(0)
	send := func(lane string, next time.Time) bot.Action {
		return bot.Action{CaseID: c.ID, Platform: bot.Slack, Lane: lane, Kind: bot.ActSend,
			Place: bot.PlacePrivate, NextAt: next, Msg: bot.Message{Text: "hello " + lane}}
	}
	acts := enqueue(t, s, send("B", now), send("A", now), send("A", now), send("C", now.Add(time.Hour)), send("B", now))
	b1, a1, a2, c1, b2 := acts[0].ID, acts[1].ID, acts[2].ID, acts[3].ID, acts[4].ID
	heads := func(lanes ...string) []int64 {
		t.Helper()
		var ids []int64
		view(t, s, func(ctx context.Context, tx bot.Tx) error {
			got, err := tx.LaneHeads(ctx, lanes)
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			return err
		})
		return ids
	}
	steps := []struct {
		name  string
		do    func(ctx context.Context, tx bot.Tx) error
		lanes []string
		want  []int64
	}{
		{"one per lane, by ID, not due included", nil, []string{"C", "A", "B", "none"}, []int64{b1, a1, c1}},
		{"only the lanes asked for", nil, []string{"A"}, []int64{a1}},
		{"no lanes", nil, nil, nil},
		{"delivered: the next one", func(ctx context.Context, tx bot.Tx) error {
			return tx.MarkDelivered(ctx, a1, bot.Delivery{})
		}, []string{"A"}, []int64{a2}},
		{"a retry stays the head", func(ctx context.Context, tx bot.Tx) error {
			return tx.MarkFailed(ctx, b1, 1, now.Add(time.Minute), "HTTP 500", false)
		}, []string{"B"}, []int64{b1}},
		{"dead: the next one", func(ctx context.Context, tx bot.Tx) error {
			return tx.MarkFailed(ctx, b1, 2, now, "channel_not_found", true)
		}, []string{"B"}, []int64{b2}},
		{"a lane delivered to the end has none", func(ctx context.Context, tx bot.Tx) error {
			return tx.MarkDelivered(ctx, a2, bot.Delivery{})
		}, []string{"A", "B"}, []int64{b2}},
	}
	for _, st := range steps {
		if st.do != nil {
			update(t, s, st.do)
		}
		if got := heads(st.lanes...); !slices.Equal(got, st.want) {
			t.Errorf("%s: LaneHeads(%v) got %v, want %v", st.name, st.lanes, got, st.want)
		}
	}
	var head bot.Action
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		got, err := tx.LaneHeads(ctx, []string{"C"})
		if len(got) == 1 {
			head = got[0]
		}
		return err
	})
	head.Created = time.Time{} // the store's clock
	if !reflect.DeepEqual(head, acts[3]) {
		t.Errorf("lane C's head:\n got %+v\nwant %+v", head, acts[3])
	}
}

func testDeliveries(t *testing.T, s bot.Store) {
	c := createCase(t, s, sampleCase("ann", day(0)))
	msg := func(id string) bot.Ref { return bot.Ref{Platform: bot.Slack, Channel: "D-ann", Message: id} }
	act := func(kind, key string) bot.Action {
		return bot.Action{CaseID: c.ID, Platform: bot.Slack, Lane: "L", Kind: kind, Place: bot.PlacePrivate, Key: key}
	}
	steps := []struct {
		name string
		a    bot.Action
		d    bot.Delivery
		key  string
		want bot.Ref // zero: not found
	}{
		{"send without key remembers nothing", act(bot.ActSend, ""), bot.Delivery{Ref: msg("1")}, "", bot.Ref{}},
		{"send under a key", act(bot.ActSend, "survey:1"), bot.Delivery{Ref: msg("2")}, "survey:1", msg("2")},
		{"update keeps the message", act(bot.ActUpdate, "survey:1"), bot.Delivery{Ref: msg("2")}, "survey:1", msg("2")},
		{"update without a ref keeps it", act(bot.ActUpdate, "survey:1"), bot.Delivery{}, "survey:1", msg("2")},
		{"delete forgets the message", act(bot.ActDelete, "survey:1"), bot.Delivery{Ref: msg("2")}, "survey:1", bot.Ref{}},
		{"a new send replaces it", act(bot.ActSend, "survey:1"), bot.Delivery{Ref: msg("3")}, "survey:1", msg("3")},
		{"open private", act(bot.ActOpenPrivate, "private"),
			bot.Delivery{Ref: msg(""), Staff: bot.Ref{Platform: bot.Slack, Channel: "C-staff", Thread: "7.7"}}, "private", msg("")},
		{"other key", act(bot.ActSend, "x"), bot.Delivery{Ref: msg("4")}, "survey:2", bot.Ref{}},
	}
	for _, st := range steps {
		a := enqueue(t, s, st.a)[0]
		update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.MarkDelivered(ctx, a.ID, st.d) })
		view(t, s, func(ctx context.Context, tx bot.Tx) error {
			got, err := tx.Delivered(ctx, c.ID, st.key)
			if st.want.IsZero() {
				wantErr(t, st.name, err, bot.ErrNotFound)
				return nil
			}
			if err != nil {
				return err
			}
			if got != st.want {
				t.Errorf("%s: Delivered got %+v, want %+v", st.name, got, st.want)
			}
			return nil
		})
	}
	if got := pendingIDs(t, s, day(10), 0); len(got) != 0 {
		t.Errorf("pending after delivering all: got %v, want none", got)
	}
}
