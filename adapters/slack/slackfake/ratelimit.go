package slackfake

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/internal/faults"
)

// channelLimit is a pending per-channel rate limit: the next n chat.* calls
// into the channel get a 429.
type channelLimit struct {
	n          int
	retryAfter time.Duration
}

type rateLimits struct {
	byChannel map[string]*channelLimit
	pacing    time.Duration
	served429 int
	by429     map[string]int
	historyAt map[string]time.Time // last call of a history method served
}

func newRateLimits(pacing time.Duration) rateLimits {
	return rateLimits{
		byChannel: map[string]*channelLimit{},
		pacing:    pacing,
		by429:     map[string]int{},
		historyAt: map[string]time.Time{},
	}
}

// RateLimitChannel makes the next n chat.* calls (posts, updates, deletes)
// whose channel argument is channelID fail with HTTP 429, as Slack's
// per-channel posting limit does; reading the channel is not limited by it.
// A later call replaces the pending count.
func (s *Server) RateLimitChannel(channelID string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.byChannel[channelID] = &channelLimit{n: n, retryAfter: retryAfter}
}

// SetPostPacing changes Config.PostPacing at run time; 0 turns pacing off.
func (s *Server) SetPostPacing(interval time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.pacing = interval
}

// RateLimited returns how many 429 responses the server has served.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.served429
}

// RateLimitedCalls returns how many 429 responses a method has served.
func (s *Server) RateLimitedCalls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.by429[method]
}

// refusal is what a scripted fault or a limit does to a call.
type refusal int

const (
	served  refusal = iota // no fault: serve the call
	refused                // answered without effect
	lost                   // serve the call, then answer with the fault's status
)

// faultLocked applies the call's scripted fault (see faults.Script) and the
// per-channel limit: a 429 is written at once, a server error is written at
// once or, for a lost response, after the call took effect (writeLost).
func (s *Server) faultLocked(w http.ResponseWriter, method, channelID string) (refusal, faults.Fault) {
	if f, ok := s.Take(method); ok {
		switch {
		case f.Lost:
			return lost, f
		case f.RateLimited():
			s.write429Locked(w, method, f.RetryAfter)
		default:
			writeServerError(w, f.Status)
		}
		return refused, f
	}
	if channelID != "" && strings.HasPrefix(method, "chat.") {
		if q := s.limits.byChannel[channelID]; q != nil && q.n > 0 {
			if q.n--; q.n == 0 {
				delete(s.limits.byChannel, channelID)
			}
			s.write429Locked(w, method, q.retryAfter)
			return refused, faults.Fault{}
		}
	}
	return served, faults.Fault{}
}

// writeServerError answers as Slack does on a server error: an HTML body;
// slack-go returns a slack.StatusCodeError.
func writeServerError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<html><body>fake server error</body></html>"))
}

// historyLimitedLocked enforces Config.HistoryInterval on the history
// methods; a refused call does not count.
func (s *Server) historyLimitedLocked(w http.ResponseWriter, method string) bool {
	if s.cfg.HistoryInterval <= 0 || (method != "conversations.history" && method != "conversations.replies") {
		return false
	}
	now := s.cfg.Now()
	if last, ok := s.limits.historyAt[method]; ok {
		if wait := last.Add(s.cfg.HistoryInterval).Sub(now); wait > 0 {
			s.write429Locked(w, method, wait)
			return true
		}
	}
	s.limits.historyAt[method] = now
	return false
}

// pacedLocked enforces PostPacing for chat.postMessage into ch.
func (s *Server) pacedLocked(w http.ResponseWriter, method string, ch *channel) bool {
	if s.limits.pacing <= 0 || ch.lastPost.IsZero() {
		return false
	}
	wait := ch.lastPost.Add(s.limits.pacing).Sub(s.cfg.Now())
	if wait <= 0 {
		return false
	}
	s.write429Locked(w, method, wait)
	return true
}

func (s *Server) write429Locked(w http.ResponseWriter, method string, retryAfter time.Duration) {
	s.limits.served429++
	s.limits.by429[method]++
	secs := int(math.Ceil(retryAfter.Seconds()))
	if secs < 0 {
		secs = 0
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSONStatus(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
	s.notifyLocked()
}
