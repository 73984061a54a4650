package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Options are what a Core needs.
type Options struct {
	Store  Store
	Config Config
	Logger *slog.Logger
	// Now is the clock for timers and the relay; time.Now when nil. The store has
	// its own clock for what it records; tests set both to the same fake.
	Now func() time.Time
	// Observer, when set, is told of what happens, for metrics.
	Observer Observer
	// StoreWakes says that the caller pokes the Core (Poke) whenever any
	// process commits outbox actions, requeues them or sets a timer, as
	// PostgreSQL's LISTEN/NOTIFY does. An idle Core then reads the store only
	// when poked, when a retry or timer comes due, and every idleLook;
	// otherwise it looks every second.
	StoreWakes bool
}

// Observer receives counts for metrics. Implementations must be safe for
// concurrent use and fast.
type Observer interface {
	// Recorded is called after a funnel event is committed.
	Recorded(kind, platform string, detail map[string]any)
	// Acked is called with the time from an event's arrival to its commit.
	Acked(platform string, d time.Duration)
	// Delivered is called after each outbox delivery attempt; failed is true for
	// a failed one, dead when it will not be retried.
	Delivered(platform string, failed, dead bool)
}

// Core is advocate's flow: it decides what every event means, commits the
// decision with its outgoing actions, and delivers them through the adapters.
type Core struct {
	store    Store
	cfg      Config
	texts    textSet
	secret   []byte
	log      *slog.Logger
	now      func() time.Time
	obs      Observer
	mu       sync.RWMutex
	adapters map[string]Adapter
	poke     chan struct{} // wakes the relay
	timers   chan struct{} // wakes the timers
	wakes    bool          // Options.StoreWakes
	// unrecorded holds deliveries that were made but whose commit failed
	// (the database was locked, the disk full): the relay commits them again
	// instead of posting again.
	unrecordedMu sync.Mutex
	unrecorded   map[int64]Delivery
	// started is when this Core was made: actions queued before it may have
	// been posted by a process that stopped before recording it.
	started time.Time
	// instance names this Core in the claims it holds on a store that
	// several instances share (claims.go).
	instance string
	// guesses throttles wrong /link codes (linkguesses.go).
	guesses linkGuesses
}

// New checks the configuration and returns a Core. Register adapters before Run.
func New(opts Options) (*Core, error) {
	if opts.Store == nil {
		return nil, errors.New("bot: no store")
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("bot: config: %w", err)
	}
	texts, err := parseTexts(opts.Config.Texts)
	if err != nil {
		return nil, err
	}
	c := &Core{
		store:      opts.Store,
		cfg:        opts.Config,
		texts:      texts,
		secret:     []byte(opts.Config.Secret),
		log:        opts.Logger,
		now:        opts.Now,
		obs:        opts.Observer,
		adapters:   map[string]Adapter{},
		poke:       make(chan struct{}, 1),
		timers:     make(chan struct{}, 1),
		wakes:      opts.StoreWakes,
		unrecorded: map[int64]Delivery{},
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.started = c.now()
	c.instance = instanceName()
	c.log = c.log.With("component", "core")
	return c, nil
}

// Register adds the adapter that delivers actions for its platform.
func (c *Core) Register(a Adapter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.adapters[a.Platform()] = a
}

func (c *Core) adapter(platform string) Adapter {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.adapters[platform]
}

// Handle decides what ev means and commits the decision together with its
// outgoing actions and the event's ID; only then may the adapter acknowledge it.
// A refusal (wrong user, tampered button) is not an error: it is committed, logged
// and explained in the Reply.
func (c *Core) Handle(ctx context.Context, ev Event) (Reply, error) {
	start := c.now()
	if ev.Author.Bot {
		return Reply{}, nil
	}
	if ev.Kind == EventCommand && ev.Command == CmdStats {
		return c.stats(ctx, ev)
	}
	ev = unmarked(ev)
	if ev.Kind != EventNamed && !unacknowledged(ctx) {
		ctx = AckContext(ctx)
	}
	reply, err := c.commitDecision(ctx, ev, func(tx Tx) (bool, error) {
		dup, err := tx.Seen(ctx, ev.ID)
		return !dup, err
	})
	if err != nil {
		c.log.Error("event not committed", "platform", ev.Where.Platform, "kind", ev.Kind, "event", ev.ID, "err", err)
		return Reply{}, fmt.Errorf("handle %s event: %w", ev.Kind, err)
	}
	if c.obs != nil {
		c.obs.Acked(ev.Where.Platform, c.now().Sub(start))
	}
	return reply, nil
}

// commitDecision decides ev in one transaction, if first (the event's dedupe,
// or taking it from the inbound table) says to go on, then reports what it
// recorded and wakes the relay.
func (c *Core) commitDecision(ctx context.Context, ev Event, first func(Tx) (bool, error)) (Reply, error) {
	var reply Reply
	var recorded []CaseEvent
	err := c.store.Update(ctx, func(tx Tx) error {
		reply, recorded = Reply{}, nil
		if on, err := first(tx); err != nil || !on {
			return err
		}
		t := &txn{Core: c, tx: tx, ctx: ctx, recorded: &recorded}
		return t.dispatch(ev, &reply)
	})
	if err != nil {
		return Reply{}, err
	}
	c.committed(recorded)
	c.Poke()
	return reply, nil
}

// ackKey marks the context of Handle's transaction.
type ackKey struct{}

// AckContext marks ctx as an event's whose acknowledgement waits for its
// commit; Handle marks its transaction's context so.
func AckContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, ackKey{}, true)
}

// noAckKey marks the context of an event no platform waits on.
type noAckKey struct{}

// Unacknowledged marks ctx as that of an event no platform acknowledges (a
// Discord gateway message: Discord acknowledges interactions only). Its
// commit does not go before the relay's and the timers' work, so that under a
// flood of messages the interactions, which must be answered within 3 s, go
// first.
func Unacknowledged(ctx context.Context) context.Context {
	return context.WithValue(ctx, noAckKey{}, true)
}

func unacknowledged(ctx context.Context) bool {
	v, _ := ctx.Value(noAckKey{}).(bool)
	return v
}

// AwaitsAck reports whether ctx is that of an event's transaction, whose
// commit a platform is waiting on (Slack and Discord give 3 s): a store may
// commit it before the relay's and the timers' work, which nobody waits on.
func AwaitsAck(ctx context.Context) bool {
	v, _ := ctx.Value(ackKey{}).(bool)
	return v
}

// Poke wakes the relay and the timers: new actions, or timers, may be
// waiting.
func (c *Core) Poke() {
	for _, ch := range []chan struct{}{c.poke, c.timers} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (c *Core) committed(events []CaseEvent) {
	if c.obs == nil {
		return
	}
	for _, e := range events {
		var detail map[string]any
		_ = json.Unmarshal(e.Detail, &detail)
		c.obs.Recorded(e.Kind, e.Platform, detail)
	}
}

// isStaff reports whether p is staff by the configured users and roles.
func (c *Core) isStaff(p Person) bool {
	ids := c.cfg.Staff.Of(p.Platform)
	if slices.Contains(ids.Users, p.ID) {
		return true
	}
	for _, r := range p.Roles {
		if slices.Contains(ids.Roles, r) {
			return true
		}
	}
	return false
}

// txn is the work on one event or timer inside one store transaction.
type txn struct {
	*Core
	tx       Tx
	ctx      context.Context
	recorded *[]CaseEvent
}

// record appends a funnel event for cs.
func (t *txn) record(cs *Case, kind, actor string, detail map[string]any) error {
	var raw json.RawMessage
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("record %s: %w", kind, err)
		}
		raw = b
	}
	e := CaseEvent{CaseID: cs.ID, Kind: kind, Actor: actor, Platform: cs.Platform, At: t.tx.Now(), Detail: raw}
	if err := t.tx.Record(t.ctx, e); err != nil {
		return fmt.Errorf("record %s: %w", kind, err)
	}
	if t.recorded != nil {
		*t.recorded = append(*t.recorded, e)
	}
	return nil
}

// send queues a message to a place of the case.
func (t *txn) send(cs *Case, place string, m Message, key string, fallback ...string) error {
	return t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActSend, Place: place, To: publicHint(cs, place),
		Msg: m, Key: key, Fallback: fallback})
}

// sendAbout queues a message of purpose p about subject (a survey round, an
// offer) to a place of the case, under the key its later updates name.
func (t *txn) sendAbout(cs *Case, place string, m Message, p Purpose, subject int64, fallback ...string) error {
	return t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActSend, Place: place, To: publicHint(cs, place),
		Msg: m, Key: p.key(subject), Purpose: p, Subject: subject, Fallback: fallback})
}

// publicHint is the To of a send to the case's public side: its thread, as
// known when queued, which names the channel the relay paces it by (the
// relay posts to the thread the case row names at delivery).
func publicHint(cs *Case, place string) Ref {
	if place != PlacePublic {
		return Ref{}
	}
	return threadOf(cs.Public)
}

// sendTo queues a message to a fixed or named conversation, such as StaffChannel.
func (t *txn) sendTo(cs *Case, to Ref, m Message) error {
	to.Platform = cs.Platform
	return t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActSend, Place: PlaceRef, To: to, Msg: m})
}

// alertStaff queues a message to the staff channel, falling back to the case's
// staff conversation where the platform has no staff channel.
func (t *txn) alertStaff(cs *Case, m Message) error {
	return t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActSend, Place: PlaceRef,
		To: Ref{Platform: cs.Platform, Channel: StaffChannel}, Msg: m, Fallback: []string{PlaceStaff}})
}

// update queues a replacement of the message remembered under key.
func (t *txn) update(cs *Case, key string, m Message) error {
	return t.enqueue(&Action{CaseID: cs.ID, Platform: cs.Platform, Kind: ActUpdate, Msg: m, Key: key})
}

func (t *txn) enqueue(a *Action) error {
	if a.Lane == "" {
		a.Lane = "case:" + strconv.FormatInt(a.CaseID, 10)
	}
	if err := t.tx.Enqueue(t.ctx, a); err != nil {
		return fmt.Errorf("enqueue %s: %w", a.Kind, err)
	}
	return nil
}

// say renders a text with the case's common fields filled in.
func (t *txn) say(name string, cs *Case, d TextData) string {
	d.Brand = t.cfg.Brand
	if cs != nil {
		d.Case = cs.ID
		if d.Customer == "" {
			d.Customer = NameOf(cs.Customer)
		}
	}
	return t.texts.say(name, d)
}

// button builds a signed button for the case.
func (t *txn) button(cs *Case, verb, arg, label string) Button {
	id := actionID{Case: cs.ID, Round: cs.Round, Verb: verb, Arg: arg}
	return Button{ActionID: id.sign(t.secret), Label: label, Staff: staffVerbs[verb]}
}

// Logger is the core's logger, for helpers that log on its behalf.
func (c *Core) Logger() *slog.Logger { return c.log }
