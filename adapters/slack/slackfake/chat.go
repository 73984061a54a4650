package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxTextLen is where Slack refuses a message text (msg_too_long).
const maxTextLen = 40000

// The Web API handlers below run with s.mu held; they return the response fields
// for ok:true, or an error code and optional response_metadata messages.

// contentLocked reads text and blocks of a post or update.
func (s *Server) contentLocked(a args) (text string, blocks []byte, code string, msgs []string) {
	text = a.str("text")
	if utf8.RuneCountInString(text) > maxTextLen {
		return "", nil, "msg_too_long", nil
	}
	if raw := a.raw("blocks"); raw != nil {
		blocks, code, msgs = s.normalizeBlocksLocked(raw, maxMessageBlocks, "/blocks")
		if code != "" {
			return "", nil, code, msgs
		}
		if string(blocks) == "[]" {
			blocks = nil
		}
	}
	return text, blocks, "", nil
}

// threadParent resolves thread_ts to the parent's ts: a reply's ts means its
// parent, and a missing parent means Slack posts the message un-threaded.
func threadParent(ch *channel, threadTS string) string {
	if threadTS == "" {
		return ""
	}
	p := ch.find(threadTS)
	if p == nil {
		return ""
	}
	if p.ThreadTS != "" {
		return p.ThreadTS
	}
	return p.TS
}

func (s *Server) chatPostMessage(a args) (map[string]any, string, []string) {
	ch, code := s.lookupChannelLocked(a.str("channel"))
	if code != "" {
		return nil, code, nil
	}
	if code := s.postFail[ch.id]; code != "" {
		return nil, code, nil
	}
	text, blocks, code, msgs := s.contentLocked(a)
	if code != "" {
		return nil, code, msgs
	}
	if text == "" && blocks == nil && a.raw("attachments") == nil {
		return nil, "no_text", nil
	}
	meta, code := checkMetadata(a.raw("metadata"))
	if code != "" {
		return nil, code, nil
	}
	m := s.postLocked(ch, text, blocks, threadParent(ch, a.str("thread_ts")))
	m.Metadata = meta
	ch.lastPost = s.cfg.Now()
	m.ReplyBroadcast = m.ThreadTS != "" && a.str("reply_broadcast") == "true"
	return map[string]any{"channel": ch.id, "ts": m.TS, "message": s.messageJSON(m, ch)}, "", nil
}

// postLocked stores a message from the app and echoes it as an event.
func (s *Server) postLocked(ch *channel, text string, blocks []byte, threadTS string) *Message {
	m := &Message{
		Channel:  ch.id,
		TS:       s.nextTSLocked(),
		ThreadTS: threadTS,
		User:     s.cfg.BotUserID,
		BotID:    s.cfg.BotID,
		Text:     text,
		Blocks:   blocks,
	}
	ch.messages = append(ch.messages, m)
	if !s.cfg.NoBotEcho {
		s.enqueueEventLocked(s.messageEventLocked(m, ch))
	}
	s.notifyLocked()
	return m
}

// maxMetadataLen is where this fake refuses message metadata as too large.
const maxMetadataLen = 8000

// checkMetadata validates a post's metadata argument as Slack does: a JSON
// object with a non-empty event_type and an object event_payload.
func checkMetadata(raw []byte) (json.RawMessage, string) {
	if raw == nil {
		return nil, ""
	}
	if len(raw) > maxMetadataLen {
		return nil, "metadata_too_large"
	}
	var meta struct {
		EventType    string          `json:"event_type"`
		EventPayload json.RawMessage `json:"event_payload"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, "invalid_metadata_format"
	}
	var payload map[string]any
	if meta.EventType == "" || json.Unmarshal(meta.EventPayload, &payload) != nil || payload == nil {
		return nil, "invalid_metadata_schema"
	}
	return json.RawMessage(raw), ""
}

// withMetadata adds a message's metadata to its JSON when the call asked for
// it (include_all_metadata), as conversations.history and .replies do.
func withMetadata(out map[string]any, m *Message, a args) map[string]any {
	if m.Metadata != nil && (a.str("include_all_metadata") == "1" || a.str("include_all_metadata") == "true") {
		out["metadata"] = m.Metadata
	}
	return out
}

func (s *Server) chatUpdate(a args) (map[string]any, string, []string) {
	ch, code := s.lookupChannelLocked(a.str("channel"))
	if code != "" {
		return nil, code, nil
	}
	m := ch.find(a.str("ts"))
	if m == nil {
		return nil, "message_not_found", nil
	}
	if m.BotID != s.cfg.BotID {
		return nil, "cant_update_message", nil
	}
	text, blocks, code, msgs := s.contentLocked(a)
	if code != "" {
		return nil, code, msgs
	}
	if !a.has("text") && !a.has("blocks") {
		return nil, "no_text", nil
	}
	if a.has("text") {
		m.Text = text
	}
	if a.has("blocks") {
		m.Blocks = blocks
	}
	m.Edits++
	s.notifyLocked()
	return map[string]any{"channel": ch.id, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m, ch)}, "", nil
}

func (s *Server) chatDelete(a args) (map[string]any, string, []string) {
	ch, code := s.lookupChannelLocked(a.str("channel"))
	if code != "" {
		return nil, code, nil
	}
	m := ch.find(a.str("ts"))
	if m == nil {
		return nil, "message_not_found", nil
	}
	if m.BotID != s.cfg.BotID {
		return nil, "cant_delete_message", nil
	}
	ch.remove(m.TS)
	s.notifyLocked()
	return map[string]any{"channel": ch.id, "ts": m.TS}, "", nil
}

func (s *Server) chatPostEphemeral(a args) (map[string]any, string, []string) {
	ch, code := s.lookupChannelLocked(a.str("channel"))
	if code != "" {
		return nil, code, nil
	}
	userID := a.str("user")
	u := s.users[userID]
	if u == nil || u.Deleted || (ch.im && ch.user != userID) {
		return nil, "user_not_in_channel", nil
	}
	text, blocks, code, msgs := s.contentLocked(a)
	if code != "" {
		return nil, code, msgs
	}
	if text == "" && blocks == nil && a.raw("attachments") == nil {
		return nil, "no_text", nil
	}
	e := s.ephemeralLocked(ch, userID, text, blocks, threadParent(ch, a.str("thread_ts")), "chat.postEphemeral")
	return map[string]any{"message_ts": e.TS}, "", nil
}

// ephemeralLocked stores an ephemeral message.
func (s *Server) ephemeralLocked(ch *channel, userID, text string, blocks []byte, threadTS, source string) *Ephemeral {
	e := &Ephemeral{
		Channel:  ch.id,
		User:     userID,
		TS:       s.nextTSLocked(),
		ThreadTS: threadTS,
		Text:     text,
		Blocks:   blocks,
		Source:   source,
	}
	ch.ephem = append(ch.ephem, e)
	s.notifyLocked()
	return e
}

func (s *Server) chatGetPermalink(a args) (map[string]any, string, []string) {
	ch, code := s.lookupChannelLocked(a.str("channel"))
	if code != "" {
		return nil, code, nil
	}
	m := ch.find(a.str("message_ts"))
	if m == nil {
		return nil, "message_not_found", nil
	}
	link := "https://" + s.cfg.TeamDomain + ".slack.com/archives/" + ch.id + "/p" + strings.ReplaceAll(m.TS, ".", "")
	if m.ThreadTS != "" {
		link += "?thread_ts=" + m.ThreadTS + "&cid=" + ch.id
	}
	return map[string]any{"channel": ch.id, "permalink": link}, "", nil
}

func (s *Server) conversationsOpen(a args) (map[string]any, string, []string) {
	users, chID := a.str("users"), a.str("channel")
	full := a.str("return_im") == "true"
	if chID != "" {
		ch := s.channels[chID]
		if ch == nil {
			return nil, "channel_not_found", nil
		}
		if !ch.im {
			return nil, "method_not_supported_for_channel_type", nil
		}
		return map[string]any{"channel": s.channelJSON(ch, full), "no_op": true, "already_open": true}, "", nil
	}
	if users == "" {
		return nil, "users_list_not_supplied", nil
	}
	list := strings.Split(users, ",")
	if len(list) > 1 {
		return nil, "method_not_supported_for_channel_type", []string{"slackfake: multi-person DMs are not modelled"}
	}
	id := strings.TrimSpace(list[0])
	u := s.users[id]
	if u == nil {
		return nil, "user_not_found", nil
	}
	if code := s.dmFail[id]; code != "" {
		return nil, code, nil
	}
	if u.IsBot {
		return nil, "cannot_dm_bot", nil
	}
	if u.Deleted {
		return nil, "user_disabled", nil
	}
	ch, existed := s.dmLocked(id)
	resp := map[string]any{"channel": s.channelJSON(ch, full)}
	if existed {
		resp["no_op"] = true
		resp["already_open"] = true
	}
	s.notifyLocked()
	return resp, "", nil
}

func (s *Server) conversationsInfo(a args) (map[string]any, string, []string) {
	ch := s.channels[a.str("channel")]
	if ch == nil {
		return nil, "channel_not_found", nil
	}
	return map[string]any{"channel": s.channelJSON(ch, true)}, "", nil
}

// tsMicros turns a ts into microseconds for ordering; malformed values sort first.
func tsMicros(ts string) int64 {
	sec, frac, _ := strings.Cut(ts, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0
	}
	frac = (frac + "000000")[:6]
	f, _ := strconv.ParseInt(frac, 10, 64)
	return n*1_000_000 + f
}

func (s *Server) conversationsHistory(a args) (map[string]any, string, []string) {
	ch := s.channels[a.str("channel")]
	if ch == nil {
		return nil, "channel_not_found", nil
	}
	limit, before, code := s.page(a, 100, "before:")
	if code != "" {
		return nil, code, nil
	}
	inclusive := a.str("inclusive") == "1" || a.str("inclusive") == "true"
	oldest, latest := a.str("oldest"), a.str("latest")
	var msgs []any
	next := ""
	for i := len(ch.messages) - 1; i >= 0; i-- { // newest first
		m := ch.messages[i]
		if m.ThreadTS != "" && !m.ReplyBroadcast {
			continue
		}
		if !inRange(m.TS, oldest, latest, inclusive) || (before != "" && tsMicros(m.TS) >= tsMicros(before)) {
			continue
		}
		if len(msgs) == limit {
			next = cursor("before:", msgs)
			break
		}
		msgs = append(msgs, withMetadata(s.messageJSON(m, ch), m, a))
	}
	return map[string]any{
		"messages":          nonNil(msgs),
		"has_more":          next != "",
		"pin_count":         0,
		"response_metadata": map[string]any{"next_cursor": next},
	}, "", nil
}

// page reads a history method's limit and cursor: the limit is capped at
// Config.HistoryLimit (which is then also the default), and the cursor,
// made by cursor with prefix, holds the ts the next page starts from.
func (s *Server) page(a args, def int, prefix string) (limit int, from, code string) {
	limit = def
	if s.cfg.HistoryLimit > 0 {
		limit = s.cfg.HistoryLimit
	}
	if n, err := strconv.Atoi(a.str("limit")); err == nil && n > 0 {
		limit = n
		if s.cfg.HistoryLimit > 0 {
			limit = min(n, s.cfg.HistoryLimit)
		}
	}
	if c := a.str("cursor"); c != "" {
		raw, err := base64.StdEncoding.DecodeString(c)
		ts, ok := strings.CutPrefix(string(raw), prefix)
		if err != nil || !ok {
			return 0, "", "invalid_cursor"
		}
		from = ts
	}
	return limit, from, ""
}

// cursor continues a page after its last message.
func cursor(prefix string, page []any) string {
	last, _ := page[len(page)-1].(map[string]any)
	ts, _ := last["ts"].(string)
	return base64.StdEncoding.EncodeToString([]byte(prefix + ts))
}

func inRange(ts, oldest, latest string, inclusive bool) bool {
	t := tsMicros(ts)
	if oldest != "" {
		o := tsMicros(oldest)
		if t < o || (t == o && !inclusive) {
			return false
		}
	}
	if latest != "" {
		l := tsMicros(latest)
		if t > l || (t == l && !inclusive) {
			return false
		}
	}
	return true
}

func nonNil(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

func (s *Server) conversationsReplies(a args) (map[string]any, string, []string) {
	ch := s.channels[a.str("channel")]
	if ch == nil {
		return nil, "channel_not_found", nil
	}
	parentTS := threadParent(ch, a.str("ts"))
	if parentTS == "" {
		return nil, "thread_not_found", nil
	}
	limit, after, code := s.page(a, math.MaxInt, "after:")
	if code != "" {
		return nil, code, nil
	}
	var msgs []any
	if after == "" {
		parent := ch.find(parentTS)
		msgs = append(msgs, withMetadata(s.messageJSON(parent, ch), parent, a))
	}
	oldest := a.str("oldest")
	next := ""
	for _, m := range ch.messages { // oldest first
		if m.ThreadTS != parentTS || (oldest != "" && tsMicros(m.TS) < tsMicros(oldest)) || (after != "" && tsMicros(m.TS) <= tsMicros(after)) {
			continue
		}
		if len(msgs) == limit {
			next = cursor("after:", msgs)
			break
		}
		msgs = append(msgs, withMetadata(s.messageJSON(m, ch), m, a))
	}
	return map[string]any{
		"messages":          msgs,
		"has_more":          next != "",
		"response_metadata": map[string]any{"next_cursor": next},
	}, "", nil
}

func (s *Server) usersInfo(a args) (map[string]any, string, []string) {
	u := s.users[a.str("user")]
	if u == nil {
		return nil, "user_not_found", nil
	}
	return map[string]any{"user": s.userJSON(u)}, "", nil
}

func (s *Server) usergroupsUsersList(a args) (map[string]any, string, []string) {
	members, ok := s.usergroups[a.str("usergroup")]
	if !ok {
		return nil, "no_such_subteam", nil
	}
	return map[string]any{"users": append([]string{}, members...)}, "", nil
}
