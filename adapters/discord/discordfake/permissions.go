package discordfake

import (
	"fmt"
	"net/http"
	"slices"
)

// Channel permission bits the fake checks, as Discord numbers them.
const (
	// PermViewChannel lets a member see a channel and read its messages.
	PermViewChannel = int64(1) << 10
	// PermSendMessages lets a member post in a text channel.
	PermSendMessages = int64(1) << 11
	// PermReadMessageHistory lets a member read past messages; replies need it.
	PermReadMessageHistory = int64(1) << 16
	// PermCreatePublicThreads lets a member start public threads.
	PermCreatePublicThreads = int64(1) << 35
	// PermCreatePrivateThreads lets a member start private threads.
	PermCreatePrivateThreads = int64(1) << 36
	// PermSendMessagesInThreads lets a member post in threads.
	PermSendMessagesInThreads = int64(1) << 38
)

// overwrite is a channel permission overwrite for a role or a member: a
// role when the guild has a role with that ID when it is applied, so that
// an overwrite may be set before its role is added.
type overwrite struct {
	id          string
	allow, deny int64
}

// SetOverwrite sets a channel's permission overwrite for a role or a user
// (targetID: a role ID of the channel's guild, the guild ID for @everyone, or
// a user ID), as in Server Settings → the channel → Permissions. Threads take
// their parent's overwrites. It panics on an unknown channel.
//
//	f.SetOverwrite(staffChannel, guildID, 0, PermViewChannel) // hide from @everyone
//	f.SetOverwrite(staffChannel, staffRole, PermViewChannel, 0)
func (s *Server) SetOverwrite(channelID, targetID string, allow, deny int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil || c.GuildID == "" || c.isThread() {
		panic(fmt.Sprintf("discordfake: SetOverwrite: unknown guild channel %q", channelID))
	}
	ow := overwrite{id: targetID, allow: allow, deny: deny}
	i := slices.IndexFunc(c.overwrites, func(o overwrite) bool { return o.id == targetID })
	if i >= 0 {
		c.overwrites[i] = ow
	} else {
		c.overwrites = append(c.overwrites, ow)
	}
	s.broadcastGuild("CHANNEL_UPDATE", c.GuildID, IntentGuilds, func(*session) any { return s.wireChannel(c) })
	s.notify()
}

// RestrictChannel makes a channel visible only to the given roles and users
// (and to administrators and the guild owner): @everyone loses View Channel.
// A staff channel is one restricted to the staff role and the bot.
func (s *Server) RestrictChannel(channelID string, allowed ...string) {
	s.mu.Lock()
	c := s.channels[channelID]
	s.mu.Unlock()
	if c == nil {
		panic(fmt.Sprintf("discordfake: RestrictChannel: unknown channel %q", channelID))
	}
	s.SetOverwrite(channelID, c.GuildID, 0, PermViewChannel)
	for _, id := range allowed {
		s.SetOverwrite(channelID, id, PermViewChannel, 0)
	}
}

// channelPermissions computes a member's permissions in a channel as Discord
// does: guild roles, then the channel's @everyone, role and member
// overwrites; a thread uses its parent's. Without View Channel a member has
// no permission in the channel. Callers hold s.mu.
func (s *Server) channelPermissions(c *channel, userID string) int64 {
	g := s.guilds[c.GuildID]
	if g == nil || g.members[userID] == nil {
		return 0
	}
	p := s.permissions(g, userID)
	if p == allPermissions {
		return p
	}
	if c.isThread() {
		if parent := s.channels[c.ParentID]; parent != nil {
			c = parent
		}
	}
	var roleAllow, roleDeny int64
	var everyone, self *overwrite
	roles := g.members[userID].roles
	for i := range c.overwrites {
		o := &c.overwrites[i]
		isRole := g.roles[o.id] != nil
		switch {
		case isRole && o.id == g.id:
			everyone = o
		case isRole && slices.Contains(roles, o.id):
			roleAllow |= o.allow
			roleDeny |= o.deny
		case !isRole && o.id == userID:
			self = o
		}
	}
	if everyone != nil {
		p = p&^everyone.deny | everyone.allow
	}
	p = p&^roleDeny | roleAllow
	if self != nil {
		p = p&^self.deny | self.allow
	}
	if p&PermViewChannel == 0 {
		return 0
	}
	return p
}

// viewable reports whether a user sees a channel: the recipient of a DM; a
// guild member with View Channel; for a private thread, also one of its
// members or a moderator (Manage Threads). Callers hold s.mu.
func (s *Server) viewable(c *channel, userID string) bool {
	if c.Type == ChannelTypeDM {
		return c.RecipientID == userID
	}
	p := s.channelPermissions(c, userID)
	if p&PermViewChannel == 0 {
		return false
	}
	return c.Type != ChannelTypePrivateThread || c.hasMember(userID) || p&PermManageThreads != 0
}

// CanView reports whether a user can see a channel, thread or DM channel and
// its messages, by Discord's rules (see SetOverwrite).
func (s *Server) CanView(userID, channelID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	return c != nil && s.viewable(c, userID)
}

// VisibleTo returns every message a user can see, oldest first: the live
// messages of each channel, thread and DM they can view, and the ephemeral
// messages shown to them. It is what the person could read in the client.
func (s *Server) VisibleTo(userID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Deleted {
			continue
		}
		if m.Ephemeral {
			if m.EphemeralFor == userID {
				out = append(out, m.clone())
			}
			continue
		}
		if c := s.channels[m.ChannelID]; c != nil && s.viewable(c, userID) {
			out = append(out, m.clone())
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return compareSnowflakes(a.ID, b.ID) })
	return out
}

// botMay checks that the bot may act in a guild channel with the given
// permissions: 403 Missing Access (50001) when it cannot see the channel,
// 403 Missing Permissions (50013) when it lacks one of need. DMs need
// nothing. Callers hold s.mu.
func (s *Server) botMay(c *channel, need int64) (response, bool) {
	if c.GuildID == "" {
		return response{}, true
	}
	if !s.viewable(c, s.opts.BotUserID) {
		return apiError(http.StatusForbidden, 50001, "Missing Access"), false
	}
	if s.channelPermissions(c, s.opts.BotUserID)&need != need {
		return apiError(http.StatusForbidden, 50013, "Missing Permissions"), false
	}
	return response{}, true
}

// sendPermission is what posting in a channel needs.
func sendPermission(c *channel) int64 {
	if c.isThread() {
		return PermSendMessagesInThreads
	}
	return PermSendMessages
}
