package slackfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Content types of Slack's HTTP deliveries.
const (
	// JSONContentType is used for Events API deliveries (event_callback,
	// url_verification).
	JSONContentType = "application/json"
	// FormContentType is used for interactivity (payload=…) and slash commands.
	FormContentType = "application/x-www-form-urlencoded"
)

// Attempt is one HTTP request of a delivery and its outcome.
type Attempt struct {
	// RetryNum and RetryReason are the X-Slack-Retry-Num and X-Slack-Retry-Reason
	// headers the attempt carried (0 and "" on the first).
	RetryNum    int
	RetryReason string
	// Status is the HTTP status, 0 when no response arrived in time.
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

// OK reports whether the attempt got a 2xx response.
func (a Attempt) OK() bool { return a.Status >= 200 && a.Status < 300 }

// Delivery is the record of one Slack delivery with its retries.
type Delivery struct {
	Attempts []Attempt
}

// OK reports whether the last attempt got a 2xx response.
func (d *Delivery) OK() bool { return len(d.Attempts) > 0 && d.Last().OK() }

// Last returns the final attempt.
func (d *Delivery) Last() Attempt {
	if len(d.Attempts) == 0 {
		return Attempt{}
	}
	return d.Attempts[len(d.Attempts)-1]
}

// Sign returns the X-Slack-Signature value for body sent at timestamp, v0= and
// the hex HMAC-SHA256 of "v0:timestamp:body" under secret.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", timestamp)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Deliver POSTs body to url as Slack does in HTTP mode: signed with the signing
// secret and a fresh timestamp, failing an attempt with no 2xx within
// DeliveryTimeout. Events API deliveries (JSON bodies) are retried on the
// RetrySchedule with X-Slack-Retry-Num and X-Slack-Retry-Reason (http_timeout,
// http_error, connection_failed); interactivity and slash commands (form bodies)
// are not retried, as on Slack. The returned Delivery lists every attempt; the
// error is non-nil when no attempt succeeded.
func (s *Server) Deliver(ctx context.Context, url string, body []byte, contentType string) (*Delivery, error) {
	d := &Delivery{}
	retries := 0
	if strings.HasPrefix(contentType, JSONContentType) {
		retries = len(s.cfg.RetrySchedule)
	}
	reason := ""
	for n := 0; ; n++ {
		ts := s.cfg.Now().Unix()
		a := s.attempt(ctx, url, body, contentType, ts, Sign(s.cfg.SigningSecret, ts, body), n, reason)
		d.Attempts = append(d.Attempts, a)
		if a.OK() {
			s.applyHTTPResponse(body, contentType, a)
			return d, nil
		}
		if ctx.Err() != nil {
			return d, fmt.Errorf("slackfake: delivery to %s: %w", url, ctx.Err())
		}
		if n >= retries {
			return d, fmt.Errorf("slackfake: delivery to %s failed after %d attempts: %s", url, len(d.Attempts), failureReason(a))
		}
		reason = failureReason(a)
		if wait := s.cfg.RetrySchedule[n]; wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return d, fmt.Errorf("slackfake: delivery to %s: %w", url, ctx.Err())
			case <-t.C:
			}
		}
	}
}

// applyHTTPResponse does with a 2xx response what Slack does in HTTP mode: a
// slash command's response body is its immediate response (JSON or plain text),
// and a view_submission's body is its response_action, as an ack payload is in
// Socket Mode.
func (s *Server) applyHTTPResponse(body []byte, contentType string, a Attempt) {
	if !strings.HasPrefix(contentType, FormContentType) {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return
	}
	isJSON := strings.HasPrefix(a.Header.Get("Content-Type"), JSONContentType)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := form.Get("payload"); p != "" {
		var head struct {
			Type string `json:"type"`
			View struct {
				ID string `json:"id"`
			} `json:"view"`
		}
		if json.Unmarshal([]byte(p), &head) != nil || head.Type != "view_submission" {
			return
		}
		var resp []byte
		if isJSON {
			resp = a.Body
		}
		s.recordAckEffectLocked("", resp)
		s.applySubmissionAckLocked(head.View.ID, resp)
		return
	}
	ch := s.channels[form.Get("channel_id")]
	if form.Get("command") == "" || ch == nil {
		return
	}
	resp := a.Body
	if !isJSON {
		text := strings.TrimSpace(string(a.Body))
		if text == "" {
			return
		}
		resp = encodeJSON(map[string]any{"text": text})
	}
	s.recordAckEffectLocked("", resp)
	s.applyCommandResponseLocked(ch, form.Get("user_id"), resp, "ack")
}

// failureReason is Slack's X-Slack-Retry-Reason for a failed attempt.
func failureReason(a Attempt) string {
	switch {
	case a.Err == nil:
		return "http_error"
	case errors.Is(a.Err, context.DeadlineExceeded):
		return "http_timeout"
	default:
		return "connection_failed"
	}
}

// attempt makes one signed request.
func (s *Server) attempt(ctx context.Context, url string, body []byte, contentType string, ts int64, sig string, retryNum int, reason string) Attempt {
	a := Attempt{RetryNum: retryNum, RetryReason: reason}
	actx, cancel := context.WithTimeout(ctx, s.cfg.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		a.Err = err
		return a
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	if sig != "" {
		req.Header.Set("X-Slack-Signature", sig)
	}
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	if retryNum > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retryNum))
		req.Header.Set("X-Slack-Retry-Reason", reason)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		a.Err = err
		if actx.Err() != nil && ctx.Err() == nil {
			a.Err = fmt.Errorf("no response within %s: %w", s.cfg.DeliveryTimeout, context.DeadlineExceeded)
		}
		return a
	}
	defer resp.Body.Close()
	a.Status, a.Header = resp.StatusCode, resp.Header
	a.Body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		a.Status, a.Err = 0, fmt.Errorf("reading response: %w", err)
		if actx.Err() != nil && ctx.Err() == nil {
			a.Err = fmt.Errorf("no response within %s: %w", s.cfg.DeliveryTimeout, context.DeadlineExceeded)
		}
	}
	return a
}

// Forgery is a way DeliverForged breaks Slack's request signing.
type Forgery int

const (
	// BadSignature signs with the wrong secret.
	BadSignature Forgery = iota + 1
	// StaleTimestamp signs correctly but with a timestamp six minutes old, past
	// the five-minute window slack.NewSecretsVerifier allows (a replay).
	StaleTimestamp
	// MissingSignature sends no X-Slack-Signature header.
	MissingSignature
	// TamperedBody signs the body, then changes a byte of it in transit.
	TamperedBody
)

// DeliverForged makes one attempt whose signing is broken as f says; an adapter
// must refuse it (slack.NewSecretsVerifier and Ensure fail).
func (s *Server) DeliverForged(ctx context.Context, url string, body []byte, contentType string, f Forgery) Attempt {
	ts := s.cfg.Now().Unix()
	sig := Sign(s.cfg.SigningSecret, ts, body)
	send := body
	switch f {
	case BadSignature:
		sig = Sign(s.cfg.SigningSecret+"-wrong", ts, body)
	case StaleTimestamp:
		ts -= int64((6 * time.Minute).Seconds())
		sig = Sign(s.cfg.SigningSecret, ts, body)
	case MissingSignature:
		sig = ""
	case TamperedBody:
		send = append([]byte(nil), body...)
		if len(send) > 0 {
			send[len(send)-1] ^= 0x01
		} else {
			send = []byte(" ")
		}
	}
	return s.attempt(ctx, url, send, contentType, ts, sig, 0, "")
}

// VerifyURL runs Slack's url_verification handshake against an Events API URL: it
// delivers a challenge and checks the response echoes it, as plain text, JSON
// {"challenge":…} or a form.
func (s *Server) VerifyURL(ctx context.Context, url string) error {
	challenge := randomHex(16)
	d, err := s.Deliver(ctx, url, s.URLVerificationBody(challenge), JSONContentType)
	if err != nil {
		return err
	}
	body := strings.TrimSpace(string(d.Last().Body))
	switch {
	case body == challenge,
		strings.Contains(body, `"challenge":"`+challenge+`"`),
		strings.Contains(body, `"challenge": "`+challenge+`"`),
		body == "challenge="+challenge:
		return nil
	}
	return fmt.Errorf("slackfake: %s did not echo the challenge, got %q", url, body)
}
