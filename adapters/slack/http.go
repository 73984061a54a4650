package slack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// maxRequestBody bounds a Slack request body (events are a few KB).
const maxRequestBody = 1 << 20

// A body over the cap is read on and dropped, up to maxDrainedBody more and
// for at most drainTimeout, before it is answered 413 (refuseTooLarge).
const (
	maxDrainedBody = 16 << 20
	drainTimeout   = 10 * time.Second
)

// Handler serves Slack's HTTP mode: the Events API at /slack/events,
// interactivity (buttons, shortcuts, modals) at /slack/interactive and slash
// commands at /slack/commands. Mount it on advocate's web server under
// /slack/. Every request must carry a valid signature with a timestamp at most
// five minutes old; anything else is refused with 401 and has no effect. Until
// Run has started it answers 503, which Slack retries.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/events", a.serveEvents)
	mux.HandleFunc("POST /slack/interactive", a.serveInteractive)
	mux.HandleFunc("POST /slack/commands", a.serveCommands)
	return mux
}

// verified reads the body and checks Slack's signature; it answers the
// request itself and returns false when the request must be ignored.
func (a *Adapter) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if a.opts.SigningSecret == "" {
		a.log.Warn("slack request refused: no signing secret configured", "path", r.URL.Path)
		http.Error(w, "slack http mode is not configured", http.StatusNotFound)
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		a.log.Warn("slack request refused: body unreadable", "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
		http.Error(w, "request body unreadable", http.StatusBadRequest)
		return nil, false
	}
	if len(body) > maxRequestBody {
		a.refuseTooLarge(w, r)
		return nil, false
	}
	sv, err := slackgo.NewSecretsVerifier(r.Header, a.opts.SigningSecret)
	if err == nil {
		if _, err = sv.Write(body); err == nil {
			err = sv.Ensure()
		}
	}
	if err != nil {
		a.log.Warn("slack request refused: signature check failed", "path", r.URL.Path, "reason", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// refuseTooLarge answers a body over maxRequestBody with 413. It first reads
// and drops the rest of the body (up to maxDrainedBody, for at most
// drainTimeout), so that a client still sending gets the answer rather than a
// connection reset: closing a socket with unread data resets it, and the
// client may lose the response.
func (a *Adapter) refuseTooLarge(w http.ResponseWriter, r *http.Request) {
	a.log.Warn("slack request refused: body too large", "path", r.URL.Path, "limit_bytes", maxRequestBody,
		"content_length", r.ContentLength, "remote", r.RemoteAddr)
	if r.ContentLength <= maxRequestBody+maxDrainedBody {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(drainTimeout))
		_, _ = io.CopyN(io.Discard, r.Body, maxDrainedBody)
	}
	w.Header().Set("Connection", "close")
	http.Error(w, fmt.Sprintf("request body too large (over %d bytes)", maxRequestBody), http.StatusRequestEntityTooLarge)
}

func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	var head struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		http.Error(w, "body is not JSON", http.StatusBadRequest)
		return
	}
	switch head.Type {
	case slackevents.URLVerification:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, head.Challenge)
		return
	case slackevents.AppRateLimited:
		a.log.Warn("slack is rate limiting this app's event subscriptions")
		w.WriteHeader(http.StatusOK)
		return
	case slackevents.CallbackEvent:
	default:
		w.WriteHeader(http.StatusOK)
		return
	}
	e, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		// an event type slack-go does not model: acknowledge, it is not ours
		a.log.Info("ignoring an event advocate does not use", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num"))
	a.serve(w, r, delivery{kind: kindEvents, events: &e, retry: retry, reason: r.Header.Get("X-Slack-Retry-Reason")})
}

func (a *Adapter) serveInteractive(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "no payload", http.StatusBadRequest)
		return
	}
	var cb slackgo.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "payload is not an interaction", http.StatusBadRequest)
		return
	}
	a.serve(w, r, delivery{kind: kindInteractive, action: &cb})
}

func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	f, err := url.ParseQuery(string(body))
	if err != nil || f.Get("command") == "" {
		http.Error(w, "not a slash command", http.StatusBadRequest)
		return
	}
	cmd := slackgo.SlashCommand{
		Token:               f.Get("token"),
		TeamID:              f.Get("team_id"),
		TeamDomain:          f.Get("team_domain"),
		EnterpriseID:        f.Get("enterprise_id"),
		EnterpriseName:      f.Get("enterprise_name"),
		IsEnterpriseInstall: f.Get("is_enterprise_install") == "true",
		ChannelID:           f.Get("channel_id"),
		ChannelName:         f.Get("channel_name"),
		UserID:              f.Get("user_id"),
		UserName:            f.Get("user_name"),
		Command:             f.Get("command"),
		Text:                f.Get("text"),
		ResponseURL:         f.Get("response_url"),
		TriggerID:           f.Get("trigger_id"),
		APIAppID:            f.Get("api_app_id"),
	}
	a.serve(w, r, delivery{kind: kindCommand, command: &cmd})
}

// serve hands a verified request to the core and answers 2xx only once it is
// committed; 500 otherwise, so Slack retries an event.
func (a *Adapter) serve(w http.ResponseWriter, r *http.Request, d delivery) {
	a.mu.Lock()
	h, runCtx := a.handler, a.runCtx
	a.mu.Unlock()
	if h == nil || !a.isReady() || runCtx.Err() != nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "advocate is not running", http.StatusServiceUnavailable)
		return
	}
	res, err := a.process(r.Context(), h, d)
	if err != nil {
		a.log.Error("request not committed; answering 500 so Slack retries", "kind", d.kind, "err", err)
		http.Error(w, "not committed", http.StatusInternalServerError)
		return
	}
	var body []byte
	if b, err := json.Marshal(res.ack); res.ack != nil && err == nil {
		w.Header().Set("Content-Type", "application/json")
		body = b
	}
	// with its length the response is complete once flushed, before the
	// decision below
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	if res.after != nil {
		a.background(runCtx, res.after)
	}
	if res.decide != nil {
		// net/http takes requests in parallel and unordered, as Slack sends
		// them; the response goes out before the decision
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		res.decide(runCtx)
	}
}
