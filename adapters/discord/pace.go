package discord

import (
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// globalPerSecond keeps the bot's REST requests under Discord's global limit
// of 50 per second: with one request at a time every 1/45 s, no second-long
// window, wherever it starts, holds more than 46.
const globalPerSecond = 45

// globalPace spaces the bot's REST requests to stay under Discord's global
// limit. discordgo paces each route bucket from the X-RateLimit headers but
// learns of the global limit only from a 429, so many deliveries to different
// channels at once (each with a bucket of its own) would draw global 429s.
// It runs inside discordgo's request, after the route bucket is taken, so a
// request waits here only when its bucket lets it go. Interaction callbacks
// and webhooks are exempt from the global limit and go at once.
type globalPace struct {
	lim  *rate.Limiter
	next http.RoundTripper
}

// newGlobalPace paces one of instances sharing the bot's token (its shard
// count, one when not sharded): Discord's global limit is the bot's, so each
// instance takes its share of it.
func newGlobalPace(next http.RoundTripper, instances int) *globalPace {
	every := time.Second / globalPerSecond * time.Duration(max(instances, 1))
	return &globalPace{lim: rate.NewLimiter(rate.Every(every), 1), next: next}
}

// RoundTrip waits for the global pace, unless the request is exempt.
func (t *globalPace) RoundTrip(r *http.Request) (*http.Response, error) {
	if !globallyExempt(r.URL.Path) {
		if err := t.lim.Wait(r.Context()); err != nil {
			return nil, err
		}
	}
	return t.next.RoundTrip(r)
}

// globallyExempt reports whether a REST path is outside the global limit:
// interaction callbacks and webhooks (follow-ups), authenticated by a token in
// the path.
func globallyExempt(path string) bool {
	return strings.Contains(path, "/interactions/") || strings.Contains(path, "/webhooks/")
}
