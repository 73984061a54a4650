package discordfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Channel types, as Discord numbers them.
const (
	// ChannelTypeGuildText is a guild text channel.
	ChannelTypeGuildText = 0
	// ChannelTypeDM is a direct message channel between the bot and one user.
	ChannelTypeDM = 1
	// ChannelTypePublicThread is a public thread in a text channel.
	ChannelTypePublicThread = 11
	// ChannelTypePrivateThread is a private thread, visible to its members.
	ChannelTypePrivateThread = 12
)

// Gateway intents the fake acts on.
const (
	// IntentGuilds delivers GUILD_CREATE, CHANNEL_CREATE and THREAD_CREATE.
	IntentGuilds = 1 << 0
	// IntentGuildMembers is privileged.
	IntentGuildMembers = 1 << 1
	// IntentGuildPresences is privileged.
	IntentGuildPresences = 1 << 8
	// IntentGuildMessages delivers MESSAGE_* events from guild channels.
	IntentGuildMessages = 1 << 9
	// IntentDirectMessages delivers MESSAGE_* events from DMs.
	IntentDirectMessages = 1 << 12
	// IntentMessageContent is privileged; without it guild message content is
	// blank except in mentions of the bot and the bot's own messages.
	IntentMessageContent = 1 << 15

	privilegedIntents = IntentGuildMembers | IntentGuildPresences | IntentMessageContent
	// knownIntents is every intent bit Discord defines (bits 0-25, 17-19 unused).
	knownIntents = (1<<26 - 1) &^ (1<<17 | 1<<18 | 1<<19)
)

// Permission bits used by the fake.
const (
	// PermAdministrator grants every permission.
	PermAdministrator = int64(1) << 3
	// PermManageMessages lets a member delete others' messages.
	PermManageMessages = int64(1) << 13
	// PermManageThreads lets a member manage threads.
	PermManageThreads = int64(1) << 34

	allPermissions = int64(1)<<51 - 1
	// defaultEveryone is what @everyone can do in a fresh guild: view, send,
	// read history, embed, react, use commands, send in threads.
	defaultEveryone = int64(1)<<10 | 1<<11 | 1<<16 | 1<<14 | 1<<6 | 1<<31 | 1<<38
)

// User is a Discord user known to the fake.
type User struct {
	ID         string
	Username   string
	GlobalName string
	Bot        bool
}

// Channel is a guild channel, thread or DM channel.
type Channel struct {
	ID       string
	GuildID  string // empty for DMs
	ParentID string // threads: the channel they live in
	Name     string
	Type     int
	// OwnerID is the creator of a thread.
	OwnerID string
	// Invitable tells whether non-moderators may add members to a private
	// thread (as created; always true for other channel types).
	Invitable bool
	// AutoArchiveDuration is a thread's auto-archive duration in minutes.
	AutoArchiveDuration int
	// RecipientID is the user of a DM channel.
	RecipientID string
}

// MessageReference is a reply's pointer to the message it answers.
type MessageReference struct {
	MessageID string
	ChannelID string
	GuildID   string
}

// Message is a message as stored by the fake.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string
	Author    User
	Content   string
	// Components and Embeds are the JSON arrays as sent (nil when none).
	Components json.RawMessage
	Embeds     json.RawMessage
	Flags      int
	// Type is Discord's message type: 0 default, 19 reply, 20 slash command
	// response, 23 context menu command response.
	Type      int
	Reference *MessageReference
	// Nonce is the nonce sent with the message, as a string.
	Nonce    string
	Mentions []string
	// Timestamp is the creation time; EditedTimestamp is zero until edited.
	Timestamp       time.Time
	EditedTimestamp time.Time
	// InteractionID is set on interaction responses and follow-ups.
	InteractionID string
	// WebhookID is the application ID on interaction responses and follow-ups.
	WebhookID string
	// Ephemeral messages are seen only by EphemeralFor and are not part of the
	// channel's history.
	Ephemeral    bool
	EphemeralFor string
	// Deleted is true once the message was deleted (see FindMessage).
	Deleted bool
	// ThreadID is the thread started from this message, if any.
	ThreadID string
}

// clone returns a deep copy.
func (m *Message) clone() Message {
	c := *m
	c.Components = slices.Clone(m.Components)
	c.Embeds = slices.Clone(m.Embeds)
	c.Mentions = slices.Clone(m.Mentions)
	if m.Reference != nil {
		r := *m.Reference
		c.Reference = &r
	}
	return c
}

// Button is a button found in a message's components.
type Button struct {
	CustomID string
	Label    string
	Style    int
	URL      string
	Disabled bool
}

// Buttons returns the buttons in the message's action rows, in order.
func (m Message) Buttons() []Button {
	var out []Button
	for _, c := range parseComponents(m.Components) {
		for _, b := range c.all() {
			if b.Type == componentButton {
				out = append(out, Button{CustomID: b.CustomID, Label: b.Label, Style: b.Style, URL: b.URL, Disabled: b.Disabled})
			}
		}
	}
	return out
}

type role struct {
	id    string
	name  string
	perms int64
	pos   int
}

type member struct {
	userID string
	nick   string
	roles  []string
	joined time.Time
}

type guild struct {
	id       string
	name     string
	ownerID  string
	joined   time.Time
	roles    map[string]*role
	roleIDs  []string
	members  map[string]*member
	memberID []string
	channels []string
}

type threadMember struct {
	userID string
	joined time.Time
}

type channel struct {
	Channel
	created    time.Time
	overwrites []overwrite
	members    []threadMember
	history    []string
	lastMsg    string
	msgCount   int
}

func (c *channel) isThread() bool {
	return c.Type == 10 || c.Type == ChannelTypePublicThread || c.Type == ChannelTypePrivateThread
}

func (c *channel) hasMember(userID string) bool {
	return slices.ContainsFunc(c.members, func(m threadMember) bool { return m.userID == userID })
}

type nonceEntry struct {
	messageID string
	at        time.Time
}

// AddUser registers a user (idempotent; a later call renames).
func (s *Server) AddUser(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(id, name)
	s.notify()
}

func (s *Server) addUser(id, name string) *User {
	u := s.users[id]
	if u == nil {
		u = &User{ID: id}
		s.users[id] = u
	}
	if name != "" {
		u.Username, u.GlobalName = name, name
	}
	return u
}

// AddGuild creates a guild the bot is in. Its @everyone role has the guild's
// ID, and the bot is a member.
func (s *Server) AddGuild(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.guilds[id] != nil {
		return
	}
	now := s.now()
	g := &guild{
		id: id, name: name, ownerID: "1", joined: now,
		roles:   map[string]*role{id: {id: id, name: "@everyone", perms: defaultEveryone}},
		roleIDs: []string{id},
		members: map[string]*member{},
	}
	g.members[s.opts.BotUserID] = &member{userID: s.opts.BotUserID, joined: now}
	g.memberID = append(g.memberID, s.opts.BotUserID)
	s.guilds[id] = g
	s.guildIDs = append(s.guildIDs, id)
	for _, sess := range s.sessions {
		if sess.intents&IntentGuilds != 0 && sess.sees(id) {
			s.sendTo(sess, "GUILD_CREATE", s.wireGuild(g))
		}
	}
	s.notify()
}

// AddRole adds a role with the given permission bits to a guild.
func (s *Server) AddRole(guildID, roleID, name string, perms int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGuild(guildID)
	s.addRole(g, roleID, name, perms)
	s.notify()
}

func (s *Server) addRole(g *guild, roleID, name string, perms int64) {
	if r := g.roles[roleID]; r != nil {
		r.name, r.perms = name, perms
		return
	}
	g.roles[roleID] = &role{id: roleID, name: name, perms: perms, pos: len(g.roleIDs)}
	g.roleIDs = append(g.roleIDs, roleID)
}

// AddMember adds a user to a guild with the given roles; unknown roles are
// created without permissions. The user is registered with name as username.
func (s *Server) AddMember(guildID, userID, name string, roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGuild(guildID)
	s.addUser(userID, name)
	for _, r := range roles {
		if g.roles[r] == nil {
			s.addRole(g, r, r, 0)
		}
	}
	if m := g.members[userID]; m != nil {
		m.roles = slices.Clone(roles)
	} else {
		g.members[userID] = &member{userID: userID, roles: slices.Clone(roles), joined: s.now()}
		g.memberID = append(g.memberID, userID)
	}
	s.notify()
}

// AddChannel adds a text channel to a guild.
func (s *Server) AddChannel(guildID, id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.mustGuild(guildID)
	if s.channels[id] != nil {
		return
	}
	c := &channel{Channel: Channel{ID: id, GuildID: guildID, Name: name, Type: ChannelTypeGuildText, Invitable: true}, created: s.now()}
	s.channels[id] = c
	g.channels = append(g.channels, id)
	s.broadcastGuild("CHANNEL_CREATE", guildID, IntentGuilds, func(*session) any { return s.wireChannel(c) })
	s.notify()
}

// AddThread adds a thread created by a user (the owner, added as member) in a
// text channel.
func (s *Server) AddThread(parentID, id, name, ownerID string, private bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.channels[parentID]
	if p == nil || p.GuildID == "" {
		panic(fmt.Sprintf("discordfake: AddThread: unknown guild channel %q", parentID))
	}
	typ := ChannelTypePublicThread
	if private {
		typ = ChannelTypePrivateThread
	}
	now := s.now()
	t := &channel{Channel: Channel{ID: id, GuildID: p.GuildID, ParentID: parentID, Name: name, Type: typ,
		OwnerID: ownerID, Invitable: true, AutoArchiveDuration: 1440}, created: now}
	t.members = append(t.members, threadMember{userID: ownerID, joined: now})
	s.channels[id] = t
	s.broadcastGuild("THREAD_CREATE", p.GuildID, IntentGuilds, func(*session) any {
		w := s.wireChannel(t)
		w["newly_created"] = true
		return w
	})
	s.notify()
}

// OpenDM returns the DM channel between the bot and a user, creating it as
// when the user opens a conversation with the bot.
func (s *Server) OpenDM(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(userID, "")
	c := s.dmChannel(userID)
	s.notify()
	return c.ID
}

func (s *Server) dmChannel(userID string) *channel {
	if id, ok := s.dms[userID]; ok {
		return s.channels[id]
	}
	c := &channel{Channel: Channel{ID: s.nextID(), Type: ChannelTypeDM, RecipientID: userID, Invitable: true}, created: s.now()}
	s.channels[c.ID] = c
	s.dms[userID] = c.ID
	return c
}

// BlockDMs makes a user refuse DMs from the bot: sending to the DM channel
// fails with 403 "Cannot send messages to this user" (50007), as when the user
// disabled DMs from server members. Opening the channel still succeeds.
func (s *Server) BlockDMs(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[userID] = true
	s.notify()
}

func (s *Server) mustGuild(id string) *guild {
	g := s.guilds[id]
	if g == nil {
		panic(fmt.Sprintf("discordfake: unknown guild %q (call AddGuild first)", id))
	}
	return g
}

// permissions computes a member's guild-level permissions.
func (s *Server) permissions(g *guild, userID string) int64 {
	if userID == g.ownerID {
		return allPermissions
	}
	p := g.roles[g.id].perms
	if userID == s.opts.BotUserID {
		if s.opts.BotPermissions == 0 {
			return allPermissions
		}
		p |= s.opts.BotPermissions
	}
	if m := g.members[userID]; m != nil {
		for _, r := range m.roles {
			if ro := g.roles[r]; ro != nil {
				p |= ro.perms
			}
		}
	}
	if p&PermAdministrator != 0 {
		return allPermissions
	}
	return p
}

// Messages returns the channel's history, oldest first, without deleted and
// ephemeral messages.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil {
		return nil
	}
	var out []Message
	for _, id := range c.history {
		if m := s.messages[id]; m != nil && !m.Deleted && !m.Ephemeral {
			out = append(out, m.clone())
		}
	}
	return out
}

// FindMessage returns any message by ID, deleted and ephemeral ones included.
func (s *Server) FindMessage(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[id]
	if m == nil {
		return Message{}, false
	}
	return m.clone(), true
}

// Channel returns a channel, thread or DM channel.
func (s *Server) Channel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[id]
	if c == nil {
		return Channel{}, false
	}
	return c.Channel, true
}

// Threads returns the threads of a channel, in creation order.
func (s *Server) Threads(parentID string) []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, c := range s.channels {
		if c.isThread() && c.ParentID == parentID {
			out = append(out, c.Channel)
		}
	}
	slices.SortFunc(out, func(a, b Channel) int { return compareSnowflakes(a.ID, b.ID) })
	return out
}

// ThreadMembers returns the user IDs of a thread's members, in join order.
func (s *Server) ThreadMembers(threadID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[threadID]
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.members))
	for _, m := range c.members {
		out = append(out, m.userID)
	}
	return out
}

// DMChannel returns the DM channel with a user, if one was opened.
func (s *Server) DMChannel(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.dms[userID]
	return id, ok
}

// compareSnowflakes orders numeric IDs numerically and others lexically.
func compareSnowflakes(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
