package slack

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// How long looked-up names and user-group memberships are reused.
const (
	userTTL  = time.Hour
	groupTTL = 5 * time.Minute
)

// directory turns user IDs into bot.Persons: display names from users.info and,
// when user groups are configured, their memberships as roles. Both are cached;
// a failed lookup degrades to the bare ID (or stale memberships) rather than
// failing the event.
type directory struct {
	api    webAPI
	groups []string
	log    *slog.Logger
	now    func() time.Time

	refresh  sync.Mutex // held while memberships are reloaded
	mu       sync.Mutex
	users    map[string]cachedUser
	members  map[string][]string // group ID → member IDs
	groupsAt time.Time
}

type cachedUser struct {
	name string
	bot  bool
	at   time.Time
}

func newDirectory(api webAPI, groups []string, log *slog.Logger) *directory {
	return &directory{
		api:     api,
		groups:  groups,
		log:     log,
		now:     time.Now,
		users:   map[string]cachedUser{},
		members: map[string][]string{},
	}
}

// person describes a Slack user for the core.
func (d *directory) person(ctx context.Context, userID string) bot.Person {
	p := bot.Person{Platform: bot.Slack, ID: userID}
	if userID == "" {
		return p
	}
	u := d.user(ctx, userID)
	p.Name, p.Bot = u.name, u.bot
	p.Roles = d.roles(ctx, userID)
	return p
}

func (d *directory) user(ctx context.Context, userID string) cachedUser {
	d.mu.Lock()
	u, ok := d.users[userID]
	d.mu.Unlock()
	if ok && d.now().Sub(u.at) < userTTL {
		return u
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	info, err := d.api.GetUserInfoContext(cctx, userID)
	if err != nil {
		d.log.Warn("users.info failed; using the user ID as name", "user", userID, "err", err)
		return u // stale or empty: the event goes on
	}
	u = cachedUser{name: nonEmpty(info.Profile.DisplayName, info.Profile.RealName, info.RealName, info.Name), bot: info.IsBot, at: d.now()}
	d.mu.Lock()
	if len(d.users) > 10000 {
		clear(d.users)
	}
	d.users[userID] = u
	d.mu.Unlock()
	return u
}

// roles lists the configured user groups userID belongs to.
func (d *directory) roles(ctx context.Context, userID string) []string {
	if len(d.groups) == 0 {
		return nil
	}
	d.refreshGroups(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, g := range d.groups {
		if slices.Contains(d.members[g], userID) {
			out = append(out, g)
		}
	}
	return out
}

// refreshGroups reloads memberships once they are older than groupTTL; a group
// that fails to load keeps its previous members. Concurrent callers wait for a
// refresh in progress, so nobody sees memberships that are not loaded yet.
func (d *directory) refreshGroups(ctx context.Context) {
	d.refresh.Lock()
	defer d.refresh.Unlock()
	d.mu.Lock()
	fresh := !d.groupsAt.IsZero() && d.now().Sub(d.groupsAt) < groupTTL
	d.mu.Unlock()
	if fresh {
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
