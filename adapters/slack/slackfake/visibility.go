package slackfake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// AddMembers adds people to a private channel: only its members (and the bot,
// which is in every channel) can see it. Public channels are visible to every
// workspace member, DMs to their user.
func (s *Server) AddMembers(channelID string, userIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	if ch == nil {
		panic(fmt.Sprintf("slackfake: AddMembers: unknown channel %q", channelID))
	}
	if ch.members == nil {
		ch.members = map[string]bool{}
	}
	for _, id := range userIDs {
		ch.members[id] = true
	}
	s.notifyLocked()
}

// viewableLocked reports whether a user sees a channel.
func (s *Server) viewableLocked(ch *channel, userID string) bool {
	switch {
	case userID == s.cfg.BotUserID:
		return true
	case ch.im:
		return ch.user == userID
	case ch.public:
		return s.users[userID] != nil
	}
	return ch.members[userID]
}

// seeLocked is the error for a user acting in a channel they cannot see.
func (s *Server) seeLocked(ch *channel, userID string) error {
	if !s.viewableLocked(ch, userID) {
		return fmt.Errorf("slackfake: user %q cannot see channel %q (not_in_channel)", userID, ch.id)
	}
	return nil
}

// CanView reports whether a user can see a channel and its messages.
func (s *Server) CanView(userID, channelID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channelID]
	return ch != nil && s.viewableLocked(ch, userID)
}

// Shown is a message as one person sees it: a channel's message or an
// ephemeral one shown to them.
type Shown struct {
	Message
	// Ephemeral is set for a message only this person sees.
	Ephemeral bool
}

// VisibleTo returns every message a user can see, in posting order: the
// history (thread replies included) of each channel they can view and the
// ephemeral messages shown to them. It is what the person could read in the
// client.
func (s *Server) VisibleTo(userID string) []Shown {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Shown
	for _, ch := range s.channels {
		if s.viewableLocked(ch, userID) {
			for _, m := range ch.messages {
				out = append(out, Shown{Message: copyMessage(m)})
			}
		}
		for _, e := range ch.ephem {
			if e.User == userID {
				out = append(out, Shown{Ephemeral: true, Message: Message{Channel: e.Channel, TS: e.TS,
					ThreadTS: e.ThreadTS, Text: e.Text, Blocks: cloneBytes(e.Blocks)}})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Shown) int { return compareTS(a.TS, b.TS) })
	return out
}

// compareTS orders Slack timestamps ("1700000000.000100") numerically.
func compareTS(a, b string) int {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	ai, _ := strconv.ParseInt(as, 10, 64)
	bi, _ := strconv.ParseInt(bs, 10, 64)
	if ai != bi {
		if ai < bi {
			return -1
		}
		return 1
	}
	return strings.Compare(af, bf)
}
