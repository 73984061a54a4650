package slackfake

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// injected is a queue of refusals: the next n matching calls fail.
type injected struct {
	n          int
	retryAfter time.Duration // for 429s
	status     int           // for server errors
}

type rateLimits struct {
	byMethod  map[string]*injected
	byChannel map[string]*injected
	failures  map[string]*injected // 5xx per method
	pacing    time.Duration
	served429 int
	by429     map[string]int
	historyAt map[string]time.Time // last call of a history method served
}

func newRateLimits(pacing time.Duration) rateLimits {
	return rateLimits{
		byMethod:  map[string]*injected{},
		byChannel: map[string]*injected{},
		failures:  map[string]*injected{},
		pacing:    pacing,
		by429:     map[string]int{},
		historyAt: map[string]time.Time{},
	}
}

// RateLimit makes the next n calls of a Web API method fail with HTTP 429 and
// Retry-After: retryAfter rounded up to whole seconds (slack-go reads it as
// *slack.RateLimitedError). A later call replaces the pending count.
func (s *Server) RateLimit(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.byMethod[method] = &injected{n: n, retryAfter: retryAfter}
}

// RateLimitChannel makes the next n chat.* calls (posts, updates, deletes)
// whose channel argument is channelID fail with HTTP 429, as Slack's
// per-channel posting limit does; reading the channel is not limited by it.
func (s *Server) RateLimitChannel(channelID string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.byChannel[channelID] = &injected{n: n, retryAfter: retryAfter}
}

// FailMethod makes the next n calls of a method answer with an HTTP status such as
// 500 or 503 and an HTML body, as Slack does on server errors; slack-go returns a
// slack.StatusCodeError.
func (s *Server) FailMethod(method string, n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.failures[method] = &injected{n: n, status: status}
}

// SetPostPacing changes Config.PostPacing at run time; 0 turns pacing off.
func (s *Server) SetPostPacing(interval time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.pacing = interval
}

// Count429 returns how many 429 responses the server has served.
func (s *Server) Count429() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.served429
}

// Count429For returns how many 429 responses a method has served.
func (s *Server) Count429For(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits.by429[method]
}

// take consumes one refusal from q, reporting whether the call must be refused.
func take(m map[string]*injected, key string) (*injected, bool) {
	q := m[key]
	if q == nil || q.n <= 0 {
		return nil, false
	}
	q.n--
	if q.n == 0 {
		delete(m, key)
	}
	return q, true
}

// injectedRefusalLocked applies injected failures and limits for a call; it
// writes the response and returns true when the call is refused.
func (s *Server) injectedRefusalLocked(w http.ResponseWriter, method, channelID string) bool {
	if q, ok := take(s.limits.failures, method); ok {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(q.status)
		_, _ = w.Write([]byte("<html><body>fake server error</body></html>"))
		return true
	}
	if q, ok := take(s.limits.byMethod, method); ok {
		s.write429Locked(w, method, q.retryAfter)
		return true
	}
	if channelID != "" && strings.HasPrefix(method, "chat.") {
		if q, ok := take(s.limits.byChannel, channelID); ok {
			s.write429Locked(w, method, q.retryAfter)
			return true
		}
	}
	return false
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
