package discordfake

import (
	"net/http"
	"slices"
)

// RouteListActiveThreads lists a guild's active threads, private ones the bot
// can see included, as Discord does for bots.
const RouteListActiveThreads = "GET /guilds/{guild_id}/threads/active"

// listActiveThreads handles GET /guilds/{id}/threads/active: every thread of
// the guild (the fake archives none), oldest first, with the bot's thread
// memberships.
func (s *Server) listActiveThreads(q *request) response {
	g := s.guilds[q.path("guild_id")]
	if g == nil {
		return apiError(http.StatusNotFound, 10004, "Unknown Guild")
	}
	var threads []*channel
	for _, c := range s.channels {
		if c.GuildID == g.id && c.isThread() {
			threads = append(threads, c)
		}
	}
	slices.SortFunc(threads, func(a, b *channel) int { return compareSnowflakes(a.ID, b.ID) })
	out, members := []any{}, []any{}
	for _, t := range threads {
		out = append(out, s.wireChannel(t))
		if t.hasMember(s.opts.BotUserID) {
			members = append(members, map[string]any{"id": t.ID, "user_id": s.opts.BotUserID, "flags": 0})
		}
	}
	return okJSON(map[string]any{"threads": out, "members": members})
}
