package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

func putInbound(t *testing.T, s bot.Store, in *bot.Inbound) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx bot.Tx) error { return tx.PutInbound(ctx, in) })
	if in.ID == 0 || in.Attempts != 1 {
		t.Fatalf("PutInbound: got ID %d, attempts %d; want an ID and 1", in.ID, in.Attempts)
	}
}

func claimInbound(t *testing.T, s bot.Store, owner string, before, until int, limit int) []bot.Inbound {
	t.Helper()
	var got []bot.Inbound
	update(t, s, func(ctx context.Context, tx bot.Tx) error {
		var err error
		got, err = tx.ClaimInbound(ctx, owner, day(before), day(until), limit)
		return err
	})
	return got
}

func inboundIDs(ins []bot.Inbound) []int64 {
	ids := make([]int64, len(ins))
	for i, in := range ins {
		ids[i] = in.ID
	}
	return ids
}

// testInbound: events are kept as given, claimed only once their claim has
// ended, oldest first, and taken once.
func testInbound(t *testing.T, s bot.Store) {
	a := &bot.Inbound{Event: []byte(`{"ID":"a"}`), Owner: "one", Until: day(1)}
	b := &bot.Inbound{Event: []byte(`{"ID":"b"}`), Owner: "one", Until: day(3)}
	c := &bot.Inbound{Event: []byte(`{"ID":"c"}`), Owner: "two", Until: day(1)}
	for _, in := range []*bot.Inbound{a, b, c} {
		putInbound(t, s, in)
	}
	wantUndecided(t, s, 3)
	if got := claimInbound(t, s, "three", 1, 5, 0); len(got) != 0 {
		t.Errorf("claim before day 1: got %v, want none (every claim lasts until day 1 or later)", inboundIDs(got))
	}
	got := claimInbound(t, s, "three", 2, 5, 0)
	if ids := inboundIDs(got); len(ids) != 2 || ids[0] != a.ID || ids[1] != c.ID {
		t.Fatalf("claim before day 2: got %v, want [%d %d] (a, c: oldest first)", ids, a.ID, c.ID)
	}
	for _, in := range got {
		if in.Owner != "three" || !in.Until.Equal(day(5)) || in.Attempts != 2 {
			t.Errorf("claimed %d: owner %q until %v attempts %d; want three, %v, 2", in.ID, in.Owner, in.Until, in.Attempts, day(5))
		}
	}
	if string(got[0].Event) != `{"ID":"a"}` {
		t.Errorf("claimed a: event %q, want it as kept", got[0].Event)
	}
	if got := claimInbound(t, s, "four", 4, 6, 0); len(got) != 1 || got[0].ID != b.ID {
		t.Errorf("claim before day 4: got %v, want [%d] (a and c are claimed until day 5)", inboundIDs(got), b.ID)
	}
	if got := claimInbound(t, s, "five", 9, 10, 1); len(got) != 1 || got[0].ID != a.ID || got[0].Attempts != 3 {
		t.Errorf("claim with limit 1: got %+v, want a alone, attempt 3", got)
	}
	take := func(id int64) bool {
		var took bool
		update(t, s, func(ctx context.Context, tx bot.Tx) error {
			var err error
			took, err = tx.TakeInbound(ctx, id)
			return err
		})
		return took
	}
	if !take(a.ID) {
		t.Errorf("take a: not taken")
	}
	wantUndecided(t, s, 2)
	if take(a.ID) {
		t.Errorf("take a again: taken twice")
	}
	if got := claimInbound(t, s, "six", 99, 100, 0); len(got) != 2 || got[0].ID != b.ID || got[1].ID != c.ID {
		t.Errorf("claim after a was taken: got %v, want [%d %d]", inboundIDs(got), b.ID, c.ID)
	}
	// a take that rolls back leaves the event
	errUndo := context.Canceled
	_ = s.Update(t.Context(), func(tx bot.Tx) error {
		if _, err := tx.TakeInbound(t.Context(), b.ID); err != nil {
			return err
		}
		return errUndo
	})
	if !take(b.ID) {
		t.Errorf("take b after a rolled-back take: not taken")
	}
}

// testInboundTakenOnce: transactions racing to decide one event: one takes it.
func testInboundTakenOnce(t *testing.T, s bot.Store) {
	in := &bot.Inbound{Event: []byte(`{}`), Owner: "one", Until: day(1)}
	putInbound(t, s, in)
	const racers = 8
	var (
		mu    sync.Mutex
		taken int
		wg    sync.WaitGroup
	)
	for range racers {
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx bot.Tx) error {
				took, err := tx.TakeInbound(t.Context(), in.ID)
				if took {
					mu.Lock()
					taken++
					mu.Unlock()
				}
				return err
			})
			if err != nil {
				t.Errorf("take: %v", err)
			}
		})
	}
	wg.Wait()
	if taken != 1 {
		t.Errorf("%d racing takes: %d took the event, want 1", racers, taken)
	}
}

func wantUndecided(t *testing.T, s bot.Store, want int) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx bot.Tx) error {
		n, err := tx.InboundStats(ctx)
		if err == nil && n != want {
			t.Errorf("InboundStats: %d undecided, want %d", n, want)
		}
		return err
	})
}
