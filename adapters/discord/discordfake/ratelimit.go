package discordfake

import (
	"fmt"
	"hash/fnv"
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

// injection is a scripted failure for the next requests of a route.
type injection struct {
	n          int
	status     int
	retryAfter time.Duration
	after      bool // apply the request's effect, then fail
}

// RateLimitNext makes the next n requests of a route (a Route* constant)
// fail with 429 and the given retry_after, as a per-route limit would
// (scope "user"); with RouteGlobal, the next n globally limited requests get a
// global 429 (X-RateLimit-Global). The requests have no effect. It panics on
// an unknown route.
func (s *Server) RateLimitNext(route string, n int, retryAfter time.Duration) {
	s.inject(route, injection{n: n, status: http.StatusTooManyRequests, retryAfter: retryAfter})
}

// FailNext makes the next n requests of a route fail with status (500, 502,
// 503…) and no effect. discordgo itself retries 502 up to MaxRestRetries.
func (s *Server) FailNext(route string, n int, status int) {
	s.inject(route, injection{n: n, status: status})
}

// LoseResponseNext applies the next n requests of a route and then answers
// them with status (e.g. 502), as when a response is lost after Discord
// committed the request: the case message nonces exist for.
func (s *Server) LoseResponseNext(route string, n int, status int) {
	s.inject(route, injection{n: n, status: status, after: true})
}

func (s *Server) inject(route string, inj injection) {
	if route != RouteGlobal && !knownRoute(route) {
		panic(fmt.Sprintf("discordfake: unknown route %q", route))
	}
	if inj.n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.injected[route] = append(s.injected[route], inj)
}

// takeInjection consumes one scripted failure of a route, if any. Callers
// hold s.mu.
func (s *Server) takeInjection(route string) (injection, bool) {
	q := s.injected[route]
	if len(q) == 0 {
		return injection{}, false
	}
	inj := q[0]
	q[0].n--
	if q[0].n <= 0 {
		q = q[1:]
	}
	if len(q) == 0 {
		delete(s.injected, route)
	} else {
		s.injected[route] = q
	}
	return inj, true
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

// Requests counts requests received for a route (a Route* constant),
// whatever their outcome.
func (s *Server) Requests(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[route]
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
