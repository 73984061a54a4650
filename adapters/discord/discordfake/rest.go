package discordfake

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Routes, named as Discord's documentation writes them (method and path under
// /api/v9). Use them with RateLimit, Fail, LoseResponse, Hold and Calls.
const (
	RouteGateway                = "GET /gateway"
	RouteGatewayBot             = "GET /gateway/bot"
	RouteGetCurrentUser         = "GET /users/@me"
	RouteGetUser                = "GET /users/{user_id}"
	RouteCreateDM               = "POST /users/@me/channels"
	RouteGetChannel             = "GET /channels/{channel_id}"
	RouteGetMessages            = "GET /channels/{channel_id}/messages"
	RouteGetMessage             = "GET /channels/{channel_id}/messages/{message_id}"
	RouteCreateMessage          = "POST /channels/{channel_id}/messages"
	RouteEditMessage            = "PATCH /channels/{channel_id}/messages/{message_id}"
	RouteDeleteMessage          = "DELETE /channels/{channel_id}/messages/{message_id}"
	RouteStartThread            = "POST /channels/{channel_id}/threads"
	RouteStartThreadFromMessage = "POST /channels/{channel_id}/messages/{message_id}/threads"
	RouteAddThreadMember        = "PUT /channels/{channel_id}/thread-members/{user_id}"
	RouteRemoveThreadMember     = "DELETE /channels/{channel_id}/thread-members/{user_id}"
	RouteListThreadMembers      = "GET /channels/{channel_id}/thread-members"
	RouteGetGuildMember         = "GET /guilds/{guild_id}/members/{user_id}"
	RouteInteractionCallback    = "POST /interactions/{interaction_id}/{interaction_token}/callback"
	RouteCreateFollowup         = "POST /webhooks/{application_id}/{interaction_token}"
	RouteGetWebhookMessage      = "GET /webhooks/{application_id}/{interaction_token}/messages/{message_id}"
	RouteEditWebhookMessage     = "PATCH /webhooks/{application_id}/{interaction_token}/messages/{message_id}"
	RouteDeleteWebhookMessage   = "DELETE /webhooks/{application_id}/{interaction_token}/messages/{message_id}"
	RouteGetGlobalCommands      = "GET /applications/{application_id}/commands"
	RouteCreateGlobalCommand    = "POST /applications/{application_id}/commands"
	RouteOverwriteGlobalCmds    = "PUT /applications/{application_id}/commands"
	RouteGetGuildCommands       = "GET /applications/{application_id}/guilds/{guild_id}/commands"
	RouteCreateGuildCommand     = "POST /applications/{application_id}/guilds/{guild_id}/commands"
	RouteOverwriteGuildCmds     = "PUT /applications/{application_id}/guilds/{guild_id}/commands"

	// RouteGlobal names the global rate limit in RateLimit: the next bot
	// requests, whatever their route, get a global 429.
	RouteGlobal = "global"
)

const apiPrefix = "/api/v9"

// Route classes: which requests need the bot token and count against the
// global limit. Interaction callbacks and webhooks are authenticated by the
// token in their path and exempt from the global limit.
const (
	classBot      = iota // Authorization: Bot <token>, global limit
	classOpen            // no authorization, no limits (GET /gateway)
	classWebhooks        // token in the path, per-route limit only
)

type routeSpec struct {
	name  string
	class int
	major []string // path values that key the bucket
	h     func(*request) response
}

type request struct {
	r    *http.Request
	body []byte
	now  time.Time
}

func (q *request) path(name string) string { return q.r.PathValue(name) }

type response struct {
	status int
	header http.Header
	body   any
}

func (s *Server) routeTable() []routeSpec {
	ch := []string{"channel_id"}
	wh := []string{"application_id", "interaction_token"}
	return []routeSpec{
		{RouteGateway, classOpen, nil, s.getGateway},
		{RouteGatewayBot, classBot, nil, s.getGatewayBot},
		{RouteGetCurrentUser, classBot, nil, s.getCurrentUser},
		{RouteGetUser, classBot, nil, s.getUser},
		{RouteCreateDM, classBot, nil, s.createDM},
		{RouteGetChannel, classBot, ch, s.getChannel},
		{RouteGetMessages, classBot, ch, s.getMessages},
		{RouteGetMessage, classBot, ch, s.getMessage},
		{RouteCreateMessage, classBot, ch, s.createMessage},
		{RouteEditMessage, classBot, ch, s.editMessage},
		{RouteDeleteMessage, classBot, ch, s.deleteMessage},
		{RouteStartThread, classBot, ch, s.startThread},
		{RouteStartThreadFromMessage, classBot, ch, s.startThreadFromMessage},
		{RouteAddThreadMember, classBot, ch, s.addThreadMember},
		{RouteRemoveThreadMember, classBot, ch, s.removeThreadMember},
		{RouteListThreadMembers, classBot, ch, s.listThreadMembers},
		{RouteGetGuildMember, classBot, []string{"guild_id"}, s.getGuildMember},
		{RouteListActiveThreads, classBot, []string{"guild_id"}, s.listActiveThreads},
		{RouteInteractionCallback, classWebhooks, []string{"interaction_id"}, s.interactionCallback},
		{RouteCreateFollowup, classWebhooks, wh, s.createFollowup},
		{RouteGetWebhookMessage, classWebhooks, wh, s.getWebhookMessage},
		{RouteEditWebhookMessage, classWebhooks, wh, s.editWebhookMessage},
		{RouteDeleteWebhookMessage, classWebhooks, wh, s.deleteWebhookMessage},
		{RouteGetGlobalCommands, classBot, nil, s.getCommands},
		{RouteCreateGlobalCommand, classBot, nil, s.createCommand},
		{RouteOverwriteGlobalCmds, classBot, nil, s.overwriteCommands},
		{RouteGetGuildCommands, classBot, []string{"guild_id"}, s.getCommands},
		{RouteCreateGuildCommand, classBot, []string{"guild_id"}, s.createCommand},
		{RouteOverwriteGuildCmds, classBot, []string{"guild_id"}, s.overwriteCommands},
	}
}

func knownRoute(name string) bool {
	switch name {
	case RouteGateway, RouteGatewayBot, RouteGetCurrentUser, RouteGetUser, RouteCreateDM,
		RouteGetChannel, RouteGetMessages, RouteGetMessage, RouteCreateMessage, RouteEditMessage,
		RouteDeleteMessage, RouteStartThread, RouteStartThreadFromMessage, RouteAddThreadMember,
		RouteRemoveThreadMember, RouteListThreadMembers, RouteGetGuildMember, RouteListActiveThreads, RouteInteractionCallback,
		RouteCreateFollowup, RouteGetWebhookMessage, RouteEditWebhookMessage, RouteDeleteWebhookMessage,
		RouteGetGlobalCommands, RouteCreateGlobalCommand, RouteOverwriteGlobalCmds,
		RouteGetGuildCommands, RouteCreateGuildCommand, RouteOverwriteGuildCmds:
		return true
	}
	return false
}

func (s *Server) routes(mux *http.ServeMux) {
	for _, rt := range s.routeTable() {
		method, path, _ := strings.Cut(rt.name, " ")
		mux.HandleFunc(method+" "+apiPrefix+path, s.wrap(rt))
	}
	mux.HandleFunc(apiPrefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeResponse(w, apiError(http.StatusNotFound, 0, "404: Not Found"))
	})
}

func apiError(status, code int, msg string) response {
	return response{status: status, body: map[string]any{"message": msg, "code": code}}
}

// invalidForm renders a 50035 Invalid Form Body error with Discord's nested
// errors object.
func invalidForm(e *formError) response {
	var errs any = map[string]any{"_errors": []any{map[string]any{"code": e.code, "message": e.msg}}}
	for i := len(e.path) - 1; i >= 0; i-- {
		errs = map[string]any{e.path[i]: errs}
	}
	return response{status: http.StatusBadRequest, body: map[string]any{"message": "Invalid Form Body", "code": 50035, "errors": errs}}
}

func writeResponse(w http.ResponseWriter, resp response) {
	maps.Copy(w.Header(), resp.header)
	if resp.body == nil {
		w.WriteHeader(resp.status)
		return
	}
	b, err := json.Marshal(resp.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(b)
}

func (s *Server) wrap(rt routeSpec) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			writeResponse(w, apiError(http.StatusBadRequest, 0, "400: Bad Request"))
			return
		}
		if !s.Wait(r.Context(), rt.name) {
			return
		}
		resp := s.serve(rt, &request{r: r, body: body})
		writeResponse(w, resp)
	}
}

// serve applies authentication, scripted faults and rate limits, then runs
// the handler, all under s.mu.
func (s *Server) serve(rt routeSpec, q *request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	q.now = s.now()
	s.requests[rt.name]++
	resp := s.serveLocked(rt, q)
	s.recordEffect(rt.name, q, resp)
	switch resp.status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		s.invalid++
		s.opts.Logf("discordfake: %s %s -> %d", q.r.Method, q.r.URL.Path, resp.status)
	}
	if resp.status == http.StatusTooManyRequests {
		s.rateLimited++
		if resp.header.Get("X-RateLimit-Global") != "" {
			s.limited[RouteGlobal]++
		} else {
			s.limited[rt.name]++
		}
	}
	return resp
}

func (s *Server) serveLocked(rt routeSpec, q *request) response {
	if rt.class == classOpen {
		return rt.h(q)
	}
	if rt.class == classBot && q.r.Header.Get("Authorization") != "Bot "+s.opts.Token {
		return apiError(http.StatusUnauthorized, 0, "401: Unauthorized")
	}
	if strings.HasPrefix(q.r.Header.Get("Content-Type"), "multipart/") {
		return apiError(http.StatusBadRequest, 0, "discordfake: file uploads (multipart bodies) are not supported")
	}
	real := time.Now()
	if rt.class == classBot {
		if f, ok := s.Take(RouteGlobal); ok {
			if f.RateLimited() {
				return tooMany(f.RetryAfter, true)
			}
			return apiError(f.Status, 0, fmt.Sprintf("%d: %s", f.Status, http.StatusText(f.Status)))
		}
		if g := s.opts.GlobalLimit; g.Requests > 0 {
			if s.global.limit == 0 {
				s.global = bucket{limit: g.Requests, window: g.Window}
			}
			s.global.roll(real)
			if s.global.count >= s.global.limit {
				return tooMany(s.global.resetAt.Sub(real), true)
			}
			s.global.count++
		}
	}

	key := rt.name
	for _, p := range rt.major {
		key += " " + q.path(p)
	}
	b := s.buckets[key]
	if b == nil {
		lim := s.opts.RouteLimit
		if rt.name == RouteCreateMessage {
			lim = s.opts.MessageLimit
		}
		b = &bucket{limit: lim.Requests, window: lim.Window}
		s.buckets[key] = b
	}
	b.roll(real)

	if f, ok := s.Take(rt.name); ok {
		if f.RateLimited() && !f.Lost {
			resp := tooMany(f.RetryAfter, false)
			rateHeaders(resp.header, rt.name, b, 0, f.RetryAfter, real)
			return resp
		}
		if f.Lost {
			rt.h(q)
		}
		return apiError(f.Status, 0, fmt.Sprintf("%d: %s", f.Status, http.StatusText(f.Status)))
	}
	if b.count >= b.limit {
		resp := tooMany(b.resetAt.Sub(real), false)
		rateHeaders(resp.header, rt.name, b, 0, b.resetAt.Sub(real), real)
		return resp
	}
	b.count++
	resp := rt.h(q)
	if resp.header == nil {
		resp.header = http.Header{}
	}
	rateHeaders(resp.header, rt.name, b, b.limit-b.count, b.resetAt.Sub(real), real)
	return resp
}

func okJSON(body any) response { return response{status: http.StatusOK, body: body} }

func noContent() response { return response{status: http.StatusNoContent} }

func unknownChannel() response { return apiError(http.StatusNotFound, 10003, "Unknown Channel") }

func unknownMessage() response { return apiError(http.StatusNotFound, 10008, "Unknown Message") }

func unknownMember() response { return apiError(http.StatusNotFound, 10007, "Unknown Member") }

func badJSON() response {
	return invalidForm(newFormError("MODEL_TYPE_CONVERT", "Could not interpret the body as JSON", "_root"))
}

func (s *Server) getGateway(*request) response {
	return okJSON(map[string]any{"url": s.wsURL})
}

func (s *Server) getGatewayBot(*request) response {
	return okJSON(map[string]any{
		"url":    s.wsURL,
		"shards": 1,
		"session_start_limit": map[string]any{
			"total": 1000, "remaining": max(1000-s.identifies, 0), "reset_after": 86400000, "max_concurrency": 1,
		},
	})
}

func (s *Server) getCurrentUser(*request) response { return okJSON(s.botUserWire()) }

func (s *Server) getUser(q *request) response {
	id := q.path("user_id")
	if s.users[id] == nil {
		return apiError(http.StatusNotFound, 10013, "Unknown User")
	}
	return okJSON(s.wireUser(id))
}

func (s *Server) createDM(q *request) response {
	var b struct {
		RecipientID string `json:"recipient_id"`
	}
	if json.Unmarshal(q.body, &b) != nil {
		return badJSON()
	}
	if b.RecipientID == "" {
		return invalidForm(newFormError("BASE_TYPE_REQUIRED", "This field is required", "recipient_id"))
	}
	if s.users[b.RecipientID] == nil {
		return apiError(http.StatusNotFound, 10013, "Unknown User")
	}
	return okJSON(s.wireChannel(s.dmChannel(b.RecipientID)))
}

func (s *Server) getChannel(q *request) response {
	c := s.channels[q.path("channel_id")]
	if c == nil {
		return unknownChannel()
	}
	if resp, ok := s.botMay(c, 0); !ok {
		return resp
	}
	return okJSON(s.wireChannel(c))
}

// getMessages lists a channel's messages newest first, honouring limit
// (default 50, max 100), before and after.
func (s *Server) getMessages(q *request) response {
	c := s.channels[q.path("channel_id")]
	if c == nil {
		return unknownChannel()
	}
	if resp, ok := s.botMay(c, PermReadMessageHistory); !ok {
		return resp
	}
	v := q.r.URL.Query()
	limit := 50
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return invalidForm(newFormError("NUMBER_TYPE_MAX", "int value should be between 1 and 100.", "limit"))
		}
		limit = n
	}
	before, after := v.Get("before"), v.Get("after")
	out := []any{}
	for i := len(c.history) - 1; i >= 0 && len(out) < limit; i-- {
		m := s.messages[c.history[i]]
		if m == nil || m.Deleted || m.Ephemeral {
			continue
		}
		if before != "" && compareSnowflakes(m.ID, before) >= 0 {
			continue
		}
		if after != "" && compareSnowflakes(m.ID, after) <= 0 {
			continue
		}
		out = append(out, s.wireMessage(m, nil))
	}
	return okJSON(out)
}

// channelMessage finds a visible message of a channel.
func (s *Server) channelMessage(channelID, messageID string) *Message {
	m := s.messages[messageID]
	if m == nil || m.Deleted || m.Ephemeral || m.ChannelID != channelID {
		return nil
	}
	return m
}

func (s *Server) getMessage(q *request) response {
	c := s.channels[q.path("channel_id")]
	if c == nil {
		return unknownChannel()
	}
	if resp, ok := s.botMay(c, PermReadMessageHistory); !ok {
		return resp
	}
	m := s.channelMessage(q.path("channel_id"), q.path("message_id"))
	if m == nil {
		return unknownMessage()
	}
	return okJSON(s.wireMessage(m, nil))
}

// messageBody is the JSON of message creation and edits, follow-ups and
// interaction responses included.
type messageBody struct {
	Content          *string         `json:"content"`
	Components       json.RawMessage `json:"components"`
	Embeds           json.RawMessage `json:"embeds"`
	StickerIDs       json.RawMessage `json:"sticker_ids"`
	Poll             json.RawMessage `json:"poll"`
	Flags            *int            `json:"flags"`
	Nonce            json.RawMessage `json:"nonce"`
	EnforceNonce     bool            `json:"enforce_nonce"`
	MessageReference *struct {
		MessageID       string `json:"message_id"`
		ChannelID       string `json:"channel_id"`
		GuildID         string `json:"guild_id"`
		FailIfNotExists *bool  `json:"fail_if_not_exists"`
	} `json:"message_reference"`
}

func (b *messageBody) content() string {
	if b.Content == nil {
		return ""
	}
	return *b.Content
}

func (b *messageBody) flags() int {
	if b.Flags == nil {
		return 0
	}
	return *b.Flags
}

// check validates content and components as message creation does; empty
// reports a message with nothing to show.
func (b *messageBody) check(creating bool) (resp response, bad bool) {
	if utf8.RuneCountInString(b.content()) > 2000 {
		return invalidForm(newFormError("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.", "content")), true
	}
	if err := validateMessageComponents(normalizeArray(b.Components), b.flags()); err != nil {
		return invalidForm(err), true
	}
	if creating && b.content() == "" && normalizeArray(b.Components) == nil && normalizeArray(b.Embeds) == nil &&
		normalizeArray(b.StickerIDs) == nil && normalizeArray(b.Poll) == nil {
		return apiError(http.StatusBadRequest, 50006, "Cannot send an empty message"), true
	}
	return response{}, false
}

// parseNonce accepts a string or integer nonce of at most 25 characters.
func parseNonce(raw json.RawMessage) (string, *formError) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var str string
	if json.Unmarshal(raw, &str) != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return "", newFormError("MODEL_TYPE_CONVERT", "Nonce must be a string or an integer", "nonce")
		}
		if _, err := n.Int64(); err != nil {
			return "", newFormError("MODEL_TYPE_CONVERT", "Nonce must be a string or an integer", "nonce")
		}
		str = n.String()
	}
	if utf8.RuneCountInString(str) > 25 {
		return "", newFormError("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.", "nonce")
	}
	return str, nil
}

// createMessage handles POST /channels/{id}/messages.
func (s *Server) createMessage(q *request) response {
	c := s.channels[q.path("channel_id")]
	if c == nil {
		return unknownChannel()
	}
	var b messageBody
	if json.Unmarshal(q.body, &b) != nil {
		return badJSON()
	}
	if c.Type == ChannelTypeDM && s.blocked[c.RecipientID] {
		return apiError(http.StatusForbidden, 50007, "Cannot send messages to this user")
	}
	if c.Type != ChannelTypeGuildText && c.Type != ChannelTypeDM && !c.isThread() {
		return apiError(http.StatusBadRequest, 50008, "Cannot send messages in a non-text channel")
	}
	need := sendPermission(c)
	if b.MessageReference != nil {
		need |= PermReadMessageHistory
	}
	if resp, ok := s.botMay(c, need); !ok {
		return resp
	}
	nonce, ferr := parseNonce(b.Nonce)
	if ferr != nil {
		return invalidForm(ferr)
	}
	if resp, bad := b.check(true); bad {
		return resp
	}
	key := c.ID + " " + s.opts.BotUserID + " " + nonce
	if b.EnforceNonce && nonce != "" {
		if e, ok := s.nonces[key]; ok && q.now.Sub(e.at) < s.opts.NonceWindow {
			if m := s.messages[e.messageID]; m != nil {
				return okJSON(s.wireMessage(m, nil))
			}
		}
	}
	m := &Message{
		ID: s.nextID(), ChannelID: c.ID, GuildID: c.GuildID, Author: *s.users[s.opts.BotUserID],
		Content: b.content(), Components: normalizeArray(b.Components), Embeds: normalizeArray(b.Embeds),
		Flags: b.flags() & (1<<2 | 1<<12 | flagComponentsV2), Nonce: nonce, Timestamp: q.now,
	}
	if r := b.MessageReference; r != nil {
		refCh := r.ChannelID
		if refCh == "" {
			refCh = c.ID
		}
		ref := s.channelMessage(refCh, r.MessageID)
		if ref == nil && (r.FailIfNotExists == nil || *r.FailIfNotExists) {
			return invalidForm(newFormError("MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message", "message_reference"))
		}
		if ref != nil {
			m.Reference = &MessageReference{MessageID: ref.ID, ChannelID: ref.ChannelID, GuildID: ref.GuildID}
			m.Type = 19
		}
	}
	m.Mentions = s.mentions(m)
	s.storeMessage(m)
	if nonce != "" {
		s.nonces[key] = nonceEntry{messageID: m.ID, at: q.now}
	}
	return okJSON(s.wireMessage(m, nil))
}

// mentions computes the users a message pings: <@id> in the content and, for
// replies, the replied-to author (Discord's default).
func (s *Server) mentions(m *Message) []string {
	ids := mentionedIDs(m.Content)
	if m.Reference != nil {
		if ref := s.messages[m.Reference.MessageID]; ref != nil && !slices.Contains(ids, ref.Author.ID) {
			ids = append(ids, ref.Author.ID)
		}
	}
	var out []string
	for _, id := range ids {
		if s.users[id] != nil {
			out = append(out, id)
		}
	}
	return out
}

// storeMessage saves a new message and dispatches MESSAGE_CREATE unless it is
// ephemeral. Callers hold s.mu.
func (s *Server) storeMessage(m *Message) {
	s.messages[m.ID] = m
	if m.Ephemeral {
		return
	}
	c := s.channels[m.ChannelID]
	c.history = append(c.history, m.ID)
	c.lastMsg = m.ID
	c.msgCount++
	s.dispatchMessage("MESSAGE_CREATE", m)
}

// withheld reports whether a session without the message content intent gets
// the message blanked: guild messages not from the bot that do not mention it.
func (s *Server) withheld(m *Message, intents int) bool {
	if intents&IntentMessageContent != 0 || m.GuildID == "" || m.Author.ID == s.opts.BotUserID {
		return false
	}
	return !slices.Contains(m.Mentions, s.opts.BotUserID)
}

// dispatchMessage sends MESSAGE_CREATE or MESSAGE_UPDATE to the sessions whose
// intents cover the channel. Callers hold s.mu.
func (s *Server) dispatchMessage(t string, m *Message) {
	intent := IntentGuildMessages
	if m.GuildID == "" {
		intent = IntentDirectMessages
	}
	s.broadcastGuild(t, m.GuildID, intent, func(sess *session) any {
		w := s.wireMessage(m, sess)
		if g := s.guilds[m.GuildID]; g != nil {
			if mem := s.wireMember(g, m.Author.ID, false, false); mem != nil {
				w["member"] = mem
			}
		}
		return w
	})
}

func (s *Server) dispatchDelete(m *Message) {
	intent := IntentGuildMessages
	if m.GuildID == "" {
		intent = IntentDirectMessages
	}
	d := map[string]any{"id": m.ID, "channel_id": m.ChannelID}
	if m.GuildID != "" {
		d["guild_id"] = m.GuildID
	}
	s.broadcastGuild("MESSAGE_DELETE", m.GuildID, intent, func(*session) any { return d })
}

// applyEdit changes the fields present in an edit body. Callers hold s.mu.
func (s *Server) applyEdit(m *Message, raw []byte, now time.Time) (response, bool) {
	var present map[string]json.RawMessage
	var b messageBody
	if json.Unmarshal(raw, &present) != nil || json.Unmarshal(raw, &b) != nil {
		return badJSON(), true
	}
	if resp, bad := b.check(false); bad {
		return resp, true
	}
	next := m.clone()
	if _, ok := present["content"]; ok {
		next.Content = b.content()
	}
	if _, ok := present["components"]; ok {
		next.Components = normalizeArray(b.Components)
	}
	if _, ok := present["embeds"]; ok {
		next.Embeds = normalizeArray(b.Embeds)
	}
	if _, ok := present["flags"]; ok {
		next.Flags = next.Flags&^(1<<2) | b.flags()&(1<<2)
	}
	if next.Content == "" && next.Components == nil && next.Embeds == nil {
		return apiError(http.StatusBadRequest, 50006, "Cannot send an empty message"), true
	}
	m.Content, m.Components, m.Embeds, m.Flags = next.Content, next.Components, next.Embeds, next.Flags&^(1<<7)
	m.EditedTimestamp = now
	m.Mentions = s.mentions(m)
	if !m.Ephemeral {
		s.dispatchMessage("MESSAGE_UPDATE", m)
	}
	return response{}, false
}

func (s *Server) editMessage(q *request) response {
	c := s.channels[q.path("channel_id")]
	if c == nil {
		return unknownChannel()
	}
	if resp, ok := s.botMay(c, 0); !ok {
		return resp
	}
	m := s.channelMessage(q.path("channel_id"), q.path("message_id"))
	if m == nil {
		return unknownMessage()
	}
	if m.Author.ID != s.opts.BotUserID {
		return apiError(http.StatusForbidden, 50005, "Cannot edit a message authored by another user")
	}
	if resp, bad := s.applyEdit(m, q.body, q.now); bad {
		return resp
	}
	return okJSON(s.wireMessage(m, nil))
}

// deleteMessage deletes a message: the bot's own, or with Manage Messages
// anyone's.
func (s *Server) deleteMessage(q *request) response {
	c := s.channels[q.path("channel_id")]
	if c == nil {
		return unknownChannel()
	}
	m := s.channelMessage(q.path("channel_id"), q.path("message_id"))
	if m == nil {
		if resp, ok := s.botMay(c, 0); !ok {
			return resp
		}
		return unknownMessage()
	}
	need := int64(0)
	if m.Author.ID != s.opts.BotUserID {
		need = PermManageMessages
	}
	if resp, ok := s.botMay(c, need); !ok {
		return resp
	}
	m.Deleted = true
	s.dispatchDelete(m)
	return noContent()
}

type threadBody struct {
	Name                string `json:"name"`
	AutoArchiveDuration int    `json:"auto_archive_duration"`
	Type                *int   `json:"type"`
	Invitable           *bool  `json:"invitable"`
}

func (b threadBody) check() *formError {
	if n := utf8.RuneCountInString(b.Name); n < 1 || n > 100 {
		return newFormError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.", "name")
	}
	switch b.AutoArchiveDuration {
	case 0, 60, 1440, 4320, 10080:
	default:
		return newFormError("BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}.", "auto_archive_duration")
	}
	return nil
}

// newThread creates a thread with the bot as owner and first member, and
// dispatches THREAD_CREATE. Callers hold s.mu.
func (s *Server) newThread(id string, parent *channel, b threadBody, typ int, now time.Time) *channel {
	archive := b.AutoArchiveDuration
	if archive == 0 {
		archive = 1440
	}
	invitable := true
	if typ == ChannelTypePrivateThread && b.Invitable != nil {
		invitable = *b.Invitable
	}
	t := &channel{Channel: Channel{ID: id, GuildID: parent.GuildID, ParentID: parent.ID, Name: b.Name, Type: typ,
		OwnerID: s.opts.BotUserID, Invitable: invitable, AutoArchiveDuration: archive}, created: now}
	t.members = []threadMember{{userID: s.opts.BotUserID, joined: now}}
	s.channels[id] = t
	s.broadcastGuild("THREAD_CREATE", t.GuildID, IntentGuilds, func(*session) any {
		w := s.wireChannel(t)
		w["newly_created"] = true
		return w
	})
	return t
}

// startThread handles POST /channels/{id}/threads (no starter message). The
// type defaults to a private thread, as in API v9; invitable defaults to true.
func (s *Server) startThread(q *request) response {
	p := s.channels[q.path("channel_id")]
	if p == nil {
		return unknownChannel()
	}
	var b threadBody
	if json.Unmarshal(q.body, &b) != nil {
		return badJSON()
	}
	if err := b.check(); err != nil {
		return invalidForm(err)
	}
	typ := ChannelTypePrivateThread
	if b.Type != nil {
		typ = *b.Type
	}
	if typ != ChannelTypePublicThread && typ != ChannelTypePrivateThread {
		return invalidForm(newFormError("BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.", "type"))
	}
	if p.Type != ChannelTypeGuildText {
		return apiError(http.StatusBadRequest, 50024, "Cannot execute action on this channel type")
	}
	need := PermCreatePrivateThreads
	if typ == ChannelTypePublicThread {
		need = PermCreatePublicThreads
	}
	if resp, ok := s.botMay(p, need); !ok {
		return resp
	}
	t := s.newThread(s.nextID(), p, b, typ, q.now)
	return response{status: http.StatusCreated, body: s.wireChannel(t)}
}

// startThreadFromMessage handles POST /channels/{id}/messages/{id}/threads: a
// public thread whose ID is the starter message's ID.
func (s *Server) startThreadFromMessage(q *request) response {
	p := s.channels[q.path("channel_id")]
	if p == nil {
		return unknownChannel()
	}
	m := s.channelMessage(p.ID, q.path("message_id"))
	if m == nil {
		return unknownMessage()
	}
	var b threadBody
	if json.Unmarshal(q.body, &b) != nil {
		return badJSON()
	}
	if err := b.check(); err != nil {
		return invalidForm(err)
	}
	if p.Type != ChannelTypeGuildText {
		return apiError(http.StatusBadRequest, 50024, "Cannot execute action on this channel type")
	}
	if resp, ok := s.botMay(p, PermCreatePublicThreads); !ok {
		return resp
	}
	if m.ThreadID != "" {
		return apiError(http.StatusBadRequest, 160004, "A thread has already been created for this message")
	}
	t := s.newThread(m.ID, p, threadBody{Name: b.Name, AutoArchiveDuration: b.AutoArchiveDuration}, ChannelTypePublicThread, q.now)
	m.ThreadID = t.ID
	m.Flags |= 1 << 5 // HAS_THREAD
	return response{status: http.StatusCreated, body: s.wireChannel(t)}
}

// addThreadMember handles PUT /channels/{id}/thread-members/{user}: the user
// must be a member of the guild.
func (s *Server) addThreadMember(q *request) response {
	t := s.channels[q.path("channel_id")]
	if t == nil {
		return unknownChannel()
	}
	if !t.isThread() {
		return apiError(http.StatusBadRequest, 50024, "Cannot execute action on this channel type")
	}
	if resp, ok := s.botMay(t, PermSendMessagesInThreads); !ok {
		return resp
	}
	uid := q.path("user_id")
	if uid == "@me" {
		uid = s.opts.BotUserID
	}
	if g := s.guilds[t.GuildID]; g == nil || g.members[uid] == nil {
		return unknownMember()
	}
	if !t.hasMember(uid) {
		t.members = append(t.members, threadMember{userID: uid, joined: q.now})
	}
	return noContent()
}

func (s *Server) removeThreadMember(q *request) response {
	t := s.channels[q.path("channel_id")]
	if t == nil {
		return unknownChannel()
	}
	if !t.isThread() {
		return apiError(http.StatusBadRequest, 50024, "Cannot execute action on this channel type")
	}
	uid := q.path("user_id")
	if uid == "@me" {
		uid = s.opts.BotUserID
	}
	t.members = slices.DeleteFunc(t.members, func(m threadMember) bool { return m.userID == uid })
	return noContent()
}

func (s *Server) listThreadMembers(q *request) response {
	t := s.channels[q.path("channel_id")]
	if t == nil {
		return unknownChannel()
	}
	if !t.isThread() {
		return apiError(http.StatusBadRequest, 50024, "Cannot execute action on this channel type")
	}
	out := []any{}
	for _, m := range t.members {
		out = append(out, map[string]any{"id": t.ID, "user_id": m.userID, "join_timestamp": fmtTime(m.joined), "flags": 0})
	}
	return okJSON(out)
}

func (s *Server) getGuildMember(q *request) response {
	g := s.guilds[q.path("guild_id")]
	if g == nil {
		return apiError(http.StatusNotFound, 10004, "Unknown Guild")
	}
	w := s.wireMember(g, q.path("user_id"), true, false)
	if w == nil {
		return unknownMember()
	}
	return okJSON(w)
}
