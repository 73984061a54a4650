package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

type responseURL struct {
	channel string
	user    string
	origin  origin
	uses    int
	expires time.Time
}

// ResponsePost is one POST to a response_url, accepted or not.
type ResponsePost struct {
	URL    string
	Body   json.RawMessage
	Status int
	// Error is Slack's error code for a refused post ("used_url", "expired_url",
	// "invalid_payload", "invalid_blocks"); empty when accepted.
	Error string
}

// ResponsePosts returns every POST to a response_url, in order.
func (s *Server) ResponsePosts() []ResponsePost {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ResponsePost, 0, len(s.posts))
	for _, p := range s.posts {
		p.Body = cloneBytes(p.Body)
		out = append(out, p)
	}
	return out
}

// ExpireResponseURL makes a response_url expired now, without waiting 30 minutes.
func (s *Server) ExpireResponseURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.responses[u]; r != nil {
		r.expires = s.cfg.Now().Add(-time.Nanosecond)
	}
}

// newResponseURLLocked issues a response_url for an interaction (kind "actions")
// or a slash command (kind "commands").
func (s *Server) newResponseURLLocked(kind string, ch *channel, userID string, o origin) string {
	s.seq++
	u := fmt.Sprintf("%s/%s/%s/%d/%s", s.srv.URL, kind, s.cfg.TeamID, 1000000000+s.seq, randomHex(12))
	s.responses[u] = &responseURL{
		channel: ch.id,
		user:    userID,
		origin:  o,
		expires: s.cfg.Now().Add(s.cfg.ResponseURLTTL),
	}
	return u
}

// handleResponseURL accepts up to ResponseURLUses JSON posts within ResponseURLTTL
// and applies them: replace_original, delete_original, response_type in_channel,
// or an ephemeral message to the user by default.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	u := s.srv.URL + r.URL.Path
	s.mu.Lock()
	defer s.mu.Unlock()
	status, code := s.respondLocked(u, body)
	if code == "" {
		s.recordResponseEffectLocked(u, body)
	}
	s.posts = append(s.posts, ResponsePost{URL: u, Body: body, Status: status, Error: code})
	s.notifyLocked()
	if code != "" {
		writeJSONStatus(w, status, map[string]any{"ok": false, "error": code})
		return
	}
	writeJSON(w, map[string]any{"ok": true})
}

func (s *Server) respondLocked(u string, body []byte) (int, string) {
	ru := s.responses[u]
	if ru == nil || !s.cfg.Now().Before(ru.expires) {
		return http.StatusNotFound, "expired_url"
	}
	if ru.uses >= s.cfg.ResponseURLUses {
		return http.StatusNotFound, "used_url"
	}
	var msg struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
		ThreadTS        string          `json:"thread_ts"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return http.StatusBadRequest, "invalid_payload"
	}
	blocks, ok := s.responseBlocksLocked(msg.Blocks)
	if !ok {
		return http.StatusBadRequest, "invalid_blocks"
	}
	ru.uses++
	ch := s.channels[ru.channel]
	if ch == nil {
		return http.StatusNotFound, "channel_not_found"
	}
	o := ru.origin
	switch {
	case msg.DeleteOriginal && o.ts != "":
		if o.ephemeral {
			s.removeEphemeralLocked(ch, ru.user, o.ts)
		} else {
			ch.remove(o.ts)
		}
	case msg.ReplaceOriginal && o.ts != "":
		s.replaceOriginalLocked(ch, ru.user, o, msg.Text, blocks)
	case msg.ResponseType == "in_channel":
		s.postLocked(ch, msg.Text, blocks, threadParent(ch, firstNonEmpty(msg.ThreadTS, o.threadTS)))
	default:
		s.ephemeralLocked(ch, ru.user, msg.Text, blocks, firstNonEmpty(msg.ThreadTS, o.threadTS), "response_url")
	}
	s.notifyLocked()
	return http.StatusOK, ""
}

func (s *Server) replaceOriginalLocked(ch *channel, userID string, o origin, text string, blocks []byte) {
	if o.ephemeral {
		for _, e := range ch.ephem {
			if e.TS == o.ts && e.User == userID {
				e.Text, e.Blocks = text, blocks
			}
		}
		return
	}
	if m := ch.find(o.ts); m != nil {
		m.Text, m.Blocks = text, blocks
		m.Edits++
	}
}

func (s *Server) removeEphemeralLocked(ch *channel, userID, ts string) {
	for i, e := range ch.ephem {
		if e.TS == ts && e.User == userID {
			ch.ephem = append(ch.ephem[:i], ch.ephem[i+1:]...)
			return
		}
	}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
