package discord

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/time/rate"
)

type countingTransport struct{ n int }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
}

// TestGlobalPaceExemptions: interaction callbacks and webhooks skip the global
// pace; every other request waits for it (here a pace that never lets one go).
func TestGlobalPaceExemptions(t *testing.T) {
	for _, tc := range []struct {
		path   string
		paced  bool
		reason string
	}{
		{"/api/v9/channels/1/messages", true, "message creation"},
		{"/api/v9/channels/1/threads", true, "thread creation"},
		{"/api/v9/interactions/5/tok/callback", false, "interaction callback"},
		{"/api/v9/webhooks/7/tok/messages/@original", false, "interaction follow-up"},
	} {
		next := &countingTransport{}
		p := &globalPace{lim: rate.NewLimiter(0, 0), next: next}
		_, err := p.RoundTrip(httptest.NewRequest(http.MethodPost, "http://discord.test"+tc.path, nil))
		if got := err != nil && next.n == 0; got != tc.paced {
			t.Errorf("%s (%s): paced %v (err %v, sent %d), want %v", tc.reason, tc.path, got, err, next.n, tc.paced)
		}
	}
}

// TestGlobalPaceShared: the instances of a sharded bot share Discord's
// global limit, each taking its share of the pace.
func TestGlobalPaceShared(t *testing.T) {
	for _, tc := range []struct{ instances, perSecond int }{{0, globalPerSecond}, {1, globalPerSecond}, {3, globalPerSecond / 3}} {
		p := newGlobalPace(&countingTransport{}, tc.instances)
		if got := float64(p.lim.Limit()); int(got+0.5) != tc.perSecond {
			t.Errorf("%d instances: %.1f requests a second each, want %d", tc.instances, got, tc.perSecond)
		}
	}
}
