package sandbox

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/advocate-bot/advocate/bot"
)

// web holds the page: plain HTML, CSS and JavaScript, no build step.
//
//go:embed web
var web embed.FS

// Request limits.
const (
	maxBody       = 64 << 10
	handleTimeout = 10 * time.Second
)

// contentSecurityPolicy allows the page's own files only: no inline script, no
// third-party origin, so text that slips into HTML still cannot run.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the page and its API under /sandbox/; mount it at "/sandbox/".
// A request for "/sandbox" is redirected to "/sandbox/".
func (s *Sandbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sandbox", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/sandbox/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /sandbox/{$}", s.serveIndex)
	mux.HandleFunc("GET /sandbox/static/{file}", s.serveStatic)
	mux.HandleFunc("GET /sandbox/api/personas", s.servePersonas)
	mux.HandleFunc("GET /sandbox/api/state", s.serveState)
	mux.HandleFunc("GET /sandbox/api/events", s.serveEvents)
	mux.HandleFunc("POST /sandbox/api/say", s.serveSay)
	mux.HandleFunc("POST /sandbox/api/click", s.serveClick)
	mux.HandleFunc("POST /sandbox/api/submit", s.serveSubmit)
	mux.HandleFunc("GET /sandbox/go", s.serveGo)
	mux.HandleFunc("/sandbox/api/", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sandbox/api/say", "/sandbox/api/click", "/sandbox/api/submit":
			w.Header().Set("Allow", http.MethodPost)
			s.refuse(w, r, http.StatusMethodNotAllowed, "use POST")
		case "/sandbox/api/personas", "/sandbox/api/state", "/sandbox/api/events":
			w.Header().Set("Allow", "GET, HEAD")
			s.refuse(w, r, http.StatusMethodNotAllowed, "use GET")
		default:
			s.refuse(w, r, http.StatusNotFound, "no such API endpoint")
		}
	})
	return s.guard(mux)
}

// guard sets the security headers and turns a panic into a logged 500.
func (s *Sandbox) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("sandbox request panicked", "path", r.URL.Path, "panic", v)
				writeJSON(w, http.StatusInternalServerError, errorJSON{Error: "internal error"})
			}
		}()
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func (s *Sandbox) serveIndex(w http.ResponseWriter, r *http.Request) {
	s.serveFile(w, r, "index.html")
}

func (s *Sandbox) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "index.html" {
		http.NotFound(w, r)
		return
	}
	s.serveFile(w, r, name)
}

func (s *Sandbox) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	b, err := fs.ReadFile(web, path.Join("web", name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// errorJSON is every API error's body.
type errorJSON struct {
	Error string `json:"error"`
}

// refuse answers a request the sandbox will not carry out. The log line names
// the reason, never what the persona typed.
func (s *Sandbox) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	s.log.Warn("sandbox request refused", "method", r.Method, "path", r.URL.Path, "status", status, "reason", reason)
	writeJSON(w, status, errorJSON{Error: reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON request body into v.
func (s *Sandbox) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		s.refuse(w, r, http.StatusUnsupportedMediaType, "send JSON with Content-Type: application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data")
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.refuse(w, r, http.StatusRequestEntityTooLarge, "request body too large")
		return false
	case err != nil:
		s.refuse(w, r, http.StatusBadRequest, "malformed JSON request")
		return false
	}
	return true
}

// lookupPersona finds the persona a request acts as.
func (s *Sandbox) lookupPersona(w http.ResponseWriter, r *http.Request, id string) (persona, bool) {
	p, ok := s.byID[id]
	if !ok {
		s.refuse(w, r, http.StatusBadRequest, "unknown persona")
	}
	return p, ok
}

func (s *Sandbox) personaParam(w http.ResponseWriter, r *http.Request) (persona, bool) {
	return s.lookupPersona(w, r, r.URL.Query().Get("as"))
}

// canSee says whether p may read and post in ch.
func canSee(p persona, ch *channel) bool {
	switch ch.Kind {
	case kindPublic:
		return true
	case kindStaff:
		return p.Staff
	case kindCase:
		return p.Staff || p.ID == ch.Customer
	}
	return false
}

// checkText validates what a persona typed: the error is fit to show.
func checkText(text string, limit int) string {
	switch {
	case !utf8.ValidString(text):
		return "text is not valid UTF-8"
	case utf8.RuneCountInString(text) > limit:
		return "text too long"
	}
	return ""
}

func (s *Sandbox) servePersonas(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Personas  []persona `json:"personas"`
		Dashboard string    `json:"dashboard,omitempty"`
	}{s.personas, s.dashboard})
}

// stateJSON is what one persona sees of the community.
type stateJSON struct {
	Version   int64         `json:"version"`
	Me        persona       `json:"me"`
	Personas  []persona     `json:"personas"`
	Dashboard string        `json:"dashboard,omitempty"`
	Running   bool          `json:"running"`
	Channels  []channelJSON `json:"channels"`
}

type channelJSON struct {
	Name     string        `json:"name"`
	Kind     string        `json:"kind"`
	Title    string        `json:"title"`
	Topic    string        `json:"topic"`
	Customer string        `json:"customer,omitempty"` // a case channel's customer name
	Messages []messageJSON `json:"messages"`
}

type messageJSON struct {
	ID      string       `json:"id"`
	Thread  string       `json:"thread,omitempty"`
	Author  author       `json:"author"`
	Text    string       `json:"text"`
	At      time.Time    `json:"at"`
	Edited  bool         `json:"edited,omitempty"`
	Deleted bool         `json:"deleted,omitempty"` // a deleted parent kept for its replies
	Buttons []buttonJSON `json:"buttons,omitempty"`
}

type buttonJSON struct {
	ActionID string `json:"action_id"`
	Label    string `json:"label"`
	Style    string `json:"style,omitempty"`
	Staff    bool   `json:"staff,omitempty"`
	// Href is the sandbox's counting redirect for a link button.
	Href string `json:"href,omitempty"`
}

func (s *Sandbox) serveState(w http.ResponseWriter, r *http.Request) {
	p, ok := s.personaParam(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, s.state(p))
}

// state renders what p can see: the visible channels, their recent messages,
// and buttons without the staff controls for customers.
func (s *Sandbox) state(p persona) stateJSON {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := stateJSON{Version: s.version, Me: p, Personas: s.personas, Dashboard: s.dashboard, Running: s.h != nil}
	for _, name := range s.order {
		ch := s.channels[name]
		if !canSee(p, ch) {
			continue
		}
		st.Channels = append(st.Channels, channelJSON{
			Name: ch.Name, Kind: ch.Kind, Title: title(ch), Topic: topic(ch), Customer: ch.CustomerName,
			Messages: messages(ch, p),
		})
	}
	return st
}

func title(ch *channel) string {
	if ch.Kind == kindCase {
		return ch.Name
	}
	return "#" + ch.Name
}

func topic(ch *channel) string {
	switch {
	case ch.Name == SupportChannel:
		return "Ask for help here: the bot takes your question to a private conversation with the team."
	case ch.Name == ShowcaseChannel:
		return "What customers say, posted only with their consent."
	case ch.Name == StaffChannel:
		return "Staff only: a thread per case (reply there to answer the customer; !note for internal notes), and alerts."
	case ch.Kind == kindCase && strings.Contains(ch.Name, "-old"):
		return "An earlier conversation, kept for reference."
	case ch.Kind == kindCase:
		return "Private: " + ch.CustomerName + " and the support team."
	}
	return ""
}

// messages lists the channel's recent top-level messages with their replies.
func messages(ch *channel, p persona) []messageJSON {
	replies := map[string]int{}
	var top []*post
	for _, m := range ch.posts {
		if m.Held && !p.Staff {
			continue
		}
		if m.Thread != "" {
			if !m.Deleted {
				replies[m.Thread]++
			}
			continue
		}
		top = append(top, m)
	}
	top = slices.DeleteFunc(top, func(m *post) bool { return m.Deleted && replies[m.ID] == 0 })
	if len(top) > maxChannel {
		top = top[len(top)-maxChannel:]
	}
	shown := map[string]bool{}
	for _, m := range top {
		shown[m.ID] = true
	}
	out := []messageJSON{}
	for _, m := range ch.posts {
		if m.Held && !p.Staff || m.Thread == "" && !shown[m.ID] || m.Thread != "" && (m.Deleted || !shown[m.Thread]) {
			continue
		}
		out = append(out, messageFor(m, p))
	}
	return out
}

func messageFor(m *post, p persona) messageJSON {
	j := messageJSON{ID: m.ID, Thread: m.Thread, Author: m.Author, Text: m.Text, At: m.At, Edited: m.Edited}
	if m.Deleted {
		j.Text, j.Deleted, j.Edited = "", true, false
		return j
	}
	for _, b := range m.Buttons {
		bj := buttonJSON{ActionID: b.ActionID, Label: b.Label, Style: b.Style, Staff: b.Staff}
		if b.URL != "" {
			bj.Href = "go?" + url.Values{"a": {b.ActionID}, "as": {p.ID}}.Encode()
		}
		j.Buttons = append(j.Buttons, bj)
	}
	return j
}

// replyJSON is the core's answer to the persona who acted.
type replyJSON struct {
	Message   string     `json:"message,omitempty"` // the ID of the message posted
	Ephemeral string     `json:"ephemeral,omitempty"`
	Modal     *modalJSON `json:"modal,omitempty"`
}

type modalJSON struct {
	View   string      `json:"view"`
	Title  string      `json:"title"`
	Submit string      `json:"submit"`
	Fields []fieldJSON `json:"fields"`
}

type fieldJSON struct {
	ID        string `json:"id"`
	Label     string `json:"label"`
	Value     string `json:"value,omitempty"`
	Multiline bool   `json:"multiline,omitempty"`
	Required  bool   `json:"required,omitempty"`
	MaxLen    int    `json:"max_len"`         // the limit the server enforces
	Check     bool   `json:"check,omitempty"` // a check box: value is "yes" when ticked
}

// view is a modal opened for one persona, waiting for its submission.
type view struct {
	persona  string
	actionID string
	where    bot.Ref
	fields   []bot.Field
}

// handle hands ev to the core and answers the persona with its reply.
func (s *Sandbox) handle(w http.ResponseWriter, r *http.Request, h bot.Handler, p persona, ev bot.Event, posted string) bool {
	ev.ID = s.eventID()
	ev.Author = p.person()
	ev.Where.Platform = bot.Sandbox
	ev.At = s.now().UTC()
	// The decision completes even when the page goes away meanwhile.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout)
	defer cancel()
	reply, err := h.Handle(ctx, ev)
	if err != nil {
		s.log.Error("sandbox event not handled", "event", ev.ID, "kind", ev.Kind, "persona", p.ID, "channel", ev.Where.Channel, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorJSON{Error: "the bot could not handle this; see the server log"})
		return false
	}
	s.log.Debug("sandbox event handled", "event", ev.ID, "kind", ev.Kind, "persona", p.ID, "channel", ev.Where.Channel)
	if posted != "" {
		s.settleHeld(posted, reply.Hide)
	}
	out := replyJSON{Message: posted, Ephemeral: reply.Ephemeral}
	if reply.Modal != nil {
		out.Modal = s.openView(p, ev.Where, reply.Modal)
	}
	writeJSON(w, http.StatusOK, out)
	return true
}

// settleHeld ends the hold on a persona's message once the core has decided:
// deleted when the core hides it (a staff note typed on the customer's side,
// which the customer so never sees), else shown to everyone. A message the
// core could not handle stays held: it might be a note.
func (s *Sandbox) settleHeld(id string, hide bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.posts[id]
	if m == nil || !m.Held || m.Deleted {
		return
	}
	op := opRelease
	if hide {
		op = opDelete
	}
	if err := s.write(record{Op: op, ID: id, At: s.now().UTC()}); err != nil {
		s.log.Error("sandbox held message not settled", "message", id, "err", err)
		return
	}
	m.Held, m.Deleted = false, hide
	s.changedLocked(m.Channel)
}

// openView keeps a modal for its submission and returns what the page shows.
func (s *Sandbox) openView(p persona, where bot.Ref, m *bot.Modal) *modalJSON {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	id := "v" + hex.EncodeToString(b[:])
	fields := slices.Clone(m.Fields)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.views[id] = &view{persona: p.ID, actionID: m.ActionID, where: where.Conversation(), fields: fields}
	s.viewSeq = append(s.viewSeq, id)
	for len(s.viewSeq) > maxViews {
		delete(s.views, s.viewSeq[0])
		s.viewSeq = s.viewSeq[1:]
	}
	out := &modalJSON{View: id, Title: m.Title, Submit: m.Submit}
	for _, f := range fields {
		out.Fields = append(out.Fields, fieldJSON{ID: f.ID, Label: f.Label, Value: f.Value,
			Multiline: f.Multiline, Required: f.Required, MaxLen: fieldLimit(f), Check: f.Check})
	}
	return out
}

// running returns the core's entry point or answers 503.
func (s *Sandbox) running(w http.ResponseWriter, r *http.Request) (bot.Handler, bool) {
	h := s.handler()
	if h == nil {
		s.refuse(w, r, http.StatusServiceUnavailable, "the sandbox is not running")
	}
	return h, h != nil
}

// sayRequest is a line typed in the composer: a message or a slash command,
// in a channel or, with Thread (the ID of the thread's first message), as a
// reply in a thread.
type sayRequest struct {
	As      string `json:"as"`
	Channel string `json:"channel"`
	Thread  string `json:"thread,omitempty"`
	Text    string `json:"text"`
}

func (s *Sandbox) serveSay(w http.ResponseWriter, r *http.Request) {
	var req sayRequest
	if !s.decode(w, r, &req) {
		return
	}
	p, ok := s.lookupPersona(w, r, req.As)
	if !ok {
		return
	}
	ch, ok := s.visibleChannel(w, r, p, req.Channel)
	if !ok {
		return
	}
	where, ok := s.threadIn(w, r, ch, req.Thread)
	if !ok {
		return
	}
	if msg := checkText(req.Text, maxText); msg != "" {
		s.refuse(w, r, http.StatusBadRequest, msg)
		return
	}
	text := strings.TrimSpace(req.Text)
	if text == "" {
		s.refuse(w, r, http.StatusBadRequest, "empty message")
		return
	}
	h, ok := s.running(w, r)
	if !ok {
		return
	}
	if strings.HasPrefix(text, "/") {
		ev, err := parseCommand(text)
		if err != nil {
			s.refuse(w, r, http.StatusBadRequest, err.Error())
			return
		}
		ev.Where = where
		s.handle(w, r, h, p, ev, "")
		return
	}
	s.mu.Lock()
	// Staff writing on a customer's side: shown to the customer only once
	// the core has said it is not a note (handle releases or deletes it).
	held := p.Staff && s.channels[ch].Kind == kindCase
	ref, err := s.postLocked(where, author{ID: p.ID, Name: p.Name, Staff: p.Staff}, bot.Message{Text: text}, held)
	if err == nil {
		s.changedLocked(ch)
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Error("sandbox message not posted", "persona", p.ID, "channel", ch, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorJSON{Error: "the message could not be saved; see the server log"})
		return
	}
	ev := bot.Event{Kind: bot.EventMessage, Where: ref, Text: text, Support: ch == SupportChannel && ref.Thread == ""}
	s.handle(w, r, h, p, ev, ref.Message)
}

// visibleChannel checks that the channel exists and p may use it.
func (s *Sandbox) visibleChannel(w http.ResponseWriter, r *http.Request, p persona, name string) (string, bool) {
	s.mu.Lock()
	ch := s.channels[name]
	visible := ch != nil && canSee(p, ch)
	s.mu.Unlock()
	switch {
	case ch == nil:
		s.refuse(w, r, http.StatusBadRequest, "unknown channel")
		return "", false
	case !visible:
		s.refuse(w, r, http.StatusForbidden, "this persona cannot see that channel")
		return "", false
	}
	return name, true
}

// threadIn resolves a thread of channel ch (a reply to a reply joins its
// thread), or the channel itself when thread is empty.
func (s *Sandbox) threadIn(w http.ResponseWriter, r *http.Request, ch, thread string) (bot.Ref, bool) {
	where := bot.Ref{Channel: ch}
	if thread == "" {
		return where, true
	}
	s.mu.Lock()
	parent := s.posts[thread]
	s.mu.Unlock()
	if parent == nil || parent.Channel != ch {
		s.refuse(w, r, http.StatusBadRequest, "unknown thread")
		return bot.Ref{}, false
	}
	where.Thread = parent.ID
	if parent.Thread != "" {
		where.Thread = parent.Thread
	}
	return where, true
}

// clickRequest is a button pressed on a message.
type clickRequest struct {
	As       string `json:"as"`
	Message  string `json:"message"`
	ActionID string `json:"action_id"`
}

func (s *Sandbox) serveClick(w http.ResponseWriter, r *http.Request) {
	var req clickRequest
	if !s.decode(w, r, &req) {
		return
	}
	p, ok := s.lookupPersona(w, r, req.As)
	if !ok {
		return
	}
	s.mu.Lock()
	m := s.posts[req.Message]
	var (
		ref      bot.Ref
		live     = m != nil && !m.Deleted
		visible  bool
		btn      bot.Button
		hasClick bool
	)
	if live {
		ref, visible = m.ref(), canSee(p, s.channels[m.Channel])
		btn, hasClick = m.button(req.ActionID)
	}
	s.mu.Unlock()
	switch {
	case !live:
		s.refuse(w, r, http.StatusBadRequest, "unknown message")
		return
	case !visible:
		s.refuse(w, r, http.StatusForbidden, "this persona cannot see that message")
		return
	case !hasClick:
		s.refuse(w, r, http.StatusBadRequest, "no such button on that message")
		return
	case btn.URL != "":
		s.refuse(w, r, http.StatusBadRequest, "a link button opens through /sandbox/go")
		return
	}
	h, ok := s.running(w, r)
	if !ok {
		return
	}
	s.handle(w, r, h, p, bot.Event{Kind: bot.EventAction, Where: ref, ActionID: req.ActionID}, "")
}

// submitRequest is a modal's form sent back.
type submitRequest struct {
	As     string            `json:"as"`
	View   string            `json:"view"`
	Fields map[string]string `json:"fields"`
}

func (s *Sandbox) serveSubmit(w http.ResponseWriter, r *http.Request) {
	var req submitRequest
	if !s.decode(w, r, &req) {
		return
	}
	p, ok := s.lookupPersona(w, r, req.As)
	if !ok {
		return
	}
	s.mu.Lock()
	v := s.views[req.View]
	s.mu.Unlock()
	switch {
	case v == nil:
		s.refuse(w, r, http.StatusBadRequest, "unknown or expired form")
		return
	case v.persona != p.ID:
		s.refuse(w, r, http.StatusForbidden, "this form was opened by another persona")
		return
	}
	fields, reason := checkFields(v.fields, req.Fields)
	if reason != "" {
		s.refuse(w, r, http.StatusBadRequest, reason)
		return
	}
	h, ok := s.running(w, r)
	if !ok {
		return
	}
	ev := bot.Event{Kind: bot.EventSubmit, Where: v.where, ActionID: v.actionID, Fields: fields}
	if s.handle(w, r, h, p, ev, "") {
		s.mu.Lock()
		delete(s.views, req.View)
		s.mu.Unlock()
	}
}

// checkFields validates submitted values against the modal's fields and
// returns every field's value, or a reason to refuse.
func checkFields(want []bot.Field, got map[string]string) (map[string]string, string) {
	for id := range got {
		if !slices.ContainsFunc(want, func(f bot.Field) bool { return f.ID == id }) {
			return nil, "unknown form field"
		}
	}
	out := make(map[string]string, len(want))
	for _, f := range want {
		v := got[f.ID]
		if f.Check && v != "" && v != bot.FieldChecked {
			return nil, f.Label + ": not a check box's value"
		}
		if msg := checkText(v, fieldLimit(f)); msg != "" {
			return nil, f.Label + ": " + msg
		}
		if f.Required && strings.TrimSpace(v) == "" {
			return nil, f.Label + ": required"
		}
		out[f.ID] = v
	}
	return out, ""
}

// fieldLimit is the most characters a field takes.
func fieldLimit(f bot.Field) int {
	if f.MaxLen > 0 {
		return min(maxText, f.MaxLen)
	}
	return maxText
}

// serveGo is the counting redirect of a link button: the click goes to the
// core as an action and the browser to the URL the core answers with.
func (s *Sandbox) serveGo(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := s.byID[q.Get("as")]
	if !ok {
		s.refusePage(w, r, http.StatusBadRequest, "unknown persona", "Unknown persona.")
		return
	}
	actionID := q.Get("a")
	ref, found := s.linkButton(p, actionID)
	if !found {
		s.refusePage(w, r, http.StatusNotFound, "unknown link", "This link is not valid.")
		return
	}
	h := s.handler()
	if h == nil {
		s.refusePage(w, r, http.StatusServiceUnavailable, "the sandbox is not running", "The sandbox is not running.")
		return
	}
	ev := bot.Event{ID: s.eventID(), Kind: bot.EventAction, Where: ref, Author: p.person(), ActionID: actionID, At: s.now().UTC()}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), handleTimeout)
	defer cancel()
	reply, err := h.Handle(ctx, ev)
	if err != nil {
		s.log.Error("sandbox link click not handled", "event", ev.ID, "persona", p.ID, "err", err)
		http.Error(w, "The bot could not handle this click; see the server log.", http.StatusInternalServerError)
		return
	}
	u, err := url.Parse(reply.URL)
	if reply.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		msg := reply.Ephemeral
		if msg == "" {
			msg = "This link is not valid."
		}
		s.refusePage(w, r, http.StatusNotFound, "link refused by the bot", msg)
		return
	}
	s.log.Debug("sandbox link followed", "event", ev.ID, "persona", p.ID)
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// refusePage answers a browser navigation with a short text page.
func (s *Sandbox) refusePage(w http.ResponseWriter, r *http.Request, status int, reason, text string) {
	s.log.Warn("sandbox request refused", "method", r.Method, "path", r.URL.Path, "status", status, "reason", reason)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text+"\n")
}

// linkButton finds the live message carrying the link button actionID that p
// can see.
func (s *Sandbox) linkButton(p persona, actionID string) (bot.Ref, bool) {
	if actionID == "" {
		return bot.Ref{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range s.order {
		ch := s.channels[name]
		if !canSee(p, ch) {
			continue
		}
		for _, m := range ch.posts {
			if b, ok := m.button(actionID); ok && !m.Deleted && b.URL != "" && (!b.Staff || p.Staff) {
				return m.ref(), true
			}
		}
	}
	return bot.Ref{}, false
}
