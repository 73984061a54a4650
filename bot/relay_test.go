package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// pacedPlatform is the fake platform with a pace under the test's control:
// every post to the support or staff channel (and every private conversation
// opened, which posts in the staff channel) waits for a token, as a real
// adapter waits for a channel's rate limit. Posts elsewhere (a DM) go at once.
type pacedPlatform struct {
	fake    *bottest.Platform
	tokens  chan struct{}
	open    chan struct{} // closed: no more pacing
	dm      string        // the DM whose first post closes posted
	posted  chan struct{}
	once    sync.Once
	waiting atomic.Int32
	paced   atomic.Int32 // posts that took a token
}

func newPacedPlatform(p *bottest.Platform, dm string) *pacedPlatform {
	return &pacedPlatform{fake: p, tokens: make(chan struct{}), open: make(chan struct{}), dm: dm, posted: make(chan struct{})}
}

var _ bot.Adapter = (*pacedPlatform)(nil)

func (p *pacedPlatform) Platform() string { return p.fake.Platform() }

func (p *pacedPlatform) Run(ctx context.Context, h bot.Handler) error { return p.fake.Run(ctx, h) }

func (p *pacedPlatform) Update(ctx context.Context, msg bot.Ref, m bot.Message) error {
	return p.fake.Update(ctx, msg, m)
}

func (p *pacedPlatform) Delete(ctx context.Context, msg bot.Ref) error {
	return p.fake.Delete(ctx, msg)
}

func (p *pacedPlatform) wait(ctx context.Context) error {
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	select {
	case <-p.tokens:
		p.paced.Add(1)
		return nil
	case <-p.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pacedPlatform) OpenPrivate(ctx context.Context, c *bot.Case, intro bot.Message) (bot.Ref, bot.Ref, error) {
	if err := p.wait(ctx); err != nil {
		return bot.Ref{}, bot.Ref{}, err
	}
	return p.fake.OpenPrivate(ctx, c, intro)
}

func (p *pacedPlatform) Send(ctx context.Context, to bot.Ref, m bot.Message) (bot.Ref, error) {
	if to.Channel == "support" || to.Channel == "staff" || to.Channel == bot.StaffChannel {
		if err := p.wait(ctx); err != nil {
			return bot.Ref{}, err
		}
	}
	ref, err := p.fake.Send(ctx, to, m)
	if err == nil && to.Channel == p.dm {
		p.once.Do(func() { close(p.posted) })
	}
	return ref, err
}

// runCore runs the core until the test ends; wait returns Run's result.
func runCore(t *testing.T, h *bottest.Harness) (stop context.CancelFunc, wait func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var err error
	go func() {
		err = h.Core.Run(ctx)
		close(done)
	}()
	wait = func() error {
		<-done
		return err
	}
	t.Cleanup(func() {
		cancel()
		_ = wait()
	})
	return cancel, wait
}

// askAll opens n cases at once, committing each question without delivering.
func askAll(t *testing.T, h *bottest.Harness, n int) {
	t.Helper()
	askAllOn(t, h, h.Core, n)
}

// askAllOn is askAll through core.
func askAllOn(t *testing.T, h *bottest.Harness, core *bot.Core, n int) {
	t.Helper()
	for i := range n {
		who := h.Person(fmt.Sprintf("u-burst-%03d", i), fmt.Sprintf("Burst %d", i))
		ev := bot.Event{
			Kind: bot.EventMessage, ID: fmt.Sprintf("burst-%d", i), Author: who, Text: "The export is broken", Support: true,
			Where: bot.Ref{Platform: who.Platform, Channel: "support", Message: fmt.Sprintf("q-%d", i)},
		}
		if _, err := core.Handle(context.Background(), ev); err != nil {
			t.Fatalf("ask %d: %v", i, err)
		}
	}
}

func outbox(t *testing.T, h *bottest.Harness) (pending, dead int) {
	t.Helper()
	err := h.Store.View(context.Background(), func(tx bot.Tx) (err error) {
		pending, dead, err = tx.OutboxStats(context.Background())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return pending, dead
}

// TestSurveyNotHeldBehindBusyChannels: while a burst of new cases waits for
// the support and staff channels' pace, a resolved case's survey (a DM, idle)
// goes out after a few paced posts, not after the whole burst's intake. The
// resolution's own posts in the busy channels come first (a lane keeps its
// order), but the relay neither lets the burst take every delivery slot nor
// queues the older case behind every newer case's posts.
func TestSurveyNotHeldBehindBusyChannels(t *testing.T) {
	const burst = 60 // each posts three times in the paced channels
	h := bottest.New(t, bottest.DMs())
	ada := h.Person("u-ada", "Ada")
	h.Ask(ada, "My invoice shows the wrong amount")
	cs := activeCase(t, h, ada)
	h.Say(h.Staff(), cs.Staff, "Fixed, please check again")
	resolve := h.WithButton(cs.Staff.Channel, "Resolve")
	if resolve == nil {
		t.Fatal("no Resolve button in the staff thread")
	}

	p := newPacedPlatform(h.Platform, cs.Private.Channel)
	h.Core.Register(p)
	runCore(t, h)
	askAll(t, h, burst)
	for p.waiting.Load() == 0 { // the burst is under way
		time.Sleep(time.Millisecond)
	}
	_, err := h.Core.Handle(context.Background(), bot.Event{Kind: bot.EventAction, ID: "resolve-ada", Where: resolve.Ref, Author: h.Staff(), ActionID: resolve.Button("Resolve").ActionID})
	if err != nil {
		t.Fatal(err)
	}
	handed := 0
	for done := false; !done; {
		select {
		case p.tokens <- struct{}{}:
			handed++
			if handed > 10*burst {
				t.Fatalf("no survey after %d paced posts", handed)
			}
		case <-p.posted:
			done = true
		}
	}
	t.Logf("survey posted after %d paced posts; the burst's intake needs %d", handed, 3*burst)
	if handed >= burst {
		t.Errorf("paced posts before the survey: got %d, want fewer than %d (a few per busy channel, not the burst's intake)", handed, burst)
	}
	if got := h.Find(cs.Private.Channel, ""); got == nil || got.Button("5") == nil {
		t.Errorf("Ada's DM: got %+v, want the survey with its rating buttons", got)
	}

	close(p.open) // the rest goes unpaced; everything is delivered once
	for {
		pending, dead := outbox(t, h)
		if dead != 0 {
			t.Fatalf("dead actions: %d", dead)
		}
		if pending == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	seen := map[string]bool{}
	for _, m := range h.Messages("staff") {
		if m.Ref.Thread == "" && strings.HasPrefix(m.Msg.Text, "Case #") {
			if seen[m.Msg.Text] {
				t.Errorf("posted twice: %q", m.Msg.Text)
			}
			seen[m.Msg.Text] = true
		}
	}
	if got, want := len(seen), burst+1; got != want {
		t.Errorf("cases opened in the staff channel: got %d, want %d", got, want)
	}
}

// TestShutdownLeavesWaitingDeliveriesPending: deliveries waiting for a pace
// when the core stops are neither counted as failed attempts nor lost; they
// stay due for the next start.
func TestShutdownLeavesWaitingDeliveriesPending(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	p := newPacedPlatform(h.Platform, "")
	h.Core.Register(p)
	cancel, wait := runCore(t, h)
	askAll(t, h, 12)
	for p.waiting.Load() < 4 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := wait(); err != nil {
		t.Fatalf("run: %v", err)
	}
	var due []bot.Action
	err := h.Store.View(context.Background(), func(tx bot.Tx) (err error) {
		due, err = tx.PendingActions(context.Background(), h.Clock.Now(), 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(due), 12; got != want {
		t.Errorf("due lanes after shutdown: got %d, want %d", got, want)
	}
	for _, a := range due {
		if a.Attempts != 0 {
			t.Errorf("action %d (%s): %d attempts counted, want 0 (the shutdown interrupted it)", a.ID, a.Kind, a.Attempts)
		}
	}
	if _, dead := outbox(t, h); dead != 0 {
		t.Errorf("dead actions: %d", dead)
	}
	// the next start delivers them
	close(p.open)
	h.Settle()
	if pending, _ := outbox(t, h); pending != 0 {
		t.Errorf("pending after the restart's delivery: %d", pending)
	}
}

// readCounter is a store that counts how often the relay's looks read each
// action.
type readCounter struct {
	bot.Store
	mu    sync.Mutex
	views int
	reads map[int64]int
}

func (s *readCounter) View(ctx context.Context, fn func(bot.Tx) error) error {
	s.mu.Lock()
	s.views++
	s.mu.Unlock()
	return s.Store.View(ctx, func(tx bot.Tx) error { return fn(countingTx{Tx: tx, s: s}) })
}

func (s *readCounter) count(actions []bot.Action) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range actions {
		s.reads[a.ID]++
	}
}

// looks returns the views so far.
func (s *readCounter) looks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.views
}

// forget forgets the reads counted so far.
func (s *readCounter) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.reads)
}

// most is the most times one action was read, and how many were read.
func (s *readCounter) most() (most, actions int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.reads {
		most = max(most, n)
	}
	return most, len(s.reads)
}

type countingTx struct {
	bot.Tx
	s *readCounter
}

func (t countingTx) PendingActions(ctx context.Context, now time.Time, limit int) ([]bot.Action, error) {
	as, err := t.Tx.PendingActions(ctx, now, limit)
	t.s.count(as)
	return as, err
}

func (t countingTx) PendingActionsAfter(ctx context.Context, now time.Time, after int64, limit int) ([]bot.Action, int64, error) {
	as, last, err := t.Tx.PendingActionsAfter(ctx, now, after, limit)
	t.s.count(as)
	return as, last, err
}

func (t countingTx) LaneHeads(ctx context.Context, lanes []string) ([]bot.Action, error) {
	as, err := t.Tx.LaneHeads(ctx, lanes)
	t.s.count(as)
	return as, err
}

// TestPokesDoNotReadWaitingLanesAgain: while a burst of cases waits for a
// busy channel's pace, every commit pokes the relay, and a poke reads what
// was queued since, not the waiting lanes again: with 300 cases queued, the
// relay read the oldest 136 lane heads at each of the pokes.
func TestPokesDoNotReadWaitingLanesAgain(t *testing.T) {
	const burst, pokes = 300, 40
	h := bottest.New(t, bottest.DMs())
	store := &readCounter{Store: h.Store, reads: map[int64]int{}}
	core, err := bot.New(bot.Options{Store: store, Config: h.Config, Now: h.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	p := newPacedPlatform(h.Platform, "")
	core.Register(p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		close(p.open)
		<-done
	})
	askAllOn(t, h, core, burst)
	for p.waiting.Load() < 4 { // the support channel's lanes in flight, waiting for its pace
		time.Sleep(time.Millisecond)
	}
	for views := store.looks(); ; {
		time.Sleep(10 * time.Millisecond)
		v := store.looks()
		if v == views {
			break // the looks after the burst's commits are over
		}
		views = v
	}
	store.forget()
	views := store.looks()
	for range pokes {
		core.Poke()
		for store.looks() == views { // wait for the relay's look
			time.Sleep(time.Millisecond)
		}
		views = store.looks()
	}
	most, read := store.most()
	t.Logf("%d pokes: %d actions read, one at most %d times", pokes, read, most)
	if most >= pokes/2 {
		t.Errorf("a waiting lane's head was read %d times in %d pokes; want fewer than %d (only at the deep looks)", most, pokes, pokes/2)
	}
	if got := p.waiting.Load(); got != 4 {
		t.Errorf("lanes waiting for the pace: got %d, want 4 (relayPerDestination)", got)
	}
}

// TestRetryComesDueWhileChannelsWait: a delivery that failed is tried again
// once its retry time passes, while every other lane in flight still waits
// for a busy channel's pace (no lane ends to make the relay look).
func TestRetryComesDueWhileChannelsWait(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ada := h.Person("u-ada", "Ada")
	h.Ask(ada, "My invoice shows the wrong amount")
	cs := activeCase(t, h, ada)

	p := newPacedPlatform(h.Platform, cs.Private.Channel)
	h.Core.Register(p)
	runCore(t, h)
	askAll(t, h, 20)
	for p.waiting.Load() < 4 { // the support channel's lanes in flight, waiting for its pace
		time.Sleep(time.Millisecond)
	}
	calls := h.Platform.Calls()
	h.Platform.FailNext(&bot.RetryAfterError{After: time.Minute, Err: fmt.Errorf("HTTP 429")})
	reply := bot.Event{Kind: bot.EventMessage, ID: "reply-ada", Author: h.Staff(), Text: "Fixed, please check again",
		Where: bot.Ref{Platform: cs.Staff.Platform, Channel: cs.Staff.Channel, Thread: cs.Staff.Thread, Message: "r-1"}}
	if _, err := h.Core.Handle(context.Background(), reply); err != nil { // not h.Say: it delivers, behind the burst
		t.Fatal(err)
	}
	for h.Platform.Calls() == calls { // the relay to Ada's DM is tried, and fails
		time.Sleep(time.Millisecond)
	}
	h.Clock.Advance(2 * time.Minute)
	<-p.posted
	if got := h.Last(cs.Private.Channel); got == nil || !strings.Contains(got.Msg.Text, "Fixed, please check again") {
		t.Errorf("Ada's DM: got %+v, want the staff reply", got)
	}
	if got := h.Platform.Calls() - calls; got < 2 {
		t.Errorf("delivery calls for the reply: got %d, want one refused and then the retry", got)
	}
	if got := p.paced.Load(); got != 0 {
		t.Errorf("paced posts before the retry: got %d, want 0 (the retry waits for no lane to end)", got)
	}
}
