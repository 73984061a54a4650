package slackfake

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits of a modal view Slack enforces.
const (
	maxViewTitle           = 24
	maxViewPrivateMetadata = 3000
	maxViewStack           = 3
)

type trigger struct {
	user    string
	expires time.Time
	used    bool
}

// View is a modal the app opened, as the fake keeps it.
type View struct {
	ID              string
	UserID          string // whose trigger opened it
	Type            string
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Hash            string
	RootViewID      string
	PreviousViewID  string
	Title           string // the title's text
	// Blocks are the stored blocks, generated IDs filled in.
	Blocks json.RawMessage
	// Open is false once the user submitted it (and the ack closed it) or a
	// response_action "clear" closed the stack.
	Open bool
	// Errors holds the last response_action "errors" the app acked with.
	Errors map[string]string
	// Updates counts views.update calls and response_action "update" acks.
	Updates int
	raw     map[string]any // the view object as stored, for rendering
}

// NewTrigger issues a trigger_id for userID, exchangeable once within TriggerTTL,
// as if the user had just clicked something.
func (s *Server) NewTrigger(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newTriggerLocked(userID)
}

// ExpireTrigger makes a trigger_id expired now, without waiting for TriggerTTL.
func (s *Server) ExpireTrigger(triggerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.triggers[triggerID]; t != nil {
		t.expires = s.cfg.Now().Add(-time.Nanosecond)
	}
}

func (s *Server) newTriggerLocked(userID string) string {
	s.seq++
	id := fmt.Sprintf("%d.%d.%s", 1700000000000+s.seq, 1000000001, randomHex(16))
	s.triggers[id] = &trigger{user: userID, expires: s.cfg.Now().Add(s.cfg.TriggerTTL)}
	return id
}

// Views returns every view the app opened, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.views))
	for _, v := range s.views {
		out = append(out, copyView(v))
	}
	return out
}

// View returns one view by ID.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.viewLocked(id); v != nil {
		return copyView(v), true
	}
	return View{}, false
}

func copyView(v *View) View {
	c := *v
	c.Blocks = cloneBytes(v.Blocks)
	c.raw = nil
	if v.Errors != nil {
		c.Errors = make(map[string]string, len(v.Errors))
		for k, e := range v.Errors {
			c.Errors[k] = e
		}
	}
	return c
}

func (s *Server) viewLocked(id string) *View {
	for _, v := range s.views {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// exchangeTriggerLocked spends a trigger and returns its user.
func (s *Server) exchangeTriggerLocked(id string) (string, string, []string) {
	if id == "" {
		return "", "invalid_arguments", []string{"[ERROR] missing required field: trigger_id [json-pointer:/trigger_id]"}
	}
	t := s.triggers[id]
	switch {
	case t == nil:
		return "", "invalid_arguments", []string{"invalid `trigger_id`"}
	case t.used:
		return "", "exchanged_trigger_id", nil
	case !s.cfg.Now().Before(t.expires):
		return "", "expired_trigger_id", nil
	}
	t.used = true
	return t.user, "", nil
}

// parseViewLocked validates a view object and stores its normalized form in v.
func (s *Server) parseViewLocked(raw []byte, v *View) (string, []string) {
	var obj map[string]any
	if len(raw) == 0 || decodeJSON(raw, &obj) != nil || obj == nil {
		return "invalid_arguments", []string{"[ERROR] missing required field: view [json-pointer:/view]"}
	}
	var c blockCheck
	typ, _ := obj["type"].(string)
	if typ != "modal" {
		c.fail("/view/type", "must be modal")
	}
	title := textOf(obj["title"])
	if title == "" {
		c.fail("/view/title", "missing required field: title")
	}
	for _, f := range []string{"title", "submit", "close"} {
		if utf8.RuneCountInString(textOf(obj[f])) > maxViewTitle {
			c.fail("/view/"+f+"/text", "must be less than %d characters", maxViewTitle+1)
		}
	}
	meta, _ := obj["private_metadata"].(string)
	if utf8.RuneCountInString(meta) > maxViewPrivateMetadata {
		c.fail("/view/private_metadata", "must be less than %d characters", maxViewPrivateMetadata+1)
	}
	if len(c.msgs) > 0 {
		return "invalid_arguments", c.msgs
	}
	rawBlocks := []byte("[]")
	if b, ok := obj["blocks"]; ok {
		rawBlocks = encodeJSON(b)
	}
	blocks, code, msgs := s.normalizeBlocksLocked(rawBlocks, maxViewBlocks, "/view/blocks")
	if code != "" {
		return "invalid_arguments", msgs
	}
	if len(inputElements(blocks)) > 0 && obj["submit"] == nil {
		return "invalid_arguments", []string{"[ERROR] submit is required when an input block is within the blocks [json-pointer:/view/submit]"}
	}
	var stored any
	_ = decodeJSON(blocks, &stored)
	obj["blocks"] = stored
	v.Type = typ
	v.Title = title
	v.CallbackID, _ = obj["callback_id"].(string)
	v.PrivateMetadata = meta
	v.ExternalID, _ = obj["external_id"].(string)
	v.Blocks = blocks
	v.raw = obj
	v.Hash = fmt.Sprintf("%d.%s", s.cfg.Now().Unix(), randomHex(4))
	return "", nil
}

// textOf returns a text object's text.
func textOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["text"].(string)
	return s
}

// viewJSON renders a stored view as views.* responses and payloads carry it.
func (s *Server) viewJSON(v *View, state map[string]any) map[string]any {
	out := map[string]any{}
	for k, val := range v.raw {
		out[k] = val
	}
	if state == nil {
		state = map[string]any{"values": map[string]any{}}
	}
	prev := any(nil)
	if v.PreviousViewID != "" {
		prev = v.PreviousViewID
	}
	out["id"] = v.ID
	out["team_id"] = s.cfg.TeamID
	out["type"] = v.Type
	out["private_metadata"] = v.PrivateMetadata
	out["callback_id"] = v.CallbackID
	out["external_id"] = v.ExternalID
	out["state"] = state
	out["hash"] = v.Hash
	out["root_view_id"] = v.RootViewID
	out["previous_view_id"] = prev
	out["app_id"] = s.cfg.AppID
	out["app_installed_team_id"] = s.cfg.TeamID
	out["bot_id"] = s.cfg.BotID
	for _, k := range []string{"clear_on_close", "notify_on_close"} {
		if _, ok := out[k]; !ok {
			out[k] = false
		}
	}
	return out
}

func (s *Server) externalIDTakenLocked(id string) bool {
	if id == "" {
		return false
	}
	for _, v := range s.views {
		if v.ExternalID == id {
			return true
		}
	}
	return false
}

// openViewLocked stores a new view on top of previous (nil for a new stack).
func (s *Server) openViewLocked(userID string, raw []byte, previous *View) (*View, string, []string) {
	v := &View{UserID: userID, Open: true}
	if code, msgs := s.parseViewLocked(raw, v); code != "" {
		return nil, code, msgs
	}
	if s.externalIDTakenLocked(v.ExternalID) {
		return nil, "duplicate_external_id", nil
	}
	v.ID = s.nextIDLocked("V")
	v.RootViewID = v.ID
	if previous != nil {
		v.RootViewID = previous.RootViewID
		v.PreviousViewID = previous.ID
	}
	s.views = append(s.views, v)
	s.notifyLocked()
	return v, "", nil
}

func (s *Server) viewsOpen(a args) (map[string]any, string, []string) {
	user, code, msgs := s.exchangeTriggerLocked(a.str("trigger_id"))
	if code != "" {
		return nil, code, msgs
	}
	v, code, msgs := s.openViewLocked(user, a.raw("view"), nil)
	if code != "" {
		return nil, code, msgs
	}
	return map[string]any{"view": s.viewJSON(v, nil)}, "", nil
}

// topViewLocked is the user's open view on top of its stack.
func (s *Server) topViewLocked(userID string) *View {
	for i := len(s.views) - 1; i >= 0; i-- {
		if v := s.views[i]; v.UserID == userID && v.Open {
			return v
		}
	}
	return nil
}

func (s *Server) stackDepthLocked(rootID string) int {
	n := 0
	for _, v := range s.views {
		if v.RootViewID == rootID && v.Open {
			n++
		}
	}
	return n
}

func (s *Server) viewsPush(a args) (map[string]any, string, []string) {
	user, code, msgs := s.exchangeTriggerLocked(a.str("trigger_id"))
	if code != "" {
		return nil, code, msgs
	}
	top := s.topViewLocked(user)
	if top == nil {
		return nil, "not_found", []string{"slackfake: no open view to push onto"}
	}
	if s.stackDepthLocked(top.RootViewID) >= maxViewStack {
		return nil, "push_limit_reached", nil
	}
	v, code, msgs := s.openViewLocked(user, a.raw("view"), top)
	if code != "" {
		return nil, code, msgs
	}
	return map[string]any{"view": s.viewJSON(v, nil)}, "", nil
}

func (s *Server) viewsUpdate(a args) (map[string]any, string, []string) {
	var v *View
	if id := a.str("view_id"); id != "" {
		v = s.viewLocked(id)
	} else if ext := a.str("external_id"); ext != "" {
		for _, vs := range s.views {
			if vs.ExternalID == ext {
				v = vs
			}
		}
	} else {
		return nil, "invalid_arguments", []string{"[ERROR] view_id or external_id is required"}
	}
	if v == nil {
		return nil, "not_found", nil
	}
	if h := a.str("hash"); h != "" && h != v.Hash {
		return nil, "hash_conflict", nil
	}
	if code, msgs := s.updateViewLocked(v, a.raw("view")); code != "" {
		return nil, code, msgs
	}
	return map[string]any{"view": s.viewJSON(v, nil)}, "", nil
}

// updateViewLocked replaces a view's content, keeping its identity.
func (s *Server) updateViewLocked(v *View, raw []byte) (string, []string) {
	next := &View{}
	if code, msgs := s.parseViewLocked(raw, next); code != "" {
		return code, msgs
	}
	v.Type, v.Title, v.CallbackID = next.Type, next.Title, next.CallbackID
	v.PrivateMetadata, v.Blocks, v.raw, v.Hash = next.PrivateMetadata, next.Blocks, next.raw, next.Hash
	if next.ExternalID != "" {
		v.ExternalID = next.ExternalID
	}
	v.Errors = nil
	v.Updates++
	s.notifyLocked()
	return "", nil
}

// applySubmissionAckLocked does what Slack does with the ack of a view_submission:
// no response_action closes the view, "errors" keeps it open with the errors,
// "update" replaces it, "push" stacks a new one, "clear" closes the whole stack.
func (s *Server) applySubmissionAckLocked(viewID string, payload []byte) {
	v := s.viewLocked(viewID)
	if v == nil {
		return
	}
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if len(payload) > 0 && string(payload) != "null" {
		if err := json.Unmarshal(payload, &resp); err != nil {
			return
		}
	}
	switch resp.ResponseAction {
	case "":
		v.Open = false
	case "errors":
		v.Errors = resp.Errors
	case "update":
		if code, _ := s.updateViewLocked(v, resp.View); code != "" {
			s.log.Debug("response_action update refused", "view", v.ID, "error", code)
		}
	case "push":
		if _, code, _ := s.openViewLocked(v.UserID, resp.View, v); code != "" {
			s.log.Debug("response_action push refused", "view", v.ID, "error", code)
		}
	case "clear":
		for _, o := range s.views {
			if o.RootViewID == v.RootViewID {
				o.Open = false
			}
		}
	}
	s.notifyLocked()
}
