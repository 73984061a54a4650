package slack

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/bot"
)

// How long looked-up names and user-group memberships are reused.
const (
	userTTL  = time.Hour
	groupTTL = 5 * time.Minute
	// maxUsers bounds the name cache; it starts again empty beyond it (a
	// name needed again is looked up again).
	maxUsers = 10000
	// lookupWorkers bounds the users.info calls made at once.
	lookupWorkers = 4
)

// directory turns user IDs into bot.Persons: display names from users.info and,
// when user groups are configured, their memberships as roles.
//
// Nothing here talks to Slack while an event waits for its acknowledgement.
// An event's author is described from what is already known: a name looked
// up before, the memberships loaded at start (and reloaded in the background
// once older than groupTTL). A person not known yet is handed to the core by
// ID alone, and their name is looked up in the background, after the event
// was committed; the core then writes a placeholder where the name goes
// (bot.NameOf), which is stored with the message, and whatever process posts
// it fills the name in (named), by which time the look-up is done (or is
// made then, or waited for: posting is the relay's work, not the
// acknowledgement's). Every name looked up is told to the core (tell), which
// records it on the person's case. A failed look-up leaves the ID.
type directory struct {
	api    webAPI
	groups []string
	log    *slog.Logger
	now    func() time.Time
	// spawn runs fn in the background, tracked by the adapter; false when
	// the adapter is stopping and fn will not run
	spawn func(fn func(context.Context)) bool
	slots chan struct{} // one per users.info call in flight
	// tell hands a name looked up to the core; nil in tests
	tell func(ctx context.Context, p bot.Person)

	mu        sync.Mutex
	users     map[string]cachedUser
	pending   map[string]chan struct{} // look-ups in flight, closed when done
	backoff   time.Time                // no look-up before (after a 429)
	members   map[string][]string      // group ID → member IDs
	groupsAt  time.Time
	reloading bool
}

type cachedUser struct {
	name string
	bot  bool
	at   time.Time
}

func newDirectory(api webAPI, groups []string, log *slog.Logger, spawn func(func(context.Context)) bool) *directory {
	return &directory{
		api:     api,
		groups:  groups,
		log:     log,
		now:     time.Now,
		spawn:   spawn,
		slots:   make(chan struct{}, lookupWorkers),
		users:   map[string]cachedUser{},
		pending: map[string]chan struct{}{},
		members: map[string][]string{},
	}
}

// person describes a Slack user for the core from what is known now, and
// starts looking up what is not (or is stale).
func (d *directory) person(userID string) bot.Person {
	p := bot.Person{Platform: bot.Slack, ID: userID}
	if userID == "" {
		return p
	}
	d.mu.Lock()
	u, ok := d.users[userID]
	if !ok || d.now().Sub(u.at) >= userTTL {
		d.lookUpLocked(userID)
	}
	d.mu.Unlock()
	p.Name, p.Bot = u.name, u.bot
	p.Roles = d.roles(userID)
	return p
}

// lookUpLocked starts a background users.info for userID unless one is in
// flight or Slack asked to wait. d.mu is held.
func (d *directory) lookUpLocked(userID string) {
	if d.pending[userID] != nil || d.now().Before(d.backoff) {
		return
	}
	done := make(chan struct{})
	d.pending[userID] = done
	ran := d.spawn(func(ctx context.Context) {
		u, ok := d.fetch(ctx, userID)
		d.mu.Lock()
		delete(d.pending, userID)
		d.mu.Unlock()
		close(done) // a post waiting for the name need not wait for the core
		if ok {
			d.told(ctx, userID, u)
		}
	})
	if !ran {
		delete(d.pending, userID)
		close(done)
	}
}

// fetch calls users.info, at most lookupWorkers at once, and caches the name.
// It is false when the look-up failed or ctx ended first.
func (d *directory) fetch(ctx context.Context, userID string) (cachedUser, bool) {
	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
		return cachedUser{}, false
	}
	info, err := d.api.GetUserInfoContext(ctx, userID)
	<-d.slots
	if err != nil {
		var rl *slackgo.RateLimitedError
		if errors.As(err, &rl) {
			d.mu.Lock()
			d.backoff = d.now().Add(rl.RetryAfter)
			d.mu.Unlock()
		}
		d.log.Warn("users.info failed; the user ID stands for the name", "user", userID, "err", err)
		return cachedUser{}, false
	}
	u := cachedUser{name: nonEmpty(info.Profile.DisplayName, info.Profile.RealName, info.RealName, info.Name), bot: info.IsBot, at: d.now()}
	d.mu.Lock()
	if len(d.users) >= maxUsers {
		clear(d.users)
	}
	d.users[userID] = u
	d.mu.Unlock()
	return u, true
}

// told hands a name looked up to the core, which records it on the person's
// cases opened without one.
func (d *directory) told(ctx context.Context, userID string, u cachedUser) {
	if d.tell != nil && u.name != "" && !u.bot {
		d.tell(ctx, bot.Person{Platform: bot.Slack, ID: userID, Name: u.name})
	}
}

// named fills in, in text about to be posted, the names of the people the
// core named by placeholder, looking them up or waiting for the look-ups in
// flight (until ctx ends). The core writes a placeholder only where a name
// goes, so what someone wrote is left as it was.
func (d *directory) named(ctx context.Context, text string) string {
	ids := bot.Unnamed(text)
	if len(ids) == 0 {
		return text
	}
	names := make(map[string]string, len(ids))
	for _, id := range ids {
		names[id] = d.await(ctx, id)
	}
	return bot.FillNames(text, func(id string) string { return names[id] })
}

// namedNow fills in the names already known, without waiting: for text that
// goes back with an acknowledgement.
func (d *directory) namedNow(text string) string {
	return bot.FillNames(text, func(id string) string {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.users[id].name
	})
}

// await returns userID's name, waiting for its look-up if one is in flight.
// When none can start in the background (Slack asked to wait after a 429, or
// the adapter is stopping), it waits as asked and looks the name up itself:
// the message waiting for it is the relay's work, which may wait, not an
// acknowledgement's. "" when the name cannot be found before ctx ends.
func (d *directory) await(ctx context.Context, userID string) string {
	d.mu.Lock()
	u, ok := d.users[userID]
	if !ok {
		d.lookUpLocked(userID)
	}
	wait, backoff := d.pending[userID], d.backoff
	d.mu.Unlock()
	if ok {
		return u.name
	}
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			return ""
		}
	} else if d.sleepUntil(ctx, backoff) {
		if u, ok := d.fetch(ctx, userID); ok {
			d.spawn(func(ctx context.Context) { d.told(ctx, userID, u) })
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.users[userID].name
}

// sleepUntil waits until t by d's clock; false if ctx ended first.
func (d *directory) sleepUntil(ctx context.Context, t time.Time) bool {
	wait := t.Sub(d.now())
	if wait <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// roles lists the configured user groups userID belongs to, from the
// memberships loaded so far; stale ones are reloaded in the background.
func (d *directory) roles(userID string) []string {
	if len(d.groups) == 0 {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.reloading && (d.groupsAt.IsZero() || d.now().Sub(d.groupsAt) >= groupTTL) {
		d.reloading = d.spawn(func(ctx context.Context) {
			d.loadGroups(ctx)
			d.mu.Lock()
			d.reloading = false
			d.mu.Unlock()
		})
	}
	var out []string
	for _, g := range d.groups {
		if slices.Contains(d.members[g], userID) {
			out = append(out, g)
		}
	}
	return out
}

// loadGroups reloads the memberships; a group that fails to load keeps its
// previous members, and all are tried again after groupTTL. Run calls it
// before receiving anything, so the first events already see them.
func (d *directory) loadGroups(ctx context.Context) {
	if len(d.groups) == 0 {
		return
	}
	for _, g := range d.groups {
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		ids, err := d.api.GetUserGroupMembersContext(cctx, g)
		cancel()
		if err != nil {
			d.log.Warn("usergroups.users.list failed; keeping the previous members", "group", g, "err", err)
			continue
		}
		d.mu.Lock()
		d.members[g] = ids
		d.mu.Unlock()
	}
	d.mu.Lock()
	d.groupsAt = d.now()
	d.mu.Unlock()
}

// nonEmpty returns the first non-empty value.
func nonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
