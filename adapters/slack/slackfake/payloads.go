package slackfake

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Posted is what UserSays and UserReplies did: the stored message and the
// envelopes that carry its events.
type Posted struct {
	Message Message
	// EventID is the event_id of the message event (the dedupe key).
	EventID string
	// EnvelopeID carries the message event over Socket Mode.
	EnvelopeID string
	// MentionEnvelopeID carries the app_mention event Slack also sends when the
	// text mentions the bot in a channel; empty otherwise.
	MentionEnvelopeID string
}

// UserSays stores a top-level message from userID in channelID (a channel ID, or
// DMChannel(userID) for the bot's DM) and sends its message event over Socket Mode,
// plus an app_mention event when the text contains <@BotUserID> outside a DM.
func (s *Server) UserSays(userID, channelID, text string) (Posted, error) {
	return s.userPost(userID, channelID, "", text)
}

// UserReplies is UserSays in the thread of threadTS.
func (s *Server) UserReplies(userID, channelID, threadTS, text string) (Posted, error) {
	if threadTS == "" {
		return Posted{}, fmt.Errorf("slackfake: UserReplies needs a thread ts")
	}
	return s.userPost(userID, channelID, threadTS, text)
}

func (s *Server) userPost(userID, channelID, threadTS, text string) (Posted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ch, err := s.userMessageLocked(userID, channelID, threadTS, text)
	if err != nil {
		return Posted{}, err
	}
	payload, eventID := s.eventCallbackLocked(s.messageEventLocked(m, ch))
	p := Posted{
		Message:    copyMessage(m),
		EventID:    eventID,
		EnvelopeID: s.sendEnvelopeLocked("events_api", payload, false, nil),
	}
	if !ch.im && strings.Contains(text, "<@"+s.cfg.BotUserID+">") {
		payload, _ := s.eventCallbackLocked(s.appMentionEventLocked(m))
		p.MentionEnvelopeID = s.sendEnvelopeLocked("events_api", payload, false, nil)
	}
	return p, nil
}

// PostAsUser stores a message from userID without sending any event, for HTTP
// mode tests that deliver MessageEvent(m) themselves. threadTS may be empty.
func (s *Server) PostAsUser(userID, channelID, threadTS, text string) (Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, _, err := s.userMessageLocked(userID, channelID, threadTS, text)
	if err != nil {
		return Message{}, err
	}
	return copyMessage(m), nil
}

func (s *Server) userMessageLocked(userID, channelID, threadTS, text string) (*Message, *channel, error) {
	if s.users[userID] == nil {
		return nil, nil, fmt.Errorf("slackfake: unknown user %q (AddUser first)", userID)
	}
	ch := s.channels[channelID]
	if ch == nil && channelID == s.DMChannel(userID) {
		ch, _ = s.dmLocked(userID)
	}
	if ch == nil {
		return nil, nil, fmt.Errorf("slackfake: unknown channel %q (AddChannel first)", channelID)
	}
	if err := s.seeLocked(ch, userID); err != nil {
		return nil, nil, err
	}
	if threadTS != "" {
		parent := threadParent(ch, threadTS)
		if parent == "" {
			return nil, nil, fmt.Errorf("slackfake: no message %s in %s to reply to", threadTS, channelID)
		}
		threadTS = parent
	}
	m := &Message{Channel: ch.id, TS: s.nextTSLocked(), ThreadTS: threadTS, User: userID, Text: text}
	ch.messages = append(ch.messages, m)
	s.notifyLocked()
	return m, ch, nil
}

// MessageEvent builds the message event Slack sends for a stored message.
func (s *Server) MessageEvent(m Message) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[m.Channel]
	if ch == nil {
		return nil, fmt.Errorf("slackfake: unknown channel %q", m.Channel)
	}
	return s.messageEventLocked(&m, ch), nil
}

// AppMentionEvent builds the app_mention event Slack sends for a stored message.
func (s *Server) AppMentionEvent(m Message) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appMentionEventLocked(&m)
}

func (s *Server) messageEventLocked(m *Message, ch *channel) map[string]any {
	ev := map[string]any{
		"type":         "message",
		"channel":      ch.id,
		"user":         m.User,
		"text":         m.Text,
		"ts":           m.TS,
		"event_ts":     m.TS,
		"channel_type": ch.channelType(),
		"team":         s.cfg.TeamID,
	}
	if m.ThreadTS != "" {
		ev["thread_ts"] = m.ThreadTS
		if parent := ch.find(m.ThreadTS); parent != nil {
			ev["parent_user_id"] = parent.User
		}
	}
	if m.BotID != "" {
		ev["bot_id"] = m.BotID
		ev["app_id"] = s.cfg.AppID
		ev["bot_profile"] = s.botProfile()
	} else {
		ev["client_msg_id"] = randomUUID()
	}
	if m.Blocks != nil {
		ev["blocks"] = json.RawMessage(m.Blocks)
	}
	return ev
}

func (s *Server) appMentionEventLocked(m *Message) map[string]any {
	ev := map[string]any{
		"type":          "app_mention",
		"user":          m.User,
		"text":          m.Text,
		"ts":            m.TS,
		"channel":       m.Channel,
		"event_ts":      m.TS,
		"team":          s.cfg.TeamID,
		"client_msg_id": randomUUID(),
	}
	if m.ThreadTS != "" {
		ev["thread_ts"] = m.ThreadTS
	}
	return ev
}

// eventCallbackLocked wraps an inner event in the event_callback Slack delivers.
func (s *Server) eventCallbackLocked(event any) ([]byte, string) {
	eventID := s.nextIDLocked("Ev")
	return encodeJSON(map[string]any{
		"token":                 s.cfg.VerificationToken,
		"team_id":               s.cfg.TeamID,
		"context_team_id":       s.cfg.TeamID,
		"context_enterprise_id": nil,
		"api_app_id":            s.cfg.AppID,
		"event":                 event,
		"type":                  "event_callback",
		"event_id":              eventID,
		"event_time":            s.cfg.Now().Unix(),
		"authorizations":        []any{s.authorization()},
		"is_ext_shared_channel": false,
		"event_context":         "4-" + randomHex(24),
	}), eventID
}

// enqueueEventLocked sends an inner event as an events_api envelope.
func (s *Server) enqueueEventLocked(event any) string {
	payload, _ := s.eventCallbackLocked(event)
	return s.sendEnvelopeLocked("events_api", payload, false, nil)
}

// EventsAPI wraps any inner event (a map or JSON) in an event_callback and sends it
// over Socket Mode.
func (s *Server) EventsAPI(event any) (envelopeID string, err error) {
	inner, err := asJSONValue(event)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enqueueEventLocked(inner), nil
}

// EventCallbackBody wraps an inner event in an event_callback for HTTP delivery and
// returns the body with its event_id.
func (s *Server) EventCallbackBody(event any) (body []byte, eventID string, err error) {
	inner, err := asJSONValue(event)
	if err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	body, eventID = s.eventCallbackLocked(inner)
	return body, eventID, nil
}

// URLVerificationBody is the challenge Slack posts when an Events API URL is saved.
func (s *Server) URLVerificationBody(challenge string) []byte {
	return encodeJSON(map[string]any{
		"token":     s.cfg.VerificationToken,
		"challenge": challenge,
		"type":      "url_verification",
	})
}

// asJSONValue accepts a map, a struct, json.RawMessage or []byte of JSON.
func asJSONValue(v any) (any, error) {
	var raw []byte
	switch t := v.(type) {
	case json.RawMessage:
		raw = t
	case []byte:
		raw = t
	case string:
		raw = []byte(t)
	default:
		return v, nil
	}
	var out any
	if err := decodeJSON(raw, &out); err != nil {
		return nil, fmt.Errorf("slackfake: event is not JSON: %w", err)
	}
	return out, nil
}

// interactionBaseLocked holds the fields every interactive payload carries.
func (s *Server) interactionBaseLocked(typ, userID string) map[string]any {
	name := userID
	if u := s.users[userID]; u != nil {
		name = u.Name
	}
	return map[string]any{
		"type":                  typ,
		"token":                 s.cfg.VerificationToken,
		"team":                  map[string]any{"id": s.cfg.TeamID, "domain": s.cfg.TeamDomain},
		"user":                  map[string]any{"id": userID, "username": name, "name": name, "team_id": s.cfg.TeamID},
		"api_app_id":            s.cfg.AppID,
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
}

func channelRef(ch *channel) map[string]any {
	name := ch.name
	if ch.im {
		name = "directmessage"
	}
	return map[string]any{"id": ch.id, "name": name}
}

// origin is the message an interaction came from, which its response_url can
// replace or delete.
type origin struct {
	ts        string
	threadTS  string
	ephemeral bool
}

// ClickButton has userID click the button with actionID on the stored message
// messageTS in channelID (an ephemeral message for that user is found too), and
// sends the block_actions payload over Socket Mode. A non-empty value replaces the
// button's value, to simulate a forged click.
func (s *Server) ClickButton(userID, channelID, messageTS, actionID, value string) (envelopeID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.clickPayloadLocked(userID, channelID, messageTS, actionID, value)
	if err != nil {
		return "", err
	}
	return s.sendEnvelopeLocked("interactive", p, false, nil), nil
}

// ClickButtonPayload builds the same block_actions payload as ClickButton without
// sending it, for HTTP mode (wrap it with InteractiveBody).
func (s *Server) ClickButtonPayload(userID, channelID, messageTS, actionID, value string) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clickPayloadLocked(userID, channelID, messageTS, actionID, value)
}

// SelectOption has userID pick the option with value in the select menu (or
// radio buttons, overflow) with actionID on a stored message; it sends the
// block_actions payload like ClickButton.
func (s *Server) SelectOption(userID, channelID, messageTS, actionID, value string) (envelopeID string, err error) {
	return s.ClickButton(userID, channelID, messageTS, actionID, value)
}

func (s *Server) clickPayloadLocked(userID, channelID, messageTS, actionID, value string) ([]byte, error) {
	if s.users[userID] == nil {
		return nil, fmt.Errorf("slackfake: unknown user %q", userID)
	}
	ch := s.channels[channelID]
	if ch == nil {
		return nil, fmt.Errorf("slackfake: unknown channel %q", channelID)
	}
	if err := s.seeLocked(ch, userID); err != nil {
		return nil, err
	}
	var (
		blocks []byte
		orig   = origin{ts: messageTS}
		msg    map[string]any
	)
	if m := ch.find(messageTS); m != nil {
		blocks, orig.threadTS, msg = m.Blocks, m.ThreadTS, s.messageJSON(m, ch)
	} else {
		for _, e := range ch.ephem {
			if e.TS == messageTS && e.User == userID {
				blocks, orig.threadTS, orig.ephemeral = e.Blocks, e.ThreadTS, true
			}
		}
		if blocks == nil {
			return nil, fmt.Errorf("slackfake: no message %s in %s with blocks that %s can see", messageTS, channelID, userID)
		}
	}
	fe, ok := findElement(blocks, actionID)
	if !ok {
		return nil, fmt.Errorf("slackfake: no element with action_id %q in message %s", actionID, messageTS)
	}
	action, err := s.actionLocked(fe, value)
	if err != nil {
		return nil, err
	}
	p := s.interactionBaseLocked("block_actions", userID)
	container := map[string]any{
		"type":         "message",
		"message_ts":   messageTS,
		"channel_id":   ch.id,
		"is_ephemeral": orig.ephemeral,
	}
	if orig.threadTS != "" {
		container["thread_ts"] = orig.threadTS
	}
	p["container"] = container
	p["trigger_id"] = s.newTriggerLocked(userID)
	p["channel"] = channelRef(ch)
	if msg != nil {
		p["message"] = msg
	}
	p["state"] = map[string]any{"values": map[string]any{}}
	p["response_url"] = s.newResponseURLLocked("actions", ch, userID, orig)
	p["actions"] = []any{action}
	return encodeJSON(p), nil
}

// actionLocked renders the actions[] entry for a clicked element. block_id is
// always a string, which is how slack-go tells block actions from attachment ones.
func (s *Server) actionLocked(fe foundElement, value string) (map[string]any, error) {
	typ, _ := fe.el["type"].(string)
	action := map[string]any{
		"action_id": fe.el["action_id"],
		"block_id":  fe.blockID,
		"type":      typ,
		"action_ts": s.nextTSLocked(),
	}
	switch typ {
	case "button":
		action["text"] = fe.el["text"]
		if v, ok := fe.el["value"]; ok {
			action["value"] = v
		}
		if value != "" {
			action["value"] = value
		}
		if st, ok := fe.el["style"]; ok {
			action["style"] = st
		}
	case "static_select", "radio_buttons", "overflow":
		opt, ok := findOption(fe.el, value)
		if !ok {
			return nil, fmt.Errorf("slackfake: no option %q in %s", value, fe.el["action_id"])
		}
		action["selected_option"] = opt
	case "checkboxes", "multi_static_select":
		opt, ok := findOption(fe.el, value)
		if !ok {
			return nil, fmt.Errorf("slackfake: no option %q in %s", value, fe.el["action_id"])
		}
		action["selected_options"] = []any{opt}
	default:
		if value != "" {
			action["value"] = value
		}
	}
	return action, nil
}

func findOption(el map[string]any, value string) (any, bool) {
	opts, _ := el["options"].([]any)
	if groups, ok := el["option_groups"].([]any); ok {
		for _, g := range groups {
			gm, _ := g.(map[string]any)
			more, _ := gm["options"].([]any)
			opts = append(opts, more...)
		}
	}
	for _, o := range opts {
		if om, _ := o.(map[string]any); om != nil && om["value"] == value {
			return om, true
		}
	}
	return nil, false
}

// SubmitView has the view's user submit it with values keyed by action_id, and
// sends the view_submission payload over Socket Mode. Every input block appears in
// state.values, with null for fields left empty, as Slack sends them. The ack's
// response_action is applied to the stored view.
func (s *Server) SubmitView(viewID string, values map[string]string) (envelopeID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.submitPayloadLocked(viewID, values)
	if err != nil {
		return "", err
	}
	return s.sendEnvelopeLocked("interactive", p, true, func(ack []byte) {
		s.applySubmissionAckLocked(viewID, ack)
	}), nil
}

// SubmitViewPayload builds the SubmitView payload without sending it.
func (s *Server) SubmitViewPayload(viewID string, values map[string]string) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submitPayloadLocked(viewID, values)
}

func (s *Server) submitPayloadLocked(viewID string, values map[string]string) ([]byte, error) {
	v := s.viewLocked(viewID)
	if v == nil {
		return nil, fmt.Errorf("slackfake: unknown view %q", viewID)
	}
	if !v.Open {
		return nil, fmt.Errorf("slackfake: view %s is closed", viewID)
	}
	inputs := inputElements(v.Blocks)
	known := map[string]bool{}
	state := map[string]any{}
	for _, in := range inputs {
		known[in.actionID] = true
		val, has := values[in.actionID]
		st, err := stateValue(in, val, has)
		if err != nil {
			return nil, err
		}
		block, _ := state[in.blockID].(map[string]any)
		if block == nil {
			block = map[string]any{}
			state[in.blockID] = block
		}
		block[in.actionID] = st
	}
	for id := range values {
		if !known[id] {
			return nil, fmt.Errorf("slackfake: view %s has no input with action_id %q", viewID, id)
		}
	}
	p := s.interactionBaseLocked("view_submission", v.UserID)
	p["trigger_id"] = s.newTriggerLocked(v.UserID)
	p["view"] = s.viewJSON(v, map[string]any{"values": state})
	p["response_urls"] = []any{}
	return encodeJSON(p), nil
}

// stateValue renders one input's entry of view.state.values.
func stateValue(in inputElement, val string, has bool) (map[string]any, error) {
	st := map[string]any{"type": in.typ}
	set := func(key string, v any) {
		if has {
			st[key] = v
		} else {
			st[key] = nil
		}
	}
	switch in.typ {
	case "static_select", "radio_buttons", "external_select":
		if !has {
			st["selected_option"] = nil
			return st, nil
		}
		opt, ok := findOption(in.el, val)
		if !ok {
			if in.typ != "external_select" {
				return nil, fmt.Errorf("slackfake: no option %q in %s", val, in.actionID)
			}
			opt = map[string]any{"text": map[string]any{"type": "plain_text", "text": val}, "value": val}
		}
		st["selected_option"] = opt
	case "checkboxes", "multi_static_select":
		opts := []any{}
		if has && val != "" { // "": nothing selected
			for _, v := range strings.Split(val, ",") {
				opt, ok := findOption(in.el, v)
				if !ok {
					return nil, fmt.Errorf("slackfake: no option %q in %s", v, in.actionID)
				}
				opts = append(opts, opt)
			}
		}
		st["selected_options"] = opts
	case "users_select":
		set("selected_user", val)
	case "conversations_select":
		set("selected_conversation", val)
	case "channels_select":
		set("selected_channel", val)
	case "datepicker":
		set("selected_date", val)
	case "timepicker":
		set("selected_time", val)
	default:
		set("value", val)
	}
	return st, nil
}

// MessageShortcut has userID run the message shortcut callbackID on a stored
// message and sends the message_action payload over Socket Mode.
func (s *Server) MessageShortcut(userID, channelID, messageTS, callbackID string) (envelopeID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.shortcutPayloadLocked(userID, channelID, messageTS, callbackID)
	if err != nil {
		return "", err
	}
	return s.sendEnvelopeLocked("interactive", p, false, nil), nil
}

// MessageShortcutPayload builds the same message_action payload as
// MessageShortcut without sending it, for HTTP mode (wrap it with
// InteractiveBody).
func (s *Server) MessageShortcutPayload(userID, channelID, messageTS, callbackID string) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shortcutPayloadLocked(userID, channelID, messageTS, callbackID)
}

func (s *Server) shortcutPayloadLocked(userID, channelID, messageTS, callbackID string) ([]byte, error) {
	if s.users[userID] == nil {
		return nil, fmt.Errorf("slackfake: unknown user %q", userID)
	}
	ch := s.channels[channelID]
	if ch == nil {
		return nil, fmt.Errorf("slackfake: unknown channel %q", channelID)
	}
	if err := s.seeLocked(ch, userID); err != nil {
		return nil, err
	}
	m := ch.find(messageTS)
	if m == nil {
		return nil, fmt.Errorf("slackfake: no message %s in %s", messageTS, channelID)
	}
	p := s.interactionBaseLocked("message_action", userID)
	p["action_ts"] = s.nextTSLocked()
	p["channel"] = channelRef(ch)
	p["callback_id"] = callbackID
	p["trigger_id"] = s.newTriggerLocked(userID)
	p["response_url"] = s.newResponseURLLocked("actions", ch, userID, origin{ts: m.TS, threadTS: m.ThreadTS})
	p["message_ts"] = m.TS
	p["message"] = s.messageJSON(m, ch)
	return encodeJSON(p), nil
}

// GlobalShortcut has userID run the global shortcut callbackID and sends the
// shortcut payload over Socket Mode.
func (s *Server) GlobalShortcut(userID, callbackID string) (envelopeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.interactionBaseLocked("shortcut", userID)
	p["action_ts"] = s.nextTSLocked()
	p["callback_id"] = callbackID
	p["trigger_id"] = s.newTriggerLocked(userID)
	return s.sendEnvelopeLocked("interactive", encodeJSON(p), false, nil)
}

// Interactive sends a raw interactive payload over Socket Mode.
// accepts_response_payload is set as Slack does for its type.
func (s *Server) Interactive(payload json.RawMessage) (envelopeID string, err error) {
	var head struct {
		Type string `json:"type"`
		View struct {
			ID string `json:"id"`
		} `json:"view"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return "", fmt.Errorf("slackfake: interactive payload is not JSON: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var onAck func([]byte)
	if head.Type == "view_submission" && head.View.ID != "" {
		onAck = func(ack []byte) { s.applySubmissionAckLocked(head.View.ID, ack) }
	}
	accepts := head.Type == "view_submission" || head.Type == "block_suggestion"
	return s.sendEnvelopeLocked("interactive", cloneBytes(payload), accepts, onAck), nil
}

// SlashCommand has userID run command (e.g. "/advocate") with text in channelID and
// sends the slash_commands envelope over Socket Mode. An ack payload with text or
// blocks is shown as Slack does: ephemeral, or in the channel for
// response_type "in_channel".
func (s *Server) SlashCommand(userID, channelID, command, text string) (envelopeID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	form, ch, err := s.slashFormLocked(userID, channelID, command, text)
	if err != nil {
		return "", err
	}
	payload := map[string]any{}
	for k := range form {
		payload[k] = form.Get(k)
	}
	return s.sendEnvelopeLocked("slash_commands", encodeJSON(payload), true, func(ack []byte) {
		s.applyCommandResponseLocked(ch, userID, ack, "ack")
	}), nil
}

// SlashCommandForm builds the form Slack posts for a slash command in HTTP mode
// (encode it and Deliver it with FormContentType).
func (s *Server) SlashCommandForm(userID, channelID, command, text string) (url.Values, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	form, _, err := s.slashFormLocked(userID, channelID, command, text)
	return form, err
}

func (s *Server) slashFormLocked(userID, channelID, command, text string) (url.Values, *channel, error) {
	u := s.users[userID]
	if u == nil {
		return nil, nil, fmt.Errorf("slackfake: unknown user %q", userID)
	}
	ch := s.channels[channelID]
	if ch == nil && channelID == s.DMChannel(userID) {
		ch, _ = s.dmLocked(userID)
	}
	if ch == nil {
		return nil, nil, fmt.Errorf("slackfake: unknown channel %q", channelID)
	}
	if err := s.seeLocked(ch, userID); err != nil {
		return nil, nil, err
	}
	return url.Values{
		"token":                 {s.cfg.VerificationToken},
		"team_id":               {s.cfg.TeamID},
		"team_domain":           {s.cfg.TeamDomain},
		"channel_id":            {ch.id},
		"channel_name":          {channelRef(ch)["name"].(string)},
		"user_id":               {userID},
		"user_name":             {u.Name},
		"command":               {command},
		"text":                  {text},
		"api_app_id":            {s.cfg.AppID},
		"is_enterprise_install": {"false"},
		"response_url":          {s.newResponseURLLocked("commands", ch, userID, origin{})},
		"trigger_id":            {s.newTriggerLocked(userID)},
	}, ch, nil
}

// applyCommandResponseLocked shows a slash command's immediate response.
func (s *Server) applyCommandResponseLocked(ch *channel, userID string, body []byte, source string) {
	var msg struct {
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
		ResponseType string          `json:"response_type"`
	}
	if len(body) == 0 || json.Unmarshal(body, &msg) != nil {
		return
	}
	blocks, ok := s.responseBlocksLocked(msg.Blocks)
	if !ok || (msg.Text == "" && blocks == nil) {
		return
	}
	if msg.ResponseType == "in_channel" {
		s.postLocked(ch, msg.Text, blocks, "")
		return
	}
	s.ephemeralLocked(ch, userID, msg.Text, blocks, "", source)
}

// responseBlocksLocked normalizes optional response blocks; ok is false when
// they are invalid.
func (s *Server) responseBlocksLocked(raw json.RawMessage) ([]byte, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	blocks, code, _ := s.normalizeBlocksLocked(raw, maxMessageBlocks, "/blocks")
	if code != "" {
		return nil, false
	}
	if string(blocks) == "[]" {
		return nil, true
	}
	return blocks, true
}

// InteractiveBody wraps an interactive payload in the form body Slack posts in
// HTTP mode (payload=<json>).
func InteractiveBody(payload json.RawMessage) []byte {
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}
