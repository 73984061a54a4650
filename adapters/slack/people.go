package slack

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
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
	// maxUnnamed bounds the IDs remembered as handed to the core without a
	// name: their messages may wait in the outbox for hours behind a
	// channel's pace, so the set holds ten times as many (about 5 MB).
	maxUnnamed = 100000
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
// was committed; the core then writes the ID where the name goes, and the
// adapter puts the name in its place when it posts the message (named), by
// which time the look-up is done (or is waited for: posting is the relay's
// work, not the acknowledgement's). A failed look-up leaves the ID.
type directory struct {
	api    webAPI
	groups []string
	log    *slog.Logger
	now    func() time.Time
	// spawn runs fn in the background, tracked by the adapter; false when
	// the adapter is stopping and fn will not run
	spawn func(fn func(context.Context)) bool
	slots chan struct{} // one per users.info call in flight

	mu        sync.Mutex
	users     map[string]cachedUser
	pending   map[string]chan struct{} // look-ups in flight, closed when done
	unnamed   map[string]bool          // IDs the core got without a name
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
		unnamed: map[string]bool{},
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
	if !ok {
		if len(d.unnamed) >= maxUnnamed {
			clear(d.unnamed)
		}
		d.unnamed[userID] = true
	}
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
		defer func() {
			d.mu.Lock()
			delete(d.pending, userID)
			d.mu.Unlock()
			close(done)
		}()
		select {
		case d.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-d.slots }()
		d.fetch(ctx, userID)
	})
	if !ran {
		delete(d.pending, userID)
		close(done)
	}
}

// fetch calls users.info and caches the name.
func (d *directory) fetch(ctx context.Context, userID string) {
	info, err := d.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		var rl *slackgo.RateLimitedError
		if errors.As(err, &rl) {
			d.mu.Lock()
			d.backoff = d.now().Add(rl.RetryAfter)
			d.mu.Unlock()
		}
		d.log.Warn("users.info failed; the user ID stands for the name", "user", userID, "err", err)
		return
	}
	u := cachedUser{name: nonEmpty(info.Profile.DisplayName, info.Profile.RealName, info.RealName, info.Name), bot: info.IsBot, at: d.now()}
	d.mu.Lock()
	if len(d.users) >= maxUsers {
		clear(d.users)
	}
	d.users[userID] = u
	d.mu.Unlock()
}

// named replaces, in text about to be posted, the IDs of people the core got
// without a name by their names, waiting for look-ups in flight (until ctx
// ends). Only those IDs are replaced, and by plain text: what someone wrote
// is left as it was.
func (d *directory) named(ctx context.Context, text string) string {
	ids := d.unnamedIn(text)
	if len(ids) == 0 {
		return text
	}
	var pairs []string
	for _, id := range ids {
		if name := d.await(ctx, id); name != "" {
			pairs = append(pairs, id, name)
		}
	}
	if len(pairs) == 0 {
		return text
	}
	return replaceWords(text, pairs)
}

// unnamedIn lists the words of text that are IDs handed out without a name.
func (d *directory) unnamedIn(text string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.unnamed) == 0 {
		return nil
	}
	var ids []string
	for _, w := range userIDWords(text) {
		if d.unnamed[w] && !slices.Contains(ids, w) {
			ids = append(ids, w)
		}
	}
	return ids
}

// await returns userID's name, waiting for its look-up if one is in flight
// and starting one if it is neither known nor looked up.
func (d *directory) await(ctx context.Context, userID string) string {
	d.mu.Lock()
	u, ok := d.users[userID]
	if !ok {
		d.lookUpLocked(userID)
	}
	wait := d.pending[userID]
	d.mu.Unlock()
	if ok || wait == nil {
		return u.name
	}
	select {
	case <-wait:
	case <-ctx.Done():
		return ""
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.users[userID].name
}

// userIDWords are the words of s shaped like a Slack user ID: U or W, then
// capital letters and digits, between characters that are neither.
func userIDWords(s string) []string {
	var out []string
	isIDRune := func(r byte) bool { return r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' }
	for i := 0; i < len(s); {
		if !isIDRune(s[i]) || (i > 0 && isWordByte(s[i-1])) {
			i++
			continue
		}
		j := i
		for j < len(s) && isIDRune(s[j]) {
			j++
		}
		if (s[i] == 'U' || s[i] == 'W') && j-i >= 9 && (j == len(s) || !isWordByte(s[j])) {
			out = append(out, s[i:j])
		}
		i = j
	}
	return out
}

func isWordByte(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b >= 0x80
}

// replaceWords replaces whole words of s: pairs are old, new, old, new…
func replaceWords(s string, pairs []string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		replaced := false
		if i == 0 || !isWordByte(s[i-1]) {
			for k := 0; k < len(pairs); k += 2 {
				old := pairs[k]
				end := i + len(old)
				if strings.HasPrefix(s[i:], old) && (end == len(s) || !isWordByte(s[end])) {
					b.WriteString(pairs[k+1])
					i = end
					replaced = true
					break
				}
			}
		}
		if !replaced {
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
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
