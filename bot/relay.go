package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Relay settings.
const (
	maxAttempts = 10
	maxBackoff  = 5 * time.Minute
	// relayLanes bounds the lanes delivered at once. Most of them wait on a
	// platform's pace (a goroutine blocked in a rate limiter), which is cheap.
	relayLanes = 512
	// relayPerDestination bounds the lanes in flight towards one destination
	// (see destination), so that a busy channel's backlog never takes every
	// slot (a post to an idle channel starts at once) and the queue waiting on
	// one channel's pace stays short, so an older case's next post there waits
	// for a few posts, not for the whole backlog. A few waiting lanes are
	// enough to keep a paced channel at its limit.
	relayPerDestination = 4
	// relayFetch is how many due lanes beyond those in flight one look at
	// the outbox takes, and relayDeepFetch how many the look made every
	// relayRecheck takes: under a backlog bound for busy channels, an action for
	// an idle one can sit far down the oldest-first list, and reading thousands
	// of actions at every look would slow the whole bot.
	relayFetch     = 128
	relayDeepFetch = 2048
	// relayRecheck is how often a busy relay looks for actions that became due
	// (a retry time passed) while none of its deliveries finished. On a store
	// of its own (no Claimer), where it reads only what changed (see
	// lookChanges), its deep look is spaced twice as far each time it finds
	// nothing new it could start, up to relayDeepMax, and comes back to
	// relayRecheck when it does.
	relayRecheck = time.Second
	relayDeepMax = 8 * time.Second
	// relayLookRatio spaces the relay's looks at the outbox by this many times
	// what the last look took, at most relayMaxGap: with thousands of cases
	// under way, deliveries end hundreds of times a second and a look after
	// each would keep a core busy reading the outbox (at most an eighth of one
	// here).
	relayLookRatio = 8
	relayMaxGap    = 250 * time.Millisecond
	// relayHold is how long a lane whose attempt could not be committed waits
	// before it is tried again, so that a failing database is not hammered.
	relayHold = time.Second
	// commitGrace bounds the commit of a delivery made while shutting down.
	commitGrace = 5 * time.Second
	// idleLook is how often an idle Core whose store wakes it
	// (Options.StoreWakes) reads the outbox and the timers all the same: for
	// what another instance left when it stopped, and a notification lost.
	idleLook = 30 * time.Second
	// idlePoll is how often an idle Core looks otherwise, and at least how
	// long it waits between two looks when it is not poked.
	idlePoll = time.Second
)

// Run delivers the outbox and fires timers until ctx is done. Adapters run
// separately; Run only needs them registered. Timers fire on their own
// schedule, not between delivery passes, since a long backlog keeps the relay
// busy for as long as the platforms' limits say.
func (c *Core) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { c.relay(ctx) })
	wg.Go(func() { c.reclaimLoop(ctx) })
	defer wg.Wait()
	for {
		if _, err := c.Tick(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("timers", "err", err)
		}
		if !c.idle(ctx, c.timers, c.nextTimer, idlePoll) {
			return nil
		}
	}
}

// relay runs Deliver whenever actions may be due: when poked, and when a
// retry comes due.
func (c *Core) relay(ctx context.Context) {
	for {
		if _, err := c.Deliver(ctx); err != nil && ctx.Err() == nil {
			c.log.Error("outbox delivery", "err", err)
		}
		if !c.idle(ctx, c.poke, c.nextRetry, 0) {
			c.release(ctx)
			return
		}
	}
}

// idle waits until woken, or until next says something comes due (at least
// idlePoll, at most idleLook from now), and reports false when ctx ends. A
// wake ends the wait least after it began, not sooner. Without
// Options.StoreWakes it waits idlePoll at most: another process may have
// written what nobody tells it of.
func (c *Core) idle(ctx context.Context, woken <-chan struct{}, next func(context.Context) time.Duration, least time.Duration) bool {
	start := time.Now()
	wait := idlePoll
	if c.wakes {
		wait = min(max(next(ctx), idlePoll), idleLook)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-woken:
			rest := min(wait, least) - time.Since(start)
			if rest <= 0 {
				return true
			}
			t.Reset(rest)
			woken = nil
		}
	}
}

// idleFetch bounds the actions and timers an idle look reads to find the
// next one due: with more than that, something is due soon anyway.
const idleFetch = 64

// nextRetry is how long until the next queued action comes due, within
// idleLook (0 on an error: look again soon).
func (c *Core) nextRetry(ctx context.Context) time.Duration {
	now := c.now().UTC()
	var next []Action
	err := c.store.View(ctx, func(tx Tx) (err error) {
		next, err = tx.PendingActions(ctx, now.Add(idleLook), idleFetch)
		return err
	})
	if err != nil || len(next) == idleFetch {
		return 0
	}
	wait := idleLook
	for _, a := range next {
		wait = min(wait, a.NextAt.Sub(now))
	}
	return wait
}

// nextTimer is how long until the next timer comes due, within idleLook (0
// on an error).
func (c *Core) nextTimer(ctx context.Context) time.Duration {
	now := c.now().UTC()
	var next []Timer
	err := c.store.View(ctx, func(tx Tx) (err error) {
		next, err = tx.DueTimers(ctx, now.Add(idleLook), 1)
		return err
	})
	if err != nil {
		return 0
	}
	if len(next) == 0 {
		return idleLook
	}
	return next[0].DueAt.Sub(now)
}

// laneDone is the end of one lane's attempt.
type laneDone struct {
	a   Action
	err error
}

// dispatch is one Deliver call's view of the lanes in flight.
type dispatch struct {
	inflight map[string]string    // lane -> destination
	perDest  map[string]int       // destination -> lanes in flight
	held     map[string]time.Time // lane -> not before
	// known holds the due lane heads seen by the looks so far and not started
	// yet: a lane's head changes only when this relay delivers it, so a lane
	// seen by a deep look can start when its destination has room, before
	// the next deep look.
	known heads
	// claims are the destinations held on a shared store (claims.go).
	claims claims
	done   chan laneDone

	// On a store of its own the relay reads only what changed (lookChanges):
	// last is the highest action ID it has read up to, poked says that
	// actions may have been queued since, ended holds the lanes whose attempt
	// ended since the last look and waiting the lanes whose head is to be
	// retried at a time (by the Core's clock).
	last    int64
	poked   bool
	ended   []string
	waiting map[string]time.Time
	// deepAt is when the last deep look was made, deepGap how long until the
	// next.
	deepAt  time.Time
	deepGap time.Duration
}

// heads are lane heads by destination.
type heads struct {
	lanes map[string]string            // lane -> destination
	dests map[string]map[string]Action // destination -> lane -> head
}

func newHeads() heads {
	return heads{lanes: map[string]string{}, dests: map[string]map[string]Action{}}
}

func (h *heads) put(dest string, a Action) {
	h.drop(a.Lane)
	if h.dests[dest] == nil {
		h.dests[dest] = map[string]Action{}
	}
	h.dests[dest][a.Lane] = a
	h.lanes[a.Lane] = dest
}

func (h *heads) drop(lane string) {
	dest, ok := h.lanes[lane]
	if !ok {
		return
	}
	delete(h.lanes, lane)
	if delete(h.dests[dest], lane); len(h.dests[dest]) == 0 {
		delete(h.dests, dest)
	}
}

func (h *heads) len() int { return len(h.lanes) }

// forgetUpTo drops the heads with IDs up to edge, which a deep look has just
// read again as they are, and marks their lanes in seen; the heads an earlier
// look saw beyond it stay.
func (h *heads) forgetUpTo(edge int64, seen map[string]bool) {
	for lane, dest := range h.lanes {
		if h.dests[dest][lane].ID <= edge {
			seen[lane] = true
			h.drop(lane)
		}
	}
}

func (h *heads) clear() {
	clear(h.lanes)
	clear(h.dests)
}

// Deliver delivers the outbox until nothing is due and nothing is in flight.
// Each lane is delivered in order, one action at a time, and lanes run
// independently: as soon as a lane's action is settled its next one can
// start, and newly due actions start while others still wait on a platform's
// limit, so a slow destination delays only its own lanes. Older cases go
// first. It returns how many actions were attempted.
func (c *Core) Deliver(ctx context.Context) (int, error) {
	d := &dispatch{
		inflight: map[string]string{},
		perDest:  map[string]int{},
		held:     map[string]time.Time{},
		known:    newHeads(),
		claims:   claims{held: map[string]bool{}, renew: map[string]time.Time{}, taken: map[string]time.Time{}},
		done:     make(chan laneDone, relayLanes),
		waiting:  map[string]time.Time{},
		deepGap:  relayRecheck,
	}
	recheck := time.NewTicker(relayRecheck)
	defer recheck.Stop()
	gap := time.NewTimer(0) // the next look at the outbox, when one is wanted
	<-gap.C
	var next time.Time // no look before then
	look := true       // something changed since the last look
	deep := true       // the next look reads relayDeepFetch lanes
	total := 0
	for {
		if look && ctx.Err() == nil {
			if wait := time.Until(next); wait > 0 {
				gap.Reset(wait)
			} else {
				start := time.Now()
				again, err := c.startDue(ctx, d, deep)
				look, deep, next = again, false, time.Now().Add(min(relayLookRatio*time.Since(start), relayMaxGap))
				if err != nil {
					if len(d.inflight) == 0 {
						return total, err
					}
					c.log.Error("outbox delivery", "err", err)
				}
			}
		}
		if len(d.inflight) == 0 && (!look || ctx.Err() != nil) {
			return total, ctx.Err()
		}
		if ctx.Err() != nil { // shutting down: let the lanes in flight end
			total += c.settle(d, <-d.done)
			continue
		}
		select {
		case r := <-d.done:
			total += c.settle(d, r)
			for more := true; more; { // take every lane that ended before looking again
				select {
				case r := <-d.done:
					total += c.settle(d, r)
				default:
					more = false
				}
			}
			look = true
		case <-c.poke:
			look, d.poked = true, true
		case <-recheck.C:
			look, deep = true, deep || time.Since(d.deepAt) >= d.deepGap
		case <-gap.C:
		case <-ctx.Done():
		}
	}
}

// startDue reads the outbox and starts every due lane that is not in
// flight, within the limits. It reports whether it should look again at
// once (it read less than there is).
func (c *Core) startDue(ctx context.Context, d *dispatch, deep bool) (bool, error) {
	if len(d.inflight) >= relayLanes {
		return false, nil
	}
	cl, shared := c.store.(Claimer)
	if !shared {
		again, err := c.lookChanges(ctx, d, deep)
		if err != nil {
			return false, err
		}
		c.startKnown(ctx, d, false)
		return again, nil
	}
	d.ended, d.poked = d.ended[:0], false // every look reads the oldest lanes again
	limit := len(d.inflight) + relayFetch
	if deep {
		limit = len(d.inflight) + relayDeepFetch
	}
	due, err := c.pending(ctx, limit)
	if err != nil {
		return false, err
	}
	fresh, err := c.claim(ctx, cl, d, due)
	if err != nil {
		return false, err
	}
	if fresh { // what was read may predate the last holder's commits
		if due, err = c.pending(ctx, limit); err != nil {
			return false, err
		}
	}
	d.known.clear() // another instance may have delivered what an earlier look saw
	for _, a := range due {
		if _, busy := d.inflight[a.Lane]; !busy {
			d.known.put(c.destination(a), a)
		}
	}
	c.startKnown(ctx, d, true)
	return false, nil
}

// lookChanges reads what may have changed in the outbox of a store the relay
// has to itself: a lane's head changes only when the relay delivers it, new
// lanes come with a poke, and a lane's retry with its time. So it reads the
// heads of the lanes whose attempt ended (due or not: one not due waits in
// d.waiting), and on a poke the lanes queued since the highest action ID
// read so far. Lane heads that wait for a busy destination are not read
// again at every look, which with thousands of cases queued behind a
// channel's pace kept a core busy. A deep look (at the start, then every
// d.deepGap) reads the oldest lanes again, which finds what nothing tells
// the relay of: a dead action requeued, another process's actions. It
// reports whether it read less than there is.
func (c *Core) lookChanges(ctx context.Context, d *dispatch, deep bool) (bool, error) {
	now := c.now().UTC()
	for lane, at := range d.waiting {
		if !at.After(now) {
			delete(d.waiting, lane)
			d.ended = append(d.ended, lane)
		}
	}
	limit := relayFetch
	if deep {
		limit = len(d.inflight) + relayDeepFetch
	}
	var due, ended []Action
	var last int64
	err := c.store.View(ctx, func(tx Tx) (err error) {
		if len(d.ended) > 0 {
			if ended, err = tx.LaneHeads(ctx, d.ended); err != nil {
				return err
			}
		}
		if deep || d.poked {
			after := d.last
			if deep {
				after = 0
			}
			due, last, err = tx.PendingActionsAfter(ctx, now, after, limit)
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("pending actions: %w", err)
	}
	seen := make(map[string]bool, len(d.ended))
	for _, lane := range d.ended {
		seen[lane] = true
	}
	d.ended = d.ended[:0]
	for _, a := range ended {
		if a.NextAt.After(now) {
			d.waiting[a.Lane] = a.NextAt
		} else {
			d.known.put(c.destination(a), a)
		}
	}
	if !deep && !d.poked {
		return false, nil
	}
	full := len(due) == limit
	if deep {
		edge := int64(math.MaxInt64)
		if full {
			edge = due[len(due)-1].ID
		}
		d.known.forgetUpTo(edge, seen)
	}
	found := false // a lane the relay did not know of that can start
	for _, a := range due {
		if _, busy := d.inflight[a.Lane]; busy {
			continue
		}
		dest := c.destination(a)
		room := d.perDest[dest] < relayPerDestination
		if deep || room || d.known.len() < 2*relayDeepFetch {
			_, known := d.known.lanes[a.Lane]
			found = found || room && !known && !seen[a.Lane]
			d.known.put(dest, a)
			delete(d.waiting, a.Lane)
		}
	}
	if deep {
		d.deepAt, d.deepGap = time.Now(), min(2*d.deepGap, relayDeepMax)
		if found {
			d.deepGap = relayRecheck
		}
		d.last, d.poked = last, false
		return false, nil
	}
	if full { // more were queued than one look reads: read on from there
		d.last = due[len(due)-1].ID
		return true, nil
	}
	d.last, d.poked = last, false
	return false, nil
}

// startKnown starts the known lanes whose destination has room (on a shared
// store, one this instance holds).
func (c *Core) startKnown(ctx context.Context, d *dispatch, shared bool) {
	now := time.Now()
	var cands []Action
	for dest, lanes := range d.known.dests {
		room := relayPerDestination - d.perDest[dest]
		if room <= 0 || (shared && !d.claims.held[dest]) {
			continue
		}
		cands = append(cands, firstToStart(d, lanes, room, now)...)
	}
	slices.SortFunc(cands, startOrder)
	for _, a := range cands {
		if len(d.inflight) >= relayLanes {
			break
		}
		delete(d.held, a.Lane)
		dest := d.known.lanes[a.Lane]
		d.known.drop(a.Lane)
		d.inflight[a.Lane] = dest
		d.perDest[dest]++
		maybePosted := a.Created.Before(d.claims.taken[dest])
		go func() {
			_, err := c.deliverOne(ctx, a, maybePosted)
			d.done <- laneDone{a: a, err: err}
		}()
	}
}

// startOrder is the order lanes start in: older cases first, so that a
// conversation under way is not held up behind every newer case's intake in
// a busy channel. Within a case, lanes keep their order; across cases of the
// same age, the oldest action first.
func startOrder(x, y Action) int {
	return cmp.Or(cmp.Compare(x.CaseID, y.CaseID), cmp.Compare(x.ID, y.ID))
}

// firstToStart returns the first n of one destination's lanes to start, in
// startOrder: not in flight, not held.
func firstToStart(d *dispatch, lanes map[string]Action, n int, now time.Time) []Action {
	first := make([]Action, 0, n+1)
	for lane, a := range lanes {
		if _, busy := d.inflight[lane]; busy {
			continue
		}
		if t, ok := d.held[lane]; ok && now.Before(t) {
			continue
		}
		if len(first) == n && startOrder(a, first[n-1]) >= 0 {
			continue
		}
		i, _ := slices.BinarySearchFunc(first, a, startOrder)
		first = slices.Insert(first, i, a)
		if len(first) > n {
			first = first[:n]
		}
	}
	return first
}

// pending reads the due lane heads, at most limit.
func (c *Core) pending(ctx context.Context, limit int) ([]Action, error) {
	var due []Action
	err := c.store.View(ctx, func(tx Tx) error {
		var err error
		due, err = tx.PendingActions(ctx, c.now().UTC(), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pending actions: %w", err)
	}
	return due, nil
}

// settle takes a lane out of flight after its attempt and returns 1 when the
// action was attempted.
func (c *Core) settle(d *dispatch, r laneDone) int {
	dest := d.inflight[r.a.Lane]
	delete(d.inflight, r.a.Lane)
	d.ended = append(d.ended, r.a.Lane)
	if d.perDest[dest]--; d.perDest[dest] <= 0 {
		delete(d.perDest, dest)
	}
	if errors.Is(r.err, errInterrupted) {
		return 0
	}
	if r.err != nil {
		c.log.Error("outbox action", "action", r.a.ID, "case", r.a.CaseID, "kind", r.a.Kind, "err", r.err)
		d.held[r.a.Lane] = time.Now().Add(relayHold)
	}
	return 1
}

// destination names what limits an action's delivery, as far as the relay can
// tell without loading the case: the channel its adapter names (ChannelPacer),
// else the conversation it is sent to (a named or public channel), the case's
// public side (all support channels together, for actions queued without
// their channel), its staff side, the posts that open private conversations,
// or the case itself for its private conversation and edits. The relay keeps
// at most relayPerDestination lanes in flight per destination, and with
// several instances claims destinations (claims.go).
func (c *Core) destination(a Action) string {
	if p, ok := c.adapter(a.Platform).(ChannelPacer); ok {
		if ch := p.PacedChannel(a); ch != "" {
			return a.Platform + " to " + ch
		}
	}
	switch {
	case a.Kind == ActOpenPrivate:
		return a.Platform + " open"
	case a.Kind != ActSend, a.Place == PlacePrivate:
		return a.Platform + " " + a.Lane
	case a.Place == PlaceRef || a.Place == "" || a.Place == PlacePublic && a.To.Channel != "":
		return a.Platform + " to " + a.To.Channel
	}
	return a.Platform + " " + a.Place
}

// errInterrupted marks an attempt cut short by shutdown: nothing is recorded,
// and the action is delivered after the restart.
var errInterrupted = errors.New("delivery interrupted by shutdown")

// deliverOne attempts one action, trying its fallbacks when the destination
// cannot take it, and commits the result with its follow-up decisions.
// maybePosted says that another process may have posted it unrecorded.
func (c *Core) deliverOne(ctx context.Context, a Action, maybePosted bool) (bool, error) {
	if d, ok := c.takeUnrecorded(a.ID); ok {
		return c.record(ctx, a, d)
	}
	ad := c.adapter(a.Platform)
	if ad == nil {
		return false, c.failed(ctx, a, fmt.Errorf("no adapter for platform %q", a.Platform), true)
	}
	places := append([]string{a.Place}, a.Fallback...)
	var err error
	for _, place := range places {
		var d Delivery
		d, err = c.attempt(ctx, ad, a, place, maybePosted)
		if err == nil {
			return c.record(ctx, a, d)
		}
		if !errors.Is(err, ErrUndeliverable) {
			break
		}
	}
	if errors.Is(err, errNothingToDo) {
		return c.record(ctx, a, Delivery{})
	}
	if ctx.Err() != nil {
		return false, errInterrupted
	}
	return false, c.failed(ctx, a, err, errors.Is(err, ErrUndeliverable))
}

// record commits a delivery. If the commit fails, the delivery is kept to be
// committed again by a later pass, which does not post it again. A delivery
// made as shutdown began is still committed, within commitGrace: otherwise it
// would be posted again after the restart.
func (c *Core) record(ctx context.Context, a Action, d Delivery) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitGrace)
	defer cancel()
	if err := c.delivered(ctx, a, d); err != nil {
		c.unrecordedMu.Lock()
		c.unrecorded[a.ID] = d
		c.unrecordedMu.Unlock()
		return false, err
	}
	return true, nil
}

// takeUnrecorded returns, and forgets, a delivery of action id whose commit
// failed.
func (c *Core) takeUnrecorded(id int64) (Delivery, bool) {
	c.unrecordedMu.Lock()
	defer c.unrecordedMu.Unlock()
	d, ok := c.unrecorded[id]
	delete(c.unrecorded, id)
	return d, ok
}

// errNothingToDo marks an update or delete of a message that was never posted.
var errNothingToDo = errors.New("no message to change")

func (c *Core) attempt(ctx context.Context, ad Adapter, a Action, place string, maybePosted bool) (Delivery, error) {
	var cs *Case
	var target Ref
	err := c.store.View(ctx, func(tx Tx) error {
		var err error
		if a.CaseID != 0 {
			if cs, err = tx.Case(ctx, a.CaseID); err != nil {
				return err
			}
		}
		if a.Kind == ActUpdate || a.Kind == ActDelete {
			target, err = changeTarget(ctx, tx, a)
		}
		return err
	})
	if err != nil {
		return Delivery{}, err
	}
	m := a.Msg
	m.Nonce = "adv" + strconv.FormatInt(a.ID, 10)
	if a.Attempts > 0 || a.LastErr != "" || a.Created.Before(c.started) || maybePosted {
		m.PostedSince = a.Created // an attempt may have posted it unrecorded
	}
	switch a.Kind {
	case ActOpenPrivate:
		priv, staff, err := ad.OpenPrivate(ctx, cs, m)
		return Delivery{Ref: priv, Staff: staff, Place: PlacePrivate}, err
	case ActUpdate:
		return Delivery{Ref: target}, ad.Update(ctx, target, m)
	case ActDelete:
		return Delivery{Ref: target}, ad.Delete(ctx, target)
	}
	to, err := resolvePlace(cs, place, a.To)
	if err != nil {
		return Delivery{}, err
	}
	ref, err := ad.Send(ctx, to, m)
	return Delivery{Ref: ref, Place: place}, err
}

// changeTarget is the message an update or delete changes: the one
// remembered under its Key, or for a delete without a Key the message To
// names (a person's, such as a note typed on the customer's side).
func changeTarget(ctx context.Context, tx Tx, a Action) (Ref, error) {
	if a.Key == "" && a.Kind == ActDelete {
		if a.To.Message == "" {
			return Ref{}, fmt.Errorf("delete without a message: %w", ErrUndeliverable)
		}
		return a.To, nil
	}
	target, err := tx.Delivered(ctx, a.CaseID, a.Key)
	if errors.Is(err, ErrNotFound) || err == nil && target.Message == "" {
		return Ref{}, errNothingToDo // never posted, or the adapter did not say which message it was
	}
	return target, err
}

// resolvePlace turns a symbolic place into the conversation to post to.
func resolvePlace(cs *Case, place string, to Ref) (Ref, error) {
	var r Ref
	switch place {
	case PlaceRef, "":
		return to, nil
	case PlacePublic:
		r = threadOf(cs.Public)
	case PlacePrivate:
		r = cs.Private.Conversation()
	case PlaceStaff:
		r = cs.Staff.Conversation()
	}
	if r.IsZero() {
		return Ref{}, fmt.Errorf("case %d has no %s conversation: %w", cs.ID, place, ErrUndeliverable)
	}
	return r, nil
}

// delivered commits a delivery and what follows from it.
func (c *Core) delivered(ctx context.Context, a Action, d Delivery) error {
	var recorded []CaseEvent
	err := c.store.Update(ctx, func(tx Tx) error {
		recorded = nil
		if err := tx.MarkDelivered(ctx, a.ID, d); err != nil {
			return err
		}
		t := &txn{Core: c, tx: tx, ctx: ctx, recorded: &recorded}
		return t.afterDelivery(a, d)
	})
	if err != nil {
		return fmt.Errorf("commit delivery: %w", err)
	}
	c.committed(recorded)
	if c.obs != nil {
		c.obs.Delivered(a.Platform, false, false)
	}
	return nil
}

// failed schedules a retry with exponential backoff and jitter, honouring a
// platform's Retry-After, or gives up (dead) after too many attempts or when
// nothing can deliver it.
func (c *Core) failed(ctx context.Context, a Action, cause error, permanent bool) error {
	attempts := a.Attempts + 1
	var ra *RetryAfterError
	wait := backoff(attempts)
	if errors.As(cause, &ra) {
		wait = ra.After
	}
	dead := permanent || (attempts >= maxAttempts && ra == nil)
	next := c.now().UTC().Add(wait)
	var recorded []CaseEvent
	err := c.store.Update(ctx, func(tx Tx) error {
		recorded = nil
		if err := tx.MarkFailed(ctx, a.ID, attempts, next, errText(cause), dead); err != nil {
			return err
		}
		if !dead {
			return nil
		}
		t := &txn{Core: c, tx: tx, ctx: ctx, recorded: &recorded}
		return t.afterDeadLetter(a)
	})
	if err != nil {
		return fmt.Errorf("commit failed delivery: %w", err)
	}
	c.committed(recorded)
	if c.obs != nil {
		c.obs.Delivered(a.Platform, true, dead)
	}
	c.log.Warn("outbox delivery failed", "action", a.ID, "case", a.CaseID, "kind", a.Kind, "attempts", attempts, "dead", dead, "err", cause)
	return nil
}

// backoff is 1s, 2s, 4s… up to maxBackoff, with ±50% jitter.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 16)
	d = min(d, maxBackoff)
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

// errText keeps the error for the dead-letter view, short and without message text.
func errText(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// afterDelivery records what a delivery completes.
func (t *txn) afterDelivery(a Action, d Delivery) error {
	if a.CaseID == 0 {
		return nil
	}
	cs, err := t.tx.Case(t.ctx, a.CaseID)
	if err != nil {
		return err
	}
	switch {
	case a.Kind == ActOpenPrivate:
		cs.Private, cs.Staff = d.Ref.Conversation(), d.Staff.Conversation()
		if cs.Staff.IsZero() || sameConversation(cs.Staff, cs.Private) {
			// An adapter bug: without a staff side, staff-only messages fail
			// (and show as dead letters); with the customer's conversation
			// as the staff side, the customer reads them.
			t.log.Error("the adapter opened no separate staff side", "case", cs.ID, "platform", cs.Platform)
		}
		if cs.Status == StatusOpen {
			cs.Status = StatusAwaitingStaff
		}
		if err := t.tx.UpdateCase(t.ctx, cs); err != nil {
			return err
		}
		return t.record(cs, KindTakenPrivate, "", map[string]any{"channel": cs.Private.Channel})
	case a.Kind != ActSend:
		return nil
	case a.Purpose == PurposeSurvey:
		return t.record(cs, KindSurveySent, "", map[string]any{"round": a.Subject, "place": d.Place})
	case a.Purpose == PurposeReminder:
		return t.record(cs, KindSurveyReminded, "", map[string]any{"round": a.Subject})
	case a.Purpose == PurposeTestimonial:
		o, err := t.tx.Offer(t.ctx, a.Subject)
		if err != nil {
			return err
		}
		return t.shared(cs, o, d.Ref)
	}
	return nil
}

// afterDeadLetter records what could not be delivered at all.
func (t *txn) afterDeadLetter(a Action) error {
	if a.CaseID == 0 {
		return nil
	}
	cs, err := t.tx.Case(t.ctx, a.CaseID)
	if err != nil {
		return err
	}
	switch {
	case a.Kind == ActSend && a.Purpose == PurposeSurvey:
		return t.record(cs, KindSurveyUndeliverable, "", map[string]any{"round": a.Subject})
	case a.Kind == ActOpenPrivate:
		return t.record(cs, KindPrivateFailed, "", nil)
	}
	return nil
}
