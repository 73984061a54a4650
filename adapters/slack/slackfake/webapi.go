package slackfake

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// args are a Web API call's arguments, from a form or a JSON body.
type args struct {
	form url.Values
	js   map[string]json.RawMessage
}

// str returns an argument as a string: JSON strings unquoted, other JSON values
// as their text.
func (a args) str(k string) string {
	if a.js != nil {
		v, ok := a.js[k]
		if !ok {
			return ""
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		if string(v) == "null" {
			return ""
		}
		return string(v)
	}
	return a.form.Get(k)
}

// has reports whether the argument was sent at all.
func (a args) has(k string) bool {
	if a.js != nil {
		_, ok := a.js[k]
		return ok
	}
	_, ok := a.form[k]
	return ok
}

// raw returns a JSON-valued argument (blocks, view): a form field holding JSON, a
// JSON body's value, or a JSON string inside a JSON body.
func (a args) raw(k string) []byte {
	if a.js != nil {
		v, ok := a.js[k]
		if !ok || string(v) == "null" {
			return nil
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			return []byte(s)
		}
		return v
	}
	if !a.form.Has(k) {
		return nil
	}
	return []byte(a.form.Get(k))
}

type tokenKind int

const (
	botToken tokenKind = iota
	appToken
)

// apiMethod is one Web API method of the fake.
type apiMethod struct {
	token tokenKind
	serve func(s *Server, a args) (map[string]any, string, []string)
}

// methods lists the Web API the fake serves. A handler returns the response body
// fields for ok:true, or an error code with optional response_metadata messages.
func methods() map[string]apiMethod {
	return map[string]apiMethod{
		"auth.test":                      {botToken, (*Server).authTest},
		"apps.connections.open":          {appToken, (*Server).connectionsOpen},
		"chat.postMessage":               {botToken, (*Server).chatPostMessage},
		"chat.update":                    {botToken, (*Server).chatUpdate},
		"chat.delete":                    {botToken, (*Server).chatDelete},
		"chat.postEphemeral":             {botToken, (*Server).chatPostEphemeral},
		"conversations.open":             {botToken, (*Server).conversationsOpen},
		"conversations.info":             {botToken, (*Server).conversationsInfo},
		"conversations.list":             {botToken, (*Server).conversationsList},
		"conversations.history":          {botToken, (*Server).conversationsHistory},
		"conversations.replies":          {botToken, (*Server).conversationsReplies},
		"users.info":                     {botToken, (*Server).usersInfo},
		"usergroups.users.list":          {botToken, (*Server).usergroupsUsersList},
		"views.open":                     {botToken, (*Server).viewsOpen},
		"views.push":                     {botToken, (*Server).viewsPush},
		"views.update":                   {botToken, (*Server).viewsUpdate},
		"chat.getPermalink":              {botToken, (*Server).chatGetPermalink},
		"apps.event.authorizations.list": {appToken, (*Server).eventAuthorizations},
	}
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	a, token, err := parseArgs(r)
	if err != nil {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	m, known := methods()[method]
	if !s.Wait(r.Context(), method) {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	s.notifyLocked()
	if !known {
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method", "req_method": method})
		return
	}
	if code := s.checkTokenLocked(token, m.token); code != "" {
		writeJSON(w, map[string]any{"ok": false, "error": code})
		return
	}
	channelID := s.channelIDLocked(a.str("channel"))
	outcome, fault := s.faultLocked(w, method, channelID)
	if outcome == refused || (outcome == served && s.historyLimitedLocked(w, method)) {
		return
	}
	if ch := s.channels[channelID]; outcome == served && method == "chat.postMessage" && ch != nil && s.pacedLocked(w, method, ch) {
		return
	}
	body, code, msgs := m.serve(s, a)
	if outcome == lost {
		writeServerError(w, fault.Status)
		return
	}
	if code != "" {
		resp := map[string]any{"ok": false, "error": code}
		if len(msgs) > 0 {
			resp["response_metadata"] = map[string]any{"messages": msgs}
		}
		writeJSON(w, resp)
		return
	}
	if body == nil {
		body = map[string]any{}
	}
	s.recordEffectLocked(method, a, body)
	body["ok"] = true
	writeJSON(w, body)
}

// channelIDLocked resolves a channel argument to an ID without creating anything:
// a user ID stands for the DM with that user.
func (s *Server) channelIDLocked(arg string) string {
	if _, ok := s.channels[arg]; ok {
		return arg
	}
	if _, ok := s.users[arg]; ok {
		return s.DMChannel(arg)
	}
	if ch, code := s.lookupChannelLocked(arg); code == "" {
		return ch.id
	}
	return arg
}

// parseArgs reads arguments and the token: JSON bodies take the token from the
// Authorization header only, forms from the token field or the header.
func parseArgs(r *http.Request) (args, string, error) {
	bearer := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		bearer = strings.TrimPrefix(h, "Bearer ")
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			return args{}, "", err
		}
		js := map[string]json.RawMessage{}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &js); err != nil {
				return args{}, "", err
			}
		}
		return args{js: js}, bearer, nil
	}
	if err := r.ParseForm(); err != nil {
		return args{}, "", err
	}
	token := r.Form.Get("token")
	if token == "" {
		token = bearer
	}
	return args{form: r.Form}, token, nil
}

// checkTokenLocked returns the error Slack gives for a token, or "".
func (s *Server) checkTokenLocked(token string, want tokenKind) string {
	switch {
	case token == "":
		return "not_authed"
	case want == botToken && token == s.cfg.BotToken, want == appToken && token == s.cfg.AppToken:
		return ""
	case token == s.cfg.BotToken, token == s.cfg.AppToken:
		return "not_allowed_token_type"
	default:
		return "invalid_auth"
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	writeJSONStatus(w, http.StatusOK, v)
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(encodeJSON(v))
}

func (s *Server) authTest(args) (map[string]any, string, []string) {
	return map[string]any{
		"url":                   "https://" + s.cfg.TeamDomain + ".slack.com/",
		"team":                  s.cfg.TeamName,
		"user":                  s.cfg.BotName,
		"team_id":               s.cfg.TeamID,
		"user_id":               s.cfg.BotUserID,
		"bot_id":                s.cfg.BotID,
		"is_enterprise_install": false,
	}, "", nil
}

func (s *Server) eventAuthorizations(args) (map[string]any, string, []string) {
	return map[string]any{"authorizations": []any{s.authorization()}}, "", nil
}

// authorization is the authorizations[] entry of event payloads.
func (s *Server) authorization() map[string]any {
	return map[string]any{
		"enterprise_id":         nil,
		"team_id":               s.cfg.TeamID,
		"user_id":               s.cfg.BotUserID,
		"is_bot":                true,
		"is_enterprise_install": false,
	}
}

// botProfile is the bot_profile Slack attaches to the app's messages.
func (s *Server) botProfile() map[string]any {
	return map[string]any{
		"id":      s.cfg.BotID,
		"app_id":  s.cfg.AppID,
		"name":    s.cfg.BotName,
		"deleted": false,
		"team_id": s.cfg.TeamID,
	}
}

// messageJSON renders a stored message the way the Web API and payloads do.
func (s *Server) messageJSON(m *Message, ch *channel) map[string]any {
	out := map[string]any{
		"type": "message",
		"ts":   m.TS,
		"text": m.Text,
		"user": m.User,
		"team": s.cfg.TeamID,
	}
	if m.BotID != "" {
		out["bot_id"] = m.BotID
		out["app_id"] = s.cfg.AppID
		out["bot_profile"] = s.botProfile()
	}
	if m.Blocks != nil {
		out["blocks"] = json.RawMessage(m.Blocks)
	}
	if m.Edits > 0 {
		out["edited"] = map[string]any{"user": m.User, "ts": m.TS}
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
		if parent := ch.find(m.ThreadTS); parent != nil {
			out["parent_user_id"] = parent.User
		}
	} else if n, users := ch.replies(m.TS); n > 0 {
		out["thread_ts"] = m.TS
		out["reply_count"] = n
		out["reply_users"] = users
		out["reply_users_count"] = len(users)
	}
	return out
}

// replies counts a parent's replies and lists their authors.
func (ch *channel) replies(ts string) (int, []string) {
	n := 0
	var users []string
	seen := map[string]bool{}
	for _, m := range ch.messages {
		if m.ThreadTS != ts {
			continue
		}
		n++
		if !seen[m.User] {
			seen[m.User] = true
			users = append(users, m.User)
		}
	}
	return n, users
}

func (s *Server) channelJSON(ch *channel, full bool) map[string]any {
	out := map[string]any{"id": ch.id}
	if !full {
		return out
	}
	out["created"] = ch.created
	out["is_archived"] = false
	out["is_org_shared"] = false
	if ch.im {
		out["is_im"] = true
		out["user"] = ch.user
		out["is_open"] = true
		out["is_user_deleted"] = false
		return out
	}
	out["name"] = ch.name
	out["is_channel"] = true
	out["is_group"] = false
	out["is_im"] = false
	out["is_mpim"] = false
	out["is_private"] = !ch.public
	out["is_member"] = true
	out["is_general"] = false
	out["name_normalized"] = ch.name
	out["context_team_id"] = s.cfg.TeamID
	return out
}

func (s *Server) userJSON(u *User) map[string]any {
	return map[string]any{
		"id":          u.ID,
		"team_id":     s.cfg.TeamID,
		"name":        u.Name,
		"deleted":     u.Deleted,
		"real_name":   u.RealName,
		"is_bot":      u.IsBot,
		"is_app_user": false,
		"tz":          "Europe/London",
		"tz_label":    "Greenwich Mean Time",
		"tz_offset":   0,
		"profile": map[string]any{
			"real_name":               u.RealName,
			"real_name_normalized":    u.RealName,
			"display_name":            u.Name,
			"display_name_normalized": u.Name,
			"team":                    s.cfg.TeamID,
		},
	}
}
