package discordfake

import (
	"hash/fnv"
	"maps"
	"math"
	"net/http"
	"strconv"
	"time"
)

// bucket is a fixed-window rate limit bucket; the window starts with the
// first request after the previous one ended.
type bucket struct {
	limit   int
	window  time.Duration
	count   int
	resetAt time.Time
}

func (b *bucket) roll(now time.Time) {
	if !now.Before(b.resetAt) {
		b.count = 0
		b.resetAt = now.Add(b.window)
	}
}

// RateLimited counts 429 responses served.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// InvalidRequests counts 401, 403 and 429 responses: Discord bans an IP that
// makes 10,000 of them in 10 minutes.
func (s *Server) InvalidRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invalid
}

// RateLimitedCalls counts the 429 responses served for a route (a Route*
// constant; RouteGlobal for global 429s).
func (s *Server) RateLimitedCalls(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited[route]
}

// Calls counts requests received for a route (a Route* constant), whatever
// their outcome.
func (s *Server) Calls(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[route]
}

// CallsByRoute counts the requests received so far by route (Route*
// constants), whatever their outcome: what a scenario cost in REST calls.
func (s *Server) CallsByRoute() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.requests)
}

// seconds formats a duration as Discord's fractional seconds, rounded up to
// the millisecond so that a client waiting that long is never early.
func seconds(d time.Duration) float64 {
	if d < 0 {
		d = 0
	}
	return math.Ceil(float64(d)/float64(time.Millisecond)) / 1000
}

func bucketHash(route string) string {
	h := fnv.New64a()
	h.Write([]byte(route))
	return strconv.FormatUint(h.Sum64(), 16)
}

// rateHeaders sets the X-RateLimit-* headers of a bucket.
func rateHeaders(h http.Header, route string, b *bucket, remaining int, resetAfter time.Duration, now time.Time) {
	reset := now.Add(resetAfter)
	h.Set("X-RateLimit-Limit", strconv.Itoa(b.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(math.Ceil(float64(reset.UnixMilli()))/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(seconds(resetAfter), 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", bucketHash(route))
}

// tooMany builds a 429 response.
func tooMany(retryAfter time.Duration, global bool) response {
	scope := "user"
	if global {
		scope = "global"
	}
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	h.Set("X-RateLimit-Scope", scope)
	if global {
		h.Set("X-RateLimit-Global", "true")
	}
	return response{
		status: http.StatusTooManyRequests,
		header: h,
		body: map[string]any{
			"message":     "You are being rate limited.",
			"retry_after": seconds(retryAfter),
			"global":      global,
			"code":        0,
		},
	}
}
