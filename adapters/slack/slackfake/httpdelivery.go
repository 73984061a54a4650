package slackfake

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// DeliverOverHTTP switches the fake to HTTP mode: from now on every queued
// envelope (UserSays, ClickButton, SubmitView, SlashCommand, the bot's
// echoes…) is delivered as a signed POST to the app at base instead of over
// a socket: Events API payloads to base+"/slack/events", interactivity to
// base+"/slack/interactive", slash commands to base+"/slack/commands".
//
// A delivery is acknowledged by a 2xx within DeliveryTimeout; its response
// body does what an ack's payload does in Socket Mode. An Events API
// delivery that fails (no 2xx in time, an error status, no connection) is
// retried on the RetrySchedule with X-Slack-Retry-Num and
// X-Slack-Retry-Reason, then given up (Envelope.Expired); interactivity and
// slash commands are not retried, as on Slack. Envelopes keep their records
// (Envelope, WaitAck), so tests read both modes alike.
//
// Call it again with the app's new address after a restart: retries go to
// the address set when they are made. An empty base leaves envelopes queued.
func (s *Server) DeliverOverHTTP(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.httpBase = strings.TrimSuffix(base, "/")
	s.wakeLocked()
}

// httpDispatchLocked hands the pending envelopes to HTTP deliveries when the
// fake is in HTTP mode; it reports whether it is.
func (s *Server) httpDispatchLocked() bool {
	if s.httpBase == "" {
		return false
	}
	for _, e := range s.socket.pending {
		e.http = true
		s.wg.Add(1)
		go s.deliverEnvelope(e)
	}
	s.socket.pending = nil
	return true
}

// deliverEnvelope makes an envelope's HTTP attempts until one succeeds or
// Slack would give up.
func (s *Server) deliverEnvelope(e *envelope) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	path, body, contentType := e.httpRequest()
	for {
		s.mu.Lock()
		target := s.httpBase + path
		e.state = envSent
		e.deliveries++
		e.deadline = time.Now().Add(s.cfg.DeliveryTimeout)
		attempt, reason := e.retryAttempt, e.retryReason
		s.notifyLocked()
		s.mu.Unlock()

		ts := s.cfg.Now().Unix()
		a := s.attempt(ctx, target, body, contentType, ts, Sign(s.cfg.SigningSecret, ts, body), attempt, reason)
		if a.OK() {
			s.ack(e.id, httpAckPayload(e.typ, a))
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		retry := e.typ == "events_api" && e.retryAttempt < len(s.cfg.RetrySchedule) && !e.acked
		if retry {
			e.retryAttempt++
			e.retryReason = failureReason(a)
			e.state = envPending
		} else if !e.acked {
			e.state = envDone
			e.expired = true
		}
		wait := time.Duration(0)
		if retry {
			wait = s.cfg.RetrySchedule[e.retryAttempt-1]
		}
		s.notifyLocked()
		s.mu.Unlock()
		if !retry {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// httpRequest is where and how an envelope is posted in HTTP mode.
func (e *envelope) httpRequest() (path string, body []byte, contentType string) {
	switch e.typ {
	case "interactive":
		return "/slack/interactive", InteractiveBody(e.payload), FormContentType
	case "slash_commands":
		var fields map[string]string
		_ = decodeJSON(e.payload, &fields)
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, v)
		}
		return "/slack/commands", []byte(form.Encode()), FormContentType
	}
	return "/slack/events", e.payload, JSONContentType
}

// httpAckPayload is what a 2xx response says, as an ack payload would: a
// JSON body for interactivity, a JSON or plain text body for slash commands.
func httpAckPayload(typ string, a Attempt) []byte {
	isJSON := strings.HasPrefix(a.Header.Get("Content-Type"), JSONContentType)
	switch {
	case typ == "events_api":
		return nil
	case isJSON:
		return a.Body
	case typ == "slash_commands":
		if text := strings.TrimSpace(string(a.Body)); text != "" {
			return encodeJSON(map[string]any{"text": text})
		}
	}
	return nil
}
