package slackfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Kinds of Effect besides the Web API methods that have one
// (chat.postMessage, chat.postEphemeral, chat.update, chat.delete, views.open,
// views.push, views.update).
const (
	// EffectResponseURL is an accepted POST to a response_url.
	EffectResponseURL = "response_url"
	// EffectAck is an acknowledgement's payload Slack acted on: a slash
	// command's immediate response or a view submission's response_action,
	// in a Socket Mode ack or an HTTP response body.
	EffectAck = "ack"
)

// effectMethods are the Web API methods whose success changes what people see.
var effectMethods = map[string]bool{
	"chat.postMessage": true, "chat.postEphemeral": true, "chat.update": true, "chat.delete": true,
	"views.open": true, "views.push": true, "views.update": true,
}

// Effect is one outward effect the app had on the workspace: a message
// posted, updated or deleted, an ephemeral shown, a view opened, pushed or
// updated, a response_url post, an acknowledgement's response applied. Only
// accepted calls are effects; refused ones changed nothing.
type Effect struct {
	// Seq orders effects, from 1.
	Seq int
	// Kind is the Web API method, EffectResponseURL or EffectAck.
	Kind string
	// Channel is where it shows (empty for views); Thread the thread's parent
	// ts when it was posted in a thread.
	Channel, Thread string
	// Target is what it changed: the ts of an updated or deleted message (or of
	// the message a response_url replaced), the ID of an updated view, the
	// envelope of an ack.
	Target string
	// Created is the ts of the message or the ID of the view it made.
	Created string
	// User is the one person who sees it: an ephemeral's recipient, a
	// response_url's user.
	User string
	// Trigger is the trigger_id a view was opened or pushed with.
	Trigger string
	// Text is the message text, for reading test failures.
	Text string
	// Digest is a hash of everything the effect shows (text, blocks, view,
	// response flags), without the message metadata.
	Digest string
}

// Key identifies an effect as a person sees it: two effects with one Key are
// the same effect made twice. A view opened with a trigger is keyed by the
// trigger, which Slack accepts once: the same modal opened again after a
// second click is a second effect.
func (e Effect) Key() string {
	if e.Kind == "views.open" || e.Kind == "views.push" {
		return e.Kind + "|" + e.Trigger
	}
	return strings.Join([]string{e.Kind, e.Channel, e.Thread, e.Target, e.User, e.Digest}, "|")
}

// Effects returns every outward effect so far, in order.
func (s *Server) Effects() []Effect {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Effect(nil), s.effects...)
}

// CountEffects returns how many effects kind (a method, or "" for all)
// there were so far.
func (s *Server) CountEffects(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.effects {
		if kind == "" || e.Kind == kind {
			n++
		}
	}
	return n
}

// recordEffectLocked records an accepted Web API call that changed what
// people see; body is its ok:true response.
func (s *Server) recordEffectLocked(method string, a args, body map[string]any) {
	if !effectMethods[method] {
		return
	}
	e := Effect{Kind: method, Text: a.str("text")}
	e.Channel, _ = body["channel"].(string)
	switch method {
	case "chat.postMessage":
		e.Created, _ = body["ts"].(string)
		if ch := s.channels[e.Channel]; ch != nil {
			if m := ch.find(e.Created); m != nil {
				e.Thread = m.ThreadTS
			}
		}
		e.Digest = digest(a.str("text"), a.raw("blocks"), a.raw("attachments"), a.str("reply_broadcast"))
	case "chat.postEphemeral":
		e.Channel = s.channelIDLocked(a.str("channel"))
		e.Created, _ = body["message_ts"].(string)
		e.Thread, e.User = a.str("thread_ts"), a.str("user")
		e.Digest = digest(a.str("text"), a.raw("blocks"), a.raw("attachments"))
	case "chat.update":
		e.Target = a.str("ts")
		e.Digest = digest(a.str("text"), a.raw("blocks"), a.raw("attachments"))
	case "chat.delete":
		e.Target = a.str("ts")
	case "views.open", "views.push":
		e.Trigger = a.str("trigger_id")
		if v, ok := body["view"].(map[string]any); ok {
			e.Created, _ = v["id"].(string)
		}
		e.Digest = digest(string(a.raw("view")))
	case "views.update":
		e.Target = firstNonEmpty(a.str("view_id"), a.str("external_id"))
		e.Digest = digest(string(a.raw("view")))
	}
	s.appendEffectLocked(e)
}

// recordResponseEffectLocked records an accepted response_url post.
func (s *Server) recordResponseEffectLocked(u string, body []byte) {
	ru := s.responses[u]
	if ru == nil {
		return
	}
	var msg struct {
		Text            string `json:"text"`
		ReplaceOriginal bool   `json:"replace_original"`
		DeleteOriginal  bool   `json:"delete_original"`
	}
	_ = json.Unmarshal(body, &msg)
	e := Effect{Kind: EffectResponseURL, Channel: ru.channel, User: ru.user, Text: msg.Text, Digest: digest(string(body))}
	if msg.ReplaceOriginal || msg.DeleteOriginal {
		e.Target = ru.origin.ts
	}
	s.appendEffectLocked(e)
}

// recordAckEffectLocked records an acknowledgement's payload Slack acted on.
func (s *Server) recordAckEffectLocked(envelopeID string, payload []byte) {
	if len(payload) == 0 || string(payload) == "null" {
		return
	}
	s.appendEffectLocked(Effect{Kind: EffectAck, Target: envelopeID, Digest: digest(string(payload))})
}

func (s *Server) appendEffectLocked(e Effect) {
	e.Seq = len(s.effects) + 1
	s.effects = append(s.effects, e)
}

// digest hashes the parts of an effect that people see.
func digest(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			h.Write([]byte(v))
		case []byte:
			h.Write(v)
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
