package discordfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// ResponseMessage is the interaction response type that answers with a new
// message (Effect.Type); 7 updates the component's message, 9 opens a modal.
const ResponseMessage = responseMessage

// effectRoutes are the routes whose success changes what people see.
var effectRoutes = map[string]bool{
	RouteCreateMessage: true, RouteEditMessage: true, RouteDeleteMessage: true,
	RouteStartThread: true, RouteStartThreadFromMessage: true,
	RouteAddThreadMember: true, RouteRemoveThreadMember: true,
	RouteInteractionCallback: true, RouteCreateFollowup: true,
	RouteEditWebhookMessage: true, RouteDeleteWebhookMessage: true,
}

// Effect is one outward effect the bot had on the community: a message
// created, edited or deleted, a thread started, a member added to or removed
// from a thread, an interaction's initial response (over the callback route
// or as the body of an HTTP interaction's response), a follow-up, an edit or
// deletion of an interaction's message. Only accepted requests are effects;
// a message creation answered from its nonce (enforce_nonce) is none.
type Effect struct {
	// Seq orders effects, from 1.
	Seq int
	// Route is the Route* constant of the request; an HTTP interaction's
	// response counts as RouteInteractionCallback.
	Route string
	// Channel is the channel, thread or DM it happened in, when known.
	Channel string
	// Target is what it changed: the message edited or deleted, the
	// interaction answered, the user added or removed.
	Target string
	// Created is the ID of the message or thread it made.
	Created string
	// Interaction is the interaction a callback, follow-up or webhook edit
	// belongs to.
	Interaction string
	// Type is an interaction response's type (ResponseMessage, 7 an update of
	// the component's message, 9 a modal…), 0 for other effects.
	Type int
	// Content is the message content or thread name, for reading failures.
	Content string
	// Digest is a hash of the request body without its nonce.
	Digest string
}

// Key identifies an effect as a person sees it: two effects with one Key are
// the same effect made twice.
func (e Effect) Key() string {
	return strings.Join([]string{e.Route, e.Channel, e.Target, e.Interaction, e.Digest}, "|")
}

// Effects returns every outward effect so far, in order.
func (s *Server) Effects() []Effect {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Effect(nil), s.effects...)
}

// CountEffects returns how many effects of a route ("" for all) there were.
func (s *Server) CountEffects(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.effects {
		if route == "" || e.Route == route {
			n++
		}
	}
	return n
}

// recordEffect records an accepted request that changed what people see.
// Callers hold s.mu.
func (s *Server) recordEffect(route string, q *request, resp response) {
	if !effectRoutes[route] || resp.status < 200 || resp.status > 299 {
		return
	}
	e := Effect{Route: route, Channel: q.path("channel_id"), Digest: bodyDigest(q.body)}
	if b, ok := resp.body.(map[string]any); ok {
		e.Created, _ = b["id"].(string)
		if e.Channel == "" {
			e.Channel, _ = b["channel_id"].(string)
		}
	}
	var body struct {
		Type    int    `json:"type"`
		Content string `json:"content"`
		Name    string `json:"name"`
		Data    struct {
			Content string `json:"content"`
		} `json:"data"`
	}
	_ = json.Unmarshal(q.body, &body)
	e.Content = body.Content + body.Name + body.Data.Content
	switch route {
	case RouteCreateMessage:
		if s.effectCreated[e.Created] {
			return // the message its nonce names, returned again
		}
	case RouteEditMessage, RouteDeleteMessage:
		e.Target = q.path("message_id")
		e.Created = ""
	case RouteStartThreadFromMessage:
		e.Target = q.path("message_id")
	case RouteAddThreadMember, RouteRemoveThreadMember:
		e.Target = q.path("user_id")
	case RouteInteractionCallback:
		e.Interaction = q.path("interaction_id")
		e.Target, e.Created, e.Type = e.Interaction, "", body.Type
		if i := s.interactions[e.Interaction]; i != nil {
			e.Channel = i.ChannelID
		}
	case RouteCreateFollowup, RouteEditWebhookMessage, RouteDeleteWebhookMessage:
		e.Interaction = s.byToken[q.path("interaction_token")]
		e.Target = q.path("message_id")
		if route != RouteCreateFollowup {
			e.Created = ""
		}
	}
	if e.Created != "" {
		if s.effectCreated == nil {
			s.effectCreated = map[string]bool{}
		}
		s.effectCreated[e.Created] = true
	}
	e.Seq = len(s.effects) + 1
	s.effects = append(s.effects, e)
}

// bodyDigest hashes a request body without its nonce and enforce_nonce.
func bodyDigest(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil && m != nil {
		delete(m, "nonce")
		delete(m, "enforce_nonce")
		body, _ = json.Marshal(m)
	}
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:12])
}
