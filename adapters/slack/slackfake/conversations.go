package slackfake

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
)

// conversationsList serves conversations.list as Slack does for a bot token:
// types is a comma-separated list of public_channel (the default),
// private_channel, mpim and im; private channels are listed only when the bot
// is a member (always, in the fake); limit defaults to 100 and is capped at
// 1000; pages are chained with an opaque response_metadata.next_cursor.
// Archived channels are not modelled, so exclude_archived changes nothing.
func (s *Server) conversationsList(a args) (map[string]any, string, []string) {
	types := map[string]bool{}
	for _, t := range strings.Split(a.str("types"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[t] = true
		}
	}
	if len(types) == 0 {
		types["public_channel"] = true
	}
	for t := range types {
		switch t {
		case "public_channel", "private_channel", "mpim", "im":
		default:
			return nil, "invalid_types", nil
		}
	}
	limit := 100
	if v := a.str("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, "invalid_limit", nil
		}
		limit = min(n, 1000)
	}
	after := ""
	if c := a.str("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		id, ok := strings.CutPrefix(string(raw), "next:")
		if err != nil || !ok {
			return nil, "invalid_cursor", nil
		}
		after = id
	}
	ids := make([]string, 0, len(s.channels))
	for id, ch := range s.channels {
		var kind string
		switch {
		case ch.im:
			kind = "im"
		case ch.public:
			kind = "public_channel"
		default:
			kind = "private_channel"
		}
		if types[kind] && id > after {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	next := ""
	if len(ids) > limit {
		next = base64.StdEncoding.EncodeToString([]byte("next:" + ids[limit-1]))
		ids = ids[:limit]
	}
	chans := make([]any, 0, len(ids))
	for _, id := range ids {
		chans = append(chans, s.channelJSON(s.channels[id], true))
	}
	return map[string]any{
		"channels":          chans,
		"response_metadata": map[string]any{"next_cursor": next},
	}, "", nil
}
