// Package faults is the fault-injection vocabulary of advocate's loopback
// platform fakes. slackfake.Server and discordfake.Server both embed a
// Script, so a test disturbs either platform with the same calls, meaning the
// same thing:
//
//	RateLimit(call, n, retryAfter) // the next n calls: 429 with Retry-After, no effect
//	Fail(call, n, status)          // the next n calls: a server error, no effect
//	LoseResponse(call, n, status)  // the next n calls take effect, then answer status
//	Hold(call)                     // calls wait, unanswered, until released
//
// A call is what the platform's API names: a Slack Web API method
// ("chat.postMessage") or a Discord route (discordfake.RouteCreateMessage).
// Faults of one call are served in the order they were scripted. Each fake
// adds the connection faults of its own transport under the same names:
// DropConnections (the network fails) and RequestReconnect (the platform asks
// the client to reconnect).
package faults

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Fault is the scripted answer to one call.
type Fault struct {
	// Status is the HTTP status to answer with: 429 or a server error.
	Status int
	// RetryAfter is the wait a 429 asks for.
	RetryAfter time.Duration
	// Lost means the call takes effect before it is answered with Status, as
	// when the platform committed a request whose response never arrived.
	Lost bool
}

// RateLimited reports whether the fault is a 429.
func (f Fault) RateLimited() bool { return f.Status == http.StatusTooManyRequests }

type pending struct {
	Fault
	n int
}

type hold struct {
	arrived chan struct{}
	release chan struct{}
}

// Script holds the scripted faults of a fake. The zero value is not usable:
// create it with NewScript. It is safe for concurrent use.
type Script struct {
	known func(call string) bool

	mu     sync.Mutex
	queues map[string][]pending
	holds  map[string]*hold
	closed chan struct{}
	once   sync.Once
}

// NewScript returns an empty script. known, when not nil, reports whether a
// call exists: scripting a fault for any other panics, because a misspelt
// call would never fail and the test would pass for nothing.
func NewScript(known func(call string) bool) *Script {
	return &Script{known: known, queues: map[string][]pending{}, holds: map[string]*hold{}, closed: make(chan struct{})}
}

// RateLimit makes the next n calls answer 429 Too Many Requests with a
// Retry-After of retryAfter (as the platform writes it: Slack in whole
// seconds, Discord in fractional ones), without effect.
func (s *Script) RateLimit(call string, n int, retryAfter time.Duration) {
	s.add(call, n, Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// Fail makes the next n calls answer with status (500, 502, 503…) without
// effect, as the platform does when it is having trouble.
func (s *Script) Fail(call string, n int, status int) {
	s.add(call, n, Fault{Status: status})
}

// LoseResponse makes the next n calls take effect and then answer with status
// (502, say): the response to a committed request is lost, the case that
// idempotency keys (Discord's nonce, Slack's look-up of its own posts) are for.
func (s *Script) LoseResponse(call string, n int, status int) {
	s.add(call, n, Fault{Status: status, Lost: true})
}

func (s *Script) add(call string, n int, f Fault) {
	s.check(call)
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues[call] = append(s.queues[call], pending{Fault: f, n: n})
}

func (s *Script) check(call string) {
	if s.known != nil && !s.known(call) {
		panic(fmt.Sprintf("faults: unknown call %q", call))
	}
}

// Take consumes the next scripted fault of a call, if any. Fakes call it
// for every request.
func (s *Script) Take(call string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[call]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0].Fault
	q[0].n--
	if q[0].n == 0 {
		q = q[1:]
	}
	if len(q) == 0 {
		delete(s.queues, call)
	} else {
		s.queues[call] = q
	}
	return f, true
}

// Hold makes calls wait, unanswered, until release is called: a platform that
// is slow to answer. Each held call sends once on arrived when it starts
// waiting. Calls made after release are answered at once; release may be
// called more than once.
func (s *Script) Hold(call string) (arrived <-chan struct{}, release func()) {
	s.check(call)
	h := &hold{arrived: make(chan struct{}, 1024), release: make(chan struct{})}
	s.mu.Lock()
	s.holds[call] = h
	s.mu.Unlock()
	var once sync.Once
	return h.arrived, func() {
		s.mu.Lock()
		if s.holds[call] == h {
			delete(s.holds, call)
		}
		s.mu.Unlock()
		once.Do(func() { close(h.release) })
	}
}

// Wait blocks a call while it is held. It reports false when the request was
// abandoned (ctx) or the fake closed first: the fake then answers nothing.
// Fakes call it for every request, before taking their own locks.
func (s *Script) Wait(ctx context.Context, call string) bool {
	s.mu.Lock()
	h := s.holds[call]
	s.mu.Unlock()
	if h == nil {
		return true
	}
	select {
	case h.arrived <- struct{}{}:
	default:
	}
	select {
	case <-h.release:
		return true
	case <-ctx.Done():
		return false
	case <-s.closed:
		return false
	}
}

// Close ends every hold: waiting calls return false. The fake calls it when
// it closes, so that a held request does not keep its server from stopping.
func (s *Script) Close() {
	s.once.Do(func() { close(s.closed) })
}
