package discordfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Interaction types, as Discord numbers them.
const (
	// InteractionPing is sent to HTTP interaction endpoints only.
	InteractionPing = 1
	// InteractionApplicationCommand is a slash or context menu command.
	InteractionApplicationCommand = 2
	// InteractionMessageComponent is a button click or select choice.
	InteractionMessageComponent = 3
	// InteractionAutocomplete asks for option choices.
	InteractionAutocomplete = 4
	// InteractionModalSubmit is a submitted modal.
	InteractionModalSubmit = 5
)

// Interaction response (callback) types.
const (
	responsePong            = 1
	responseMessage         = 4
	responseDeferredMessage = 5
	responseDeferredUpdate  = 6
	responseUpdateMessage   = 7
	responseAutocomplete    = 8
	responseModal           = 9
	flagEphemeral           = 1 << 6
	flagLoading             = 1 << 7
	messageTypeChatInput    = 20
	messageTypeContextMenu  = 23
	commandTypeChatInput    = 1
	commandTypeUser         = 2
	commandTypeMessage      = 3
	optionTypeSubCommand    = 1
	optionTypeSubCommandGrp = 2
	optionTypeString        = 3
	optionTypeInteger       = 4
	optionTypeBoolean       = 5
	optionTypeUser          = 6
	optionTypeNumber        = 10
	interactionContextGuild = 0
	interactionContextBotDM = 1
	integrationGuildInstall = "0"
	defaultLocale           = "en-US"
	interactionTokenBytes   = 48
	maxInteractionResponses = 100
)

// Interaction describes an interaction to dispatch, and is what the helpers
// return. ID and Token are assigned when empty.
type Interaction struct {
	ID    string
	Token string
	Type  int
	// ChannelID is where the interaction happens; GuildID is derived from it.
	ChannelID string
	GuildID   string
	// UserID is the user who interacted: sent as member in guilds, as user in
	// DMs.
	UserID string
	// MessageID is the message carrying the component (component interactions,
	// and modal submits of modals opened from a component).
	MessageID string
	// Data is the interaction's data object as JSON.
	Data json.RawMessage
}

// InteractionResponse records one call of the interaction callback endpoint,
// accepted or refused.
type InteractionResponse struct {
	// Type is the callback type (4 message, 5 deferred, 6 deferred update,
	// 7 update message, 9 modal…).
	Type int
	// Data is the callback's data object as sent.
	Data json.RawMessage
	// Status is the HTTP status the fake answered; Code is Discord's JSON error
	// code when refused (40060 already acknowledged, 10062 unknown interaction).
	Status int
	Code   int
	// Content, Flags, CustomID, Title and Components are decoded from Data.
	Content    string
	Flags      int
	CustomID   string
	Title      string
	Components json.RawMessage
	At         time.Time
}

// Ephemeral reports whether the response asked for an ephemeral message.
func (r InteractionResponse) Ephemeral() bool { return r.Flags&flagEphemeral != 0 }

type interaction struct {
	Interaction
	created   time.Time
	acked     bool
	respType  int
	original  string // message ID of the original response
	followups []string
	responses []InteractionResponse
	modal     *interactionResponseData // open modal, until a submission is answered
	// modalFrom is, for a modal submission, the interaction that opened the
	// modal: answering the submission closes it.
	modalFrom *interaction
	payload   map[string]any
	cmdType   int
}

func (i *interaction) owners() map[string]any {
	if i.GuildID != "" {
		return map[string]any{integrationGuildInstall: i.GuildID}
	}
	return map[string]any{"1": i.UserID}
}

type interactionResponseData struct {
	messageBody
	CustomID string `json:"custom_id"`
	Title    string `json:"title"`
}

// InteractionCreate dispatches INTERACTION_CREATE. With the ID of an existing
// interaction it dispatches that interaction again, unchanged (a duplicate
// delivery). Otherwise the channel and user must exist (and the user be a
// member of the channel's guild); ID and Token are assigned. It returns
// ErrNotDelivered, with the interaction, when no session received it.
func (s *Server) InteractionCreate(in Interaction) (Interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	if in.ID != "" {
		if i := s.interactions[in.ID]; i != nil {
			return i.Interaction, s.deliverInteraction(i)
		}
	}
	if in.Type < InteractionApplicationCommand || in.Type > InteractionModalSubmit {
		return Interaction{}, fmt.Errorf("discordfake: interaction type %d is not delivered over the gateway", in.Type)
	}
	i, err := s.newInteraction(in)
	if err != nil {
		return Interaction{}, err
	}
	return i.Interaction, s.deliverInteraction(i)
}

// newInteraction validates and stores an interaction. Callers hold s.mu.
func (s *Server) newInteraction(in Interaction) (*interaction, error) {
	c := s.channels[in.ChannelID]
	if c == nil {
		return nil, fmt.Errorf("discordfake: unknown channel %q", in.ChannelID)
	}
	if s.users[in.UserID] == nil {
		return nil, fmt.Errorf("discordfake: unknown user %q", in.UserID)
	}
	if err := s.canSee(c, in.UserID); err != nil {
		return nil, err
	}
	in.GuildID = c.GuildID
	if in.ID == "" {
		in.ID = s.nextID()
	}
	if in.Token == "" {
		in.Token = "aW50ZXJhY3Rpb24" + randomToken(interactionTokenBytes)
	}
	i := &interaction{Interaction: in, created: s.now()}
	var data struct {
		Type int `json:"type"`
	}
	_ = json.Unmarshal(in.Data, &data)
	i.cmdType = data.Type

	chw := map[string]any{"id": c.ID, "type": c.Type}
	if c.GuildID != "" {
		chw["guild_id"] = c.GuildID
		chw["name"] = c.Name
		if c.ParentID != "" {
			chw["parent_id"] = c.ParentID
		}
	}
	p := map[string]any{
		"id":                             i.ID,
		"application_id":                 s.opts.ApplicationID,
		"type":                           i.Type,
		"data":                           i.Data,
		"channel_id":                     c.ID,
		"channel":                        chw,
		"token":                          i.Token,
		"version":                        1,
		"locale":                         defaultLocale,
		"entitlements":                   []any{},
		"authorizing_integration_owners": i.owners(),
		"app_permissions":                strconv.FormatInt(allPermissions, 10),
	}
	if len(i.Data) == 0 {
		delete(p, "data")
	}
	if g := s.guilds[c.GuildID]; g != nil {
		p["guild_id"] = g.id
		p["guild_locale"] = defaultLocale
		p["member"] = s.wireMember(g, i.UserID, true, false)
		p["member"].(map[string]any)["permissions"] = strconv.FormatInt(s.channelPermissions(c, i.UserID), 10)
		p["context"] = interactionContextGuild
		p["app_permissions"] = strconv.FormatInt(s.channelPermissions(c, s.opts.BotUserID), 10)
	} else {
		p["user"] = s.wireUser(i.UserID)
		p["context"] = interactionContextBotDM
	}
	if i.MessageID != "" {
		m := s.messages[i.MessageID]
		if m == nil || m.Deleted {
			return nil, fmt.Errorf("discordfake: unknown message %q", i.MessageID)
		}
		p["message"] = s.wireMessage(m, nil)
	}
	i.payload = p
	s.interactions[i.ID] = i
	s.byToken[i.Token] = i.ID
	return i, nil
}

// canSee checks that a user can act in a channel: the recipient of a DM, or
// a guild member who can view it (see viewable: channel overwrites, private
// thread membership or Manage Threads).
func (s *Server) canSee(c *channel, userID string) error {
	switch {
	case c.Type == ChannelTypeDM:
		if c.RecipientID != userID {
			return fmt.Errorf("discordfake: user %q is not the recipient of DM channel %q", userID, c.ID)
		}
	case s.guilds[c.GuildID] == nil || s.guilds[c.GuildID].members[userID] == nil:
		return fmt.Errorf("discordfake: user %q is not a member of the guild of channel %q", userID, c.ID)
	case c.Type == ChannelTypePrivateThread && !s.viewable(c, userID):
		return fmt.Errorf("discordfake: user %q is not a member of private thread %q", userID, c.ID)
	case !s.viewable(c, userID):
		return fmt.Errorf("discordfake: user %q cannot view channel %q", userID, c.ID)
	}
	return nil
}

// deliverInteraction dispatches an interaction to the sessions that see its
// guild; interactions need no intent. Callers hold s.mu.
func (s *Server) deliverInteraction(i *interaction) error {
	if s.postInteractionLocked(i) {
		return nil
	}
	n := s.broadcastGuild("INTERACTION_CREATE", i.GuildID, 0, func(*session) any { return i.payload })
	if n == 0 {
		return ErrNotDelivered
	}
	return nil
}

// ClickButton clicks a button of a message as a user: the message must carry
// a non-link, enabled button with that custom_id (an ephemeral message only
// for its recipient).
func (s *Server) ClickButton(userID, channelID, messageID, customID string) (Interaction, error) {
	return s.component(userID, channelID, messageID, customID, nil)
}

// SelectMenu chooses values in a select menu of a message as a user.
func (s *Server) SelectMenu(userID, channelID, messageID, customID string, values ...string) (Interaction, error) {
	if values == nil {
		values = []string{}
	}
	return s.component(userID, channelID, messageID, customID, values)
}

func (s *Server) component(userID, channelID, messageID, customID string, values []string) (Interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	m := s.messages[messageID]
	if m == nil || m.Deleted || m.ChannelID != channelID {
		return Interaction{}, fmt.Errorf("discordfake: no message %q in channel %q", messageID, channelID)
	}
	if m.Ephemeral && m.EphemeralFor != userID {
		return Interaction{}, fmt.Errorf("discordfake: ephemeral message %q is only visible to %q", messageID, m.EphemeralFor)
	}
	var found *component
	for _, row := range parseComponents(m.Components) {
		for _, c := range row.all() {
			if c.CustomID == customID && c.Type != componentActionRow {
				found = &c
				break
			}
		}
	}
	switch {
	case found == nil:
		return Interaction{}, fmt.Errorf("discordfake: message %q has no component %q", messageID, customID)
	case found.Disabled:
		return Interaction{}, fmt.Errorf("discordfake: component %q is disabled", customID)
	case values == nil && found.Type != componentButton:
		return Interaction{}, fmt.Errorf("discordfake: component %q is not a button", customID)
	case values != nil && found.Type == componentButton:
		return Interaction{}, fmt.Errorf("discordfake: component %q is a button, not a select menu", customID)
	}
	d := map[string]any{"custom_id": customID, "component_type": found.Type}
	if values != nil {
		d["values"] = values
	}
	data, _ := json.Marshal(d)
	i, err := s.newInteraction(Interaction{Type: InteractionMessageComponent, ChannelID: channelID, UserID: userID, MessageID: messageID, Data: data})
	if err != nil {
		return Interaction{}, err
	}
	return i.Interaction, s.deliverInteraction(i)
}

// SubmitModal submits, as a user, the modal with that custom_id last shown to
// them (a type 9 response). values are keyed by text input custom_id; inputs
// left out are sent empty, which fails for required inputs, and unknown keys
// fail. Answering the submission closes the modal; until then (the bot did not
// answer in time) it stays open and can be submitted again, as on Discord.
func (s *Server) SubmitModal(userID, customID string, values map[string]string) (Interaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	var from *interaction
	for _, i := range s.interactions {
		if i.UserID == userID && i.modal != nil && i.modal.CustomID == customID && (from == nil || compareSnowflakes(i.ID, from.ID) > 0) {
			from = i
		}
	}
	if from == nil {
		return Interaction{}, fmt.Errorf("discordfake: no open modal %q for user %q", customID, userID)
	}
	rows := parseComponents(from.modal.Components)
	known := map[string]bool{}
	var out []any
	for _, row := range rows {
		ti := row.Components[0]
		known[ti.CustomID] = true
		v := values[ti.CustomID]
		if v == "" && (ti.Required == nil || *ti.Required) {
			return Interaction{}, fmt.Errorf("discordfake: modal %q: text input %q is required", customID, ti.CustomID)
		}
		if ti.MaxLength > 0 && len([]rune(v)) > ti.MaxLength {
			return Interaction{}, fmt.Errorf("discordfake: modal %q: text input %q is longer than %d", customID, ti.CustomID, ti.MaxLength)
		}
		out = append(out, map[string]any{"type": componentActionRow, "components": []any{
			map[string]any{"type": componentTextInput, "custom_id": ti.CustomID, "value": v},
		}})
	}
	for k := range values {
		if !known[k] {
			return Interaction{}, fmt.Errorf("discordfake: modal %q has no text input %q", customID, k)
		}
	}
	data, _ := json.Marshal(map[string]any{"custom_id": customID, "components": out})
	msgID := ""
	if from.Type == InteractionMessageComponent {
		msgID = from.MessageID
	}
	i, err := s.newInteraction(Interaction{Type: InteractionModalSubmit, ChannelID: from.ChannelID, UserID: userID, MessageID: msgID, Data: data})
	if err != nil {
		return Interaction{}, err
	}
	i.modalFrom = from
	return i.Interaction, s.deliverInteraction(i)
}

// OpenModal returns the custom_id and text input custom_ids of the modal open
// for a user, if any.
func (s *Server) OpenModal(userID string) (customID string, inputs []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var from *interaction
	for _, i := range s.interactions {
		if i.UserID == userID && i.modal != nil && (from == nil || compareSnowflakes(i.ID, from.ID) > 0) {
			from = i
		}
	}
	if from == nil {
		return "", nil, false
	}
	for _, row := range parseComponents(from.modal.Components) {
		inputs = append(inputs, row.Components[0].CustomID)
	}
	return from.modal.CustomID, inputs, true
}

// interactionCallback handles POST /interactions/{id}/{token}/callback.
func (s *Server) interactionCallback(q *request) response {
	i := s.interactions[q.path("interaction_id")]
	if i == nil || i.Token != q.path("interaction_token") {
		return apiError(http.StatusNotFound, 10062, "Unknown interaction")
	}
	var b struct {
		Type int                     `json:"type"`
		Data interactionResponseData `json:"data"`
	}
	var raw struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(q.body, &b) != nil || json.Unmarshal(q.body, &raw) != nil {
		return badJSON()
	}
	rec := InteractionResponse{Type: b.Type, Data: normalizeObject(raw.Data), Content: b.Data.content(), Flags: b.Data.flags(),
		CustomID: b.Data.CustomID, Title: b.Data.Title, Components: normalizeArray(b.Data.Components), At: q.now}
	resp := s.respond(i, b.Type, b.Data, raw.Data, q.now)
	rec.Status = resp.status
	if m, ok := resp.body.(map[string]any); ok {
		rec.Code, _ = m["code"].(int)
	}
	if len(i.responses) < maxInteractionResponses {
		i.responses = append(i.responses, rec)
	}
	return resp
}

// respond applies an initial interaction response. Callers hold s.mu.
func (s *Server) respond(i *interaction, typ int, d interactionResponseData, raw json.RawMessage, now time.Time) response {
	if i.acked {
		return apiError(http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
	}
	if now.Sub(i.created) > s.opts.InteractionDeadline {
		return apiError(http.StatusNotFound, 10062, "Unknown interaction")
	}
	fromMessage := i.MessageID != ""
	switch typ {
	case responsePong:
		if i.Type != InteractionPing {
			return invalidForm(newFormError("INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type", "type"))
		}
	case responseMessage:
		if resp, bad := d.check(true); bad {
			return resp
		}
		i.original = s.responseMessage(i, &d.messageBody, d.flags(), now).ID
	case responseDeferredMessage:
		if i.Type == InteractionPing {
			return invalidForm(newFormError("INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type", "type"))
		}
		i.original = s.responseMessage(i, &messageBody{}, d.flags()&flagEphemeral|flagLoading, now).ID
	case responseDeferredUpdate, responseUpdateMessage:
		if !fromMessage {
			return invalidForm(newFormError("INTERACTION_RESPONSE_TYPE_INVALID", "Interaction response type is only valid for component interactions", "type"))
		}
		m := s.messages[i.MessageID]
		if m == nil || m.Deleted {
			return unknownMessage()
		}
		if typ == responseUpdateMessage {
			if resp, bad := s.applyEdit(m, raw, now); bad {
				return resp
			}
		}
		i.original = m.ID
	case responseAutocomplete:
		if i.Type != InteractionAutocomplete {
			return invalidForm(newFormError("INTERACTION_RESPONSE_TYPE_INVALID", "Invalid interaction response type", "type"))
		}
	case responseModal:
		if i.Type == InteractionModalSubmit || i.Type == InteractionPing {
			return invalidForm(newFormError("INTERACTION_RESPONSE_TYPE_INVALID", "A modal cannot answer this interaction", "type"))
		}
		if err := validateModal(d); err != nil {
			return invalidForm(err)
		}
		dd := d
		dd.Components = normalizeArray(d.Components)
		i.modal = &dd
	default:
		return invalidForm(newFormError("BASE_TYPE_CHOICES", "Value must be one of {1, 4, 5, 6, 7, 8, 9, 10, 12}.", "type"))
	}
	i.acked = true
	i.respType = typ
	if i.modalFrom != nil {
		i.modalFrom.modal = nil
	}
	return noContent()
}

// responseMessage creates the original response message or a follow-up.
// Callers hold s.mu.
func (s *Server) responseMessage(i *interaction, b *messageBody, flags int, now time.Time) *Message {
	c := s.channels[i.ChannelID]
	typ := 0
	if i.Type == InteractionApplicationCommand {
		typ = messageTypeChatInput
		if i.cmdType == commandTypeUser || i.cmdType == commandTypeMessage {
			typ = messageTypeContextMenu
		}
	}
	m := &Message{
		ID: s.nextID(), ChannelID: c.ID, GuildID: c.GuildID, Author: *s.users[s.opts.BotUserID],
		Content: b.content(), Components: normalizeArray(b.Components), Embeds: normalizeArray(b.Embeds),
		Flags: flags & (1<<2 | flagEphemeral | flagLoading | 1<<12 | flagComponentsV2), Type: typ, Timestamp: now,
		InteractionID: i.ID, WebhookID: s.opts.ApplicationID,
	}
	if m.Flags&flagEphemeral != 0 {
		m.Ephemeral, m.EphemeralFor = true, i.UserID
	}
	m.Mentions = s.mentions(m)
	s.storeMessage(m)
	return m
}

func normalizeObject(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return slices.Clone(raw)
}

// webhookInteraction finds the interaction of a webhook path and checks that
// its token is usable. Callers hold s.mu.
func (s *Server) webhookInteraction(q *request) (*interaction, response, bool) {
	i := s.interactions[s.byToken[q.path("interaction_token")]]
	if q.path("application_id") != s.opts.ApplicationID || i == nil || !i.acked {
		return nil, apiError(http.StatusNotFound, 10015, "Unknown Webhook"), false
	}
	if q.now.Sub(i.created) > s.opts.InteractionTokenTTL {
		return nil, apiError(http.StatusUnauthorized, 50027, "Invalid Webhook Token"), false
	}
	return i, response{}, true
}

// createFollowup handles POST /webhooks/{app}/{token}. After a deferred
// response, the first follow-up replaces the "thinking" message, as on
// Discord.
func (s *Server) createFollowup(q *request) response {
	i, resp, ok := s.webhookInteraction(q)
	if !ok {
		return resp
	}
	var b messageBody
	if json.Unmarshal(q.body, &b) != nil {
		return badJSON()
	}
	if resp, bad := b.check(true); bad {
		return resp
	}
	var m *Message
	if o := s.messages[i.original]; o != nil && i.respType == responseDeferredMessage && o.Flags&flagLoading != 0 && !o.Deleted {
		if resp, bad := s.applyEdit(o, q.body, q.now); bad {
			return resp
		}
		o.EditedTimestamp = time.Time{}
		m = o
	} else {
		m = s.responseMessage(i, &b, b.flags(), q.now)
		i.followups = append(i.followups, m.ID)
	}
	if q.r.URL.Query().Get("wait") != "true" {
		return noContent()
	}
	return okJSON(s.wireMessage(m, nil))
}

// webhookMessage resolves @original or a follow-up ID. Callers hold s.mu.
func (s *Server) webhookMessage(i *interaction, id string) *Message {
	if id == "@original" {
		id = i.original
	} else if id != i.original && !slices.Contains(i.followups, id) {
		return nil
	}
	m := s.messages[id]
	if m == nil || m.Deleted {
		return nil
	}
	return m
}

func (s *Server) getWebhookMessage(q *request) response {
	i, resp, ok := s.webhookInteraction(q)
	if !ok {
		return resp
	}
	m := s.webhookMessage(i, q.path("message_id"))
	if m == nil {
		return unknownMessage()
	}
	return okJSON(s.wireMessage(m, nil))
}

func (s *Server) editWebhookMessage(q *request) response {
	i, resp, ok := s.webhookInteraction(q)
	if !ok {
		return resp
	}
	m := s.webhookMessage(i, q.path("message_id"))
	if m == nil {
		return unknownMessage()
	}
	if resp, bad := s.applyEdit(m, q.body, q.now); bad {
		return resp
	}
	return okJSON(s.wireMessage(m, nil))
}

func (s *Server) deleteWebhookMessage(q *request) response {
	i, resp, ok := s.webhookInteraction(q)
	if !ok {
		return resp
	}
	m := s.webhookMessage(i, q.path("message_id"))
	if m == nil {
		return unknownMessage()
	}
	m.Deleted = true
	if !m.Ephemeral {
		s.dispatchDelete(m)
	}
	return noContent()
}

// InteractionResponses returns every call of the callback endpoint for an
// interaction, in order, refused ones included (see Status).
func (s *Server) InteractionResponses(interactionID string) []InteractionResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.interactions[interactionID]
	if i == nil {
		return nil
	}
	out := make([]InteractionResponse, len(i.responses))
	for k, r := range i.responses {
		r.Data = slices.Clone(r.Data)
		r.Components = slices.Clone(r.Components)
		out[k] = r
	}
	return out
}

// OriginalResponse returns the message of an interaction's initial response:
// the response message (type 4 or 5, possibly ephemeral) or, for types 6 and
// 7, the component's message.
func (s *Server) OriginalResponse(interactionID string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.interactions[interactionID]
	if i == nil || i.original == "" {
		return Message{}, false
	}
	m := s.messages[i.original]
	if m == nil {
		return Message{}, false
	}
	return m.clone(), true
}

// Followups returns an interaction's follow-up messages, in order.
func (s *Server) Followups(interactionID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.interactions[interactionID]
	if i == nil {
		return nil
	}
	var out []Message
	for _, id := range i.followups {
		if m := s.messages[id]; m != nil {
			out = append(out, m.clone())
		}
	}
	return out
}
