package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

func claimed(t *testing.T, db *DB, owner string, lease time.Duration, dests ...string) (held, taken []string) {
	t.Helper()
	held, taken, err := db.ClaimDestinations(t.Context(), owner, dests, lease)
	if err != nil {
		t.Fatalf("ClaimDestinations(%s, %v): %v", owner, dests, err)
	}
	slices.Sort(held)
	return held, taken
}

func TestClaimDestinations(t *testing.T) {
	db := openTest(t, Options{})
	if held, _ := claimed(t, db, "A", time.Minute, "x", "y"); !slices.Equal(held, []string{"x", "y"}) {
		t.Fatalf("A's first claim: held %v, want x and y", held)
	}
	if held, taken := claimed(t, db, "B", time.Minute, "x", "z"); !slices.Equal(held, []string{"z"}) || len(taken) != 0 {
		t.Errorf("B beside A: held %v taken %v, want z, nothing taken", held, taken)
	}
	if held, _ := claimed(t, db, "A", 50*time.Millisecond, "x"); !slices.Equal(held, []string{"x"}) {
		t.Errorf("A's renewal: held %v, want x", held)
	}
	// A stops renewing: once its lease runs out, B takes x over.
	deadline := time.Now().Add(30 * time.Second)
	for {
		held, taken := claimed(t, db, "B", time.Minute, "x")
		if slices.Equal(held, []string{"x"}) {
			if !slices.Equal(taken, []string{"x"}) {
				t.Errorf("B took x from A: taken %v, want x", taken)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B never took over x after A's lease ran out")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if held, _ := claimed(t, db, "A", time.Minute, "x"); len(held) != 0 {
		t.Errorf("A after the takeover: held %v, want none", held)
	}
	if err := db.ReleaseDestinations(t.Context(), "B"); err != nil {
		t.Fatal(err)
	}
	if held, taken := claimed(t, db, "A", time.Minute, "x", "z"); !slices.Equal(held, []string{"x", "z"}) || len(taken) != 0 {
		t.Errorf("A after B released: held %v taken %v, want x and z, nothing taken", held, taken)
	}
}

// TestClaimsConcurrent has eight owners claim the same destinations at once,
// again and again: each destination has one holder at a time.
func TestClaimsConcurrent(t *testing.T) {
	db := openTest(t, Options{})
	dests := []string{"a", "b", "c", "d", "e"}
	var mu sync.Mutex
	holders := map[string]map[string]bool{}
	var wg sync.WaitGroup
	for i := range 8 {
		owner := fmt.Sprint("owner", i)
		wg.Go(func() {
			for range 10 {
				held, _, err := db.ClaimDestinations(context.Background(), owner, dests, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, d := range held {
					if holders[d] == nil {
						holders[d] = map[string]bool{}
					}
					holders[d][owner] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, d := range dests {
		if len(holders[d]) != 1 {
			t.Errorf("destination %s held by %d owners within one lease, want 1: %v", d, len(holders[d]), holders[d])
		}
	}
}

// countingAdapter records every delivery: by which core, of which action
// (its nonce), where.
type countingAdapter struct {
	name string
	log  *deliveries
}

type delivery struct {
	core, nonce, dest string
	at                time.Time
}

type deliveries struct {
	mu  sync.Mutex
	all []delivery
	seq int
}

func (d *deliveries) add(core, nonce, dest string) bot.Ref {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	d.all = append(d.all, delivery{core, nonce, dest, time.Now()})
	return bot.Ref{Platform: bot.Slack, Channel: dest, Message: fmt.Sprint(d.seq)}
}

func (a *countingAdapter) Platform() string                             { return bot.Slack }
func (a *countingAdapter) Run(ctx context.Context, _ bot.Handler) error { <-ctx.Done(); return nil }
func (a *countingAdapter) OpenPrivate(_ context.Context, c *bot.Case, m bot.Message) (bot.Ref, bot.Ref, error) {
	r := a.log.add(a.name, m.Nonce, "open")
	return r, r, nil
}
func (a *countingAdapter) Send(_ context.Context, to bot.Ref, m bot.Message) (bot.Ref, error) {
	time.Sleep(time.Millisecond) // a platform call takes a while
	return a.log.add(a.name, m.Nonce, to.Channel), nil
}
func (a *countingAdapter) Update(context.Context, bot.Ref, bot.Message) error { return nil }
func (a *countingAdapter) Delete(context.Context, bot.Ref) error              { return nil }

// TestTwoCoresShareTheOutbox runs two cores, as two instances would, on one
// database: every action is delivered once, both deliver, each destination
// by one of them, and each lane in order.
func TestTwoCoresShareTheOutbox(t *testing.T) {
	url := testURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := &deliveries{}
	cfg := bot.DefaultConfig()
	cfg.Secret = "test-secret-0123456789abcdef0123456789"
	var dbs []*DB
	var cores []*bot.Core
	for i := range 2 {
		db, err := Open(ctx, url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		core, err := bot.New(bot.Options{Store: db, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		core.Register(&countingAdapter{name: fmt.Sprint("core", i), log: log})
		dbs, cores = append(dbs, db), append(cores, core)
	}
	const lanes, perLane, channels = 40, 5, 8
	var ids []int64
	laneOf := map[string]string{}
	err := dbs[0].Update(ctx, func(tx bot.Tx) error {
		ids = ids[:0]
		for i := range lanes * perLane {
			lane := fmt.Sprint("lane", i%lanes)
			a := bot.Action{Platform: bot.Slack, Lane: lane, Kind: bot.ActSend, Place: bot.PlaceRef,
				To: bot.Ref{Platform: bot.Slack, Channel: fmt.Sprint("C", (i%lanes)%channels)}, Msg: bot.Message{Text: "hi"}}
			if err := tx.Enqueue(ctx, &a); err != nil {
				return err
			}
			ids = append(ids, a.ID)
			laneOf[fmt.Sprint("adv", a.ID)] = lane
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, c := range cores {
		wg.Go(func() { _ = c.Run(run) })
	}
	for {
		var pending int
		err := dbs[1].View(ctx, func(tx bot.Tx) (err error) {
			pending, _, err = tx.OutboxStats(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d actions still pending", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()

	times := map[string]int{}
	destCores := map[string]map[string]bool{}
	byCore := map[string]int{}
	lastInLane := map[string]string{}
	for _, d := range log.all {
		times[d.nonce]++
		byCore[d.core]++
		if destCores[d.dest] == nil {
			destCores[d.dest] = map[string]bool{}
		}
		destCores[d.dest][d.core] = true
		lane := laneOf[d.nonce]
		if prev := lastInLane[lane]; prev != "" && !nonceBefore(prev, d.nonce) {
			t.Errorf("lane %s: %s delivered after %s", lane, d.nonce, prev)
		}
		lastInLane[lane] = d.nonce
	}
	for _, id := range ids {
		if n := times[fmt.Sprint("adv", id)]; n != 1 {
			t.Errorf("action %d delivered %d times, want once", id, n)
		}
	}
	if len(byCore) != 2 {
		t.Errorf("deliveries by core: %v, want both to deliver", byCore)
	}
	for dest, cs := range destCores {
		if len(cs) != 1 {
			t.Errorf("destination %s delivered by %d cores, want 1", dest, len(cs))
		}
	}
	t.Logf("deliveries by core: %v", byCore)
}

func nonceBefore(a, b string) bool {
	var x, y int64
	fmt.Sscanf(a, "adv%d", &x)
	fmt.Sscanf(b, "adv%d", &y)
	return x < y
}

// staffChannelAdapter is a platform like Slack, where one channel takes the
// posts of several places: a case's root (OpenPrivate), its staff thread
// and the alerts to the staff channel are all posts in the staff channel.
// It names that channel to the relay (bot.ChannelPacer) and counts the posts
// begun in a channel while another core's post there was under way: what
// makes a platform answer 429.
type staffChannelAdapter struct {
	countingAdapter
	busy *channelBusy
}

type channelBusy struct {
	mu       sync.Mutex
	under    map[string]map[string]int // channel -> core -> posts under way
	overlaps map[string]int            // channel -> posts begun beside another core's
}

func (b *channelBusy) post(core, channel string) (done func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.under[channel] == nil {
		b.under[channel] = map[string]int{}
	}
	for other, n := range b.under[channel] {
		if other != core && n > 0 {
			b.overlaps[channel]++
		}
	}
	b.under[channel][core]++
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.under[channel][core]--
	}
}

func (a *staffChannelAdapter) PacedChannel(act bot.Action) string {
	if act.Kind == bot.ActOpenPrivate || act.Place == bot.PlaceStaff || act.To.Channel == bot.StaffChannel {
		return "staff"
	}
	return ""
}

func (a *staffChannelAdapter) OpenPrivate(_ context.Context, c *bot.Case, m bot.Message) (bot.Ref, bot.Ref, error) {
	done := a.busy.post(a.name, "staff")
	time.Sleep(2 * time.Millisecond)
	done()
	a.log.add(a.name, m.Nonce, "staff")
	return bot.Ref{Platform: bot.Slack, Channel: "D" + c.Customer.ID},
		bot.Ref{Platform: bot.Slack, Channel: "staff", Thread: fmt.Sprint("root", c.ID)}, nil
}

func (a *staffChannelAdapter) Send(_ context.Context, to bot.Ref, m bot.Message) (bot.Ref, error) {
	ch := to.Channel
	if ch == bot.StaffChannel {
		ch = "staff"
	}
	done := a.busy.post(a.name, ch)
	time.Sleep(2 * time.Millisecond)
	done()
	return a.log.add(a.name, m.Nonce, ch), nil
}

// TestTwoCoresOnePacedChannel: with two instances, the posts that share one
// paced channel (case roots, staff threads, alerts) go out from one instance
// at a time, never from both at once.
func TestTwoCoresOnePacedChannel(t *testing.T) {
	url := testURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := &deliveries{}
	busy := &channelBusy{under: map[string]map[string]int{}, overlaps: map[string]int{}}
	cfg := bot.DefaultConfig()
	cfg.Secret = "test-secret-0123456789abcdef0123456789"
	var dbs []*DB
	var cores []*bot.Core
	for i := range 2 {
		db, err := Open(ctx, url, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		core, err := bot.New(bot.Options{Store: db, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		core.Register(&staffChannelAdapter{countingAdapter: countingAdapter{name: fmt.Sprint("core", i), log: log}, busy: busy})
		dbs, cores = append(dbs, db), append(cores, core)
	}
	const cases = 40
	var ids []int64
	err := dbs[0].Update(ctx, func(tx bot.Tx) error {
		ids = ids[:0]
		for i := range cases {
			// Half the cases are new (their root is still to be posted), half
			// under way: both kinds of post are due at once, as in a busy
			// community.
			c := &bot.Case{Platform: bot.Slack, Customer: bot.Person{Platform: bot.Slack, ID: fmt.Sprint("U", i)}}
			acts := []bot.Action{{Kind: bot.ActOpenPrivate}}
			if i%2 == 1 {
				c.Private = bot.Ref{Platform: bot.Slack, Channel: "D" + c.Customer.ID}
				c.Staff = bot.Ref{Platform: bot.Slack, Channel: "staff", Thread: fmt.Sprint("root-", i)}
				acts = nil
			}
			if err := tx.CreateCase(ctx, c); err != nil {
				return err
			}
			acts = append(acts, bot.Action{Kind: bot.ActSend, Place: bot.PlaceStaff},
				bot.Action{Kind: bot.ActSend, Place: bot.PlaceRef, To: bot.Ref{Platform: bot.Slack, Channel: bot.StaffChannel}},
				bot.Action{Kind: bot.ActSend, Place: bot.PlaceStaff})
			for _, a := range acts {
				a.CaseID, a.Platform, a.Lane, a.Msg = c.ID, bot.Slack, fmt.Sprint("case:", c.ID), bot.Message{Text: "hi"}
				if err := tx.Enqueue(ctx, &a); err != nil {
					return err
				}
				ids = append(ids, a.ID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, c := range cores {
		wg.Go(func() { _ = c.Run(run) })
	}
	waitDelivered(t, ctx, dbs[1])
	stop()
	wg.Wait()

	times := map[string]int{}
	posters := map[string]bool{}
	for _, d := range log.all {
		times[d.nonce]++
		if d.dest == "staff" {
			posters[d.core] = true
		}
	}
	for _, id := range ids {
		if n := times[fmt.Sprint("adv", id)]; n != 1 {
			t.Errorf("action %d delivered %d times, want once", id, n)
		}
	}
	if n := busy.overlaps["staff"]; n != 0 {
		t.Errorf("%d posts to the staff channel began while the other instance was posting there, want none", n)
	}
	if len(posters) != 1 {
		t.Errorf("the staff channel was posted to by %d instances, want 1: %v", len(posters), posters)
	}
}

// waitDelivered waits until the outbox has no pending action.
func waitDelivered(t *testing.T, ctx context.Context, db *DB) {
	t.Helper()
	for {
		var pending int
		err := db.View(ctx, func(tx bot.Tx) (err error) {
			pending, _, err = tx.OutboxStats(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%d actions still pending", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
