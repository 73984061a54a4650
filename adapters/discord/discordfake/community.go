package discordfake

import (
	"fmt"
	"slices"
)

// PostAsUser posts a message as a user, as the Discord client would: it joins
// the channel's history and MESSAGE_CREATE is dispatched. The user must be
// able to see the channel (guild member, private thread member or DM
// recipient).
func (s *Server) PostAsUser(channelID, userID, content string) (Message, error) {
	return s.Post(Message{ChannelID: channelID, Author: User{ID: userID}, Content: content})
}

// ReplyAsUser posts a reply to a message as a user; the replied-to author is
// mentioned, as Discord's default reply does.
func (s *Server) ReplyAsUser(channelID, userID, content, replyToID string) (Message, error) {
	return s.Post(Message{ChannelID: channelID, Author: User{ID: userID}, Content: content,
		Reference: &MessageReference{MessageID: replyToID}})
}

// Post posts a message written by a user: ChannelID, Author.ID, Content and
// optionally Reference (MessageID) and Embeds are used; the rest is filled in
// (ID, guild, timestamp, mentions from <@id> and the reply, type).
func (s *Server) Post(m Message) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	c := s.channels[m.ChannelID]
	if c == nil {
		return Message{}, fmt.Errorf("discordfake: unknown channel %q", m.ChannelID)
	}
	u := s.users[m.Author.ID]
	if u == nil {
		return Message{}, fmt.Errorf("discordfake: unknown user %q", m.Author.ID)
	}
	if err := s.canSee(c, u.ID); err != nil {
		return Message{}, err
	}
	if m.Content == "" && len(m.Embeds) == 0 {
		return Message{}, fmt.Errorf("discordfake: cannot send an empty message")
	}
	nm := &Message{ID: s.nextID(), ChannelID: c.ID, GuildID: c.GuildID, Author: *u, Content: m.Content,
		Embeds: normalizeArray(m.Embeds), Timestamp: s.now()}
	if r := m.Reference; r != nil {
		ref := s.channelMessage(c.ID, r.MessageID)
		if ref == nil {
			return Message{}, fmt.Errorf("discordfake: no message %q to reply to in channel %q", r.MessageID, c.ID)
		}
		nm.Reference = &MessageReference{MessageID: ref.ID, ChannelID: ref.ChannelID, GuildID: ref.GuildID}
		nm.Type = 19
	}
	nm.Mentions = s.mentions(nm)
	s.storeMessage(nm)
	return nm.clone(), nil
}

// MessageCreate dispatches MESSAGE_CREATE for a message without storing
// anything: a stored message (by ID) is sent again as it is, as a duplicate
// delivery; any other message is sent as given, with GuildID taken from its
// channel and the author from the known users.
func (s *Server) MessageCreate(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	if stored := s.messages[m.ID]; stored != nil {
		s.dispatchMessage("MESSAGE_CREATE", stored)
		return nil
	}
	c := s.channels[m.ChannelID]
	if c == nil {
		return fmt.Errorf("discordfake: unknown channel %q", m.ChannelID)
	}
	cp := m.clone()
	if cp.ID == "" {
		cp.ID = s.nextID()
	}
	cp.GuildID = c.GuildID
	if u := s.users[cp.Author.ID]; u != nil {
		cp.Author = *u
	}
	if cp.Timestamp.IsZero() {
		cp.Timestamp = s.now()
	}
	if cp.Mentions == nil {
		cp.Mentions = slices.DeleteFunc(mentionedIDs(cp.Content), func(id string) bool { return s.users[id] == nil })
	}
	s.dispatchMessage("MESSAGE_CREATE", &cp)
	return nil
}
