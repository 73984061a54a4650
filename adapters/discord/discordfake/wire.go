package discordfake

import (
	"encoding/json"
	"strconv"
)

// This file renders the fake's state in Discord's JSON shapes. The fake uses
// its own maps rather than discordgo's structs so that what the client decodes
// is Discord's wire format, not its own encoding of it.

func rawOrEmpty(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage("[]")
	}
	return r
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) wireUser(id string) map[string]any {
	u := s.users[id]
	if u == nil {
		u = &User{ID: id, Username: id}
	}
	w := map[string]any{
		"id":            u.ID,
		"username":      u.Username,
		"global_name":   nullable(u.GlobalName),
		"discriminator": "0",
		"avatar":        nil,
		"public_flags":  0,
	}
	if u.Bot {
		w["bot"] = true
	}
	return w
}

// wireMember renders a guild member; withUser adds the user object (omitted in
// MESSAGE_CREATE, where the author carries it), withPerms the computed
// permissions (interactions only).
func (s *Server) wireMember(g *guild, userID string, withUser, withPerms bool) map[string]any {
	m := g.members[userID]
	if m == nil {
		return nil
	}
	roles := m.roles
	if roles == nil {
		roles = []string{}
	}
	w := map[string]any{
		"roles":                        roles,
		"joined_at":                    fmtTime(m.joined),
		"nick":                         nullable(m.nick),
		"avatar":                       nil,
		"premium_since":                nil,
		"deaf":                         false,
		"mute":                         false,
		"flags":                        0,
		"pending":                      false,
		"communication_disabled_until": nil,
	}
	if withUser {
		w["user"] = s.wireUser(userID)
	}
	if withPerms {
		w["permissions"] = strconv.FormatInt(s.permissions(g, userID), 10)
	}
	return w
}

func (s *Server) wireChannel(c *channel) map[string]any {
	w := map[string]any{
		"id":              c.ID,
		"type":            c.Type,
		"last_message_id": nullable(c.lastMsg),
		"flags":           0,
	}
	if c.Type == ChannelTypeDM {
		w["recipients"] = []any{s.wireUser(c.RecipientID)}
		return w
	}
	w["guild_id"] = c.GuildID
	w["name"] = c.Name
	w["rate_limit_per_user"] = 0
	w["nsfw"] = false
	if !c.isThread() {
		w["position"] = 0
		w["parent_id"] = nil
		w["topic"] = nil
		ows := []any{}
		for _, o := range c.overwrites {
			typ := 0
			if g := s.guilds[c.GuildID]; g != nil && g.roles[o.id] == nil {
				typ = 1
			}
			ows = append(ows, map[string]any{"id": o.id, "type": typ,
				"allow": strconv.FormatInt(o.allow, 10), "deny": strconv.FormatInt(o.deny, 10)})
		}
		w["permission_overwrites"] = ows
		return w
	}
	w["parent_id"] = c.ParentID
	w["owner_id"] = c.OwnerID
	w["member_count"] = len(c.members)
	w["message_count"] = c.msgCount
	w["total_message_sent"] = c.msgCount
	meta := map[string]any{
		"archived":              false,
		"auto_archive_duration": c.AutoArchiveDuration,
		"archive_timestamp":     fmtTime(c.created),
		"locked":                false,
		"create_timestamp":      fmtTime(c.created),
	}
	if c.Type == ChannelTypePrivateThread {
		meta["invitable"] = c.Invitable
	}
	w["thread_metadata"] = meta
	return w
}

func (s *Server) wireRole(r *role) map[string]any {
	return map[string]any{
		"id": r.id, "name": r.name, "permissions": strconv.FormatInt(r.perms, 10),
		"position": r.pos, "color": 0, "hoist": false, "managed": false, "mentionable": false,
		"icon": nil, "unicode_emoji": nil, "flags": 0,
	}
}

// wireGuild renders a guild as in GUILD_CREATE.
func (s *Server) wireGuild(g *guild) map[string]any {
	roles := make([]any, 0, len(g.roleIDs))
	for _, id := range g.roleIDs {
		roles = append(roles, s.wireRole(g.roles[id]))
	}
	var chans, threads []any
	for _, id := range g.channels {
		if c := s.channels[id]; c != nil {
			chans = append(chans, s.wireChannel(c))
		}
	}
	for _, c := range s.channels {
		if c.GuildID == g.id && c.isThread() {
			threads = append(threads, s.wireChannel(c))
		}
	}
	if chans == nil {
		chans = []any{}
	}
	if threads == nil {
		threads = []any{}
	}
	return map[string]any{
		"id": g.id, "name": g.name, "icon": nil, "owner_id": g.ownerID,
		"joined_at": fmtTime(g.joined), "large": false, "unavailable": false,
		"member_count": len(g.members),
		"members":      []any{s.wireMember(g, s.opts.BotUserID, true, false)},
		"channels":     chans, "threads": threads, "roles": roles,
		"emojis": []any{}, "stickers": []any{}, "voice_states": []any{}, "presences": []any{},
		"features": []any{}, "stage_instances": []any{}, "guild_scheduled_events": []any{},
		"preferred_locale": "en-US", "verification_level": 0, "mfa_level": 0,
		"system_channel_id": nil, "rules_channel_id": nil, "application_id": nil,
	}
}

// wireMessage renders a message for a gateway session (nil for REST replies),
// emptying the fields Discord withholds without the message content intent.
func (s *Server) wireMessage(m *Message, sess *session) map[string]any {
	blank := sess != nil && s.withheld(m, sess.intents)
	mentions := make([]any, 0, len(m.Mentions))
	for _, id := range m.Mentions {
		mentions = append(mentions, s.wireUser(id))
	}
	w := map[string]any{
		"id":               m.ID,
		"channel_id":       m.ChannelID,
		"author":           s.wireUser(m.Author.ID),
		"content":          m.Content,
		"timestamp":        fmtTime(m.Timestamp),
		"edited_timestamp": nil,
		"tts":              false,
		"mention_everyone": false,
		"mentions":         mentions,
		"mention_roles":    []any{},
		"attachments":      []any{},
		"embeds":           rawOrEmpty(m.Embeds),
		"components":       rawOrEmpty(m.Components),
		"pinned":           false,
		"type":             m.Type,
		"flags":            m.Flags,
	}
	if blank {
		w["content"] = ""
		w["embeds"] = []any{}
		w["components"] = []any{}
	}
	if !m.EditedTimestamp.IsZero() {
		w["edited_timestamp"] = fmtTime(m.EditedTimestamp)
	}
	if m.GuildID != "" {
		w["guild_id"] = m.GuildID
	}
	if m.Nonce != "" {
		w["nonce"] = m.Nonce
	}
	if m.WebhookID != "" {
		w["webhook_id"] = m.WebhookID
		w["application_id"] = m.WebhookID
	}
	if m.InteractionID != "" {
		if i := s.interactions[m.InteractionID]; i != nil {
			w["interaction_metadata"] = map[string]any{
				"id": i.ID, "type": i.Type, "user": s.wireUser(i.UserID),
				"authorizing_integration_owners": i.owners(),
			}
		}
	}
	if r := m.Reference; r != nil {
		w["message_reference"] = map[string]any{"type": 0, "message_id": r.MessageID, "channel_id": r.ChannelID, "guild_id": nullable(r.GuildID)}
		if ref := s.messages[r.MessageID]; ref != nil && !ref.Deleted {
			rw := s.wireMessage(&Message{
				ID: ref.ID, ChannelID: ref.ChannelID, GuildID: ref.GuildID, Author: ref.Author, Content: ref.Content,
				Components: ref.Components, Embeds: ref.Embeds, Flags: ref.Flags, Type: ref.Type,
				Mentions: ref.Mentions, Timestamp: ref.Timestamp, EditedTimestamp: ref.EditedTimestamp,
			}, sess)
			w["referenced_message"] = rw
		} else {
			w["referenced_message"] = nil
		}
	}
	if m.ThreadID != "" {
		if t := s.channels[m.ThreadID]; t != nil {
			w["thread"] = s.wireChannel(t)
		}
	}
	return w
}
