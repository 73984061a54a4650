package bot

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Wrong link codes are limited twice: per identity (a burst of
// guessesPerIdentity, then one per identityEvery), so one account cannot try
// codes quickly, and over everyone (guessesOverall, then one per overallEvery),
// so many accounts together cannot either. A code is 40 random bits valid for
// LinkCodeTTL: at these rates guessing one is hopeless. Each attempt takes a
// token from both before its code is looked up and gets them back unless the
// code was unknown, so only wrong codes count and parallel attempts cannot
// slip through together. The counts live in this process: each instance of a
// shared store counts its own.
const (
	guessesPerIdentity = 5
	identityEvery      = time.Minute
	guessesOverall     = 30
	overallEvery       = 10 * time.Second
	maxGuessers        = 10000 // remembered identities
)

// linkGuesses throttles wrong /link codes.
type linkGuesses struct {
	mu      sync.Mutex
	overall *rate.Limiter
	by      map[Identity]*rate.Limiter
}

// guess is one attempt holding its tokens.
type guess struct {
	g    *linkGuesses
	held []*rate.Reservation
}

// begin takes a token for who and one overall at now. When either has none,
// it takes nothing and returns how long to wait.
func (g *linkGuesses) begin(who Identity, now time.Time) (*guess, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.overall == nil {
		g.overall = rate.NewLimiter(rate.Every(overallEvery), guessesOverall)
	}
	a := &guess{g: g}
	wait := time.Duration(0)
	for _, l := range []*rate.Limiter{g.limiter(who, now), g.overall} {
		r := l.ReserveN(now, 1)
		a.held = append(a.held, r)
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		a.giveBackLocked(now)
		return nil, wait
	}
	return a, 0
}

// notAGuess gives the attempt's tokens back: the code was right (or the
// person's own), so it does not count.
func (a *guess) notAGuess(now time.Time) {
	a.g.mu.Lock()
	defer a.g.mu.Unlock()
	a.giveBackLocked(now)
}

func (a *guess) giveBackLocked(now time.Time) {
	for _, r := range a.held {
		r.CancelAt(now)
	}
	a.held = nil
}

// limiter returns who's limiter, making room for a new one by forgetting
// those that have recovered (the same as never seen), then any.
func (g *linkGuesses) limiter(who Identity, now time.Time) *rate.Limiter {
	if g.by == nil {
		g.by = map[Identity]*rate.Limiter{}
	}
	if l := g.by[who]; l != nil {
		return l
	}
	if len(g.by) >= maxGuessers {
		for k, old := range g.by {
			if old.TokensAt(now) >= float64(old.Burst()) {
				delete(g.by, k)
			}
		}
		for k := range g.by {
			if len(g.by) < maxGuessers {
				break
			}
			delete(g.by, k)
		}
	}
	l := rate.NewLimiter(rate.Every(identityEvery), guessesPerIdentity)
	g.by[who] = l
	return l
}

// waitWords says a wait for people: "45 seconds", "2 minutes".
func waitWords(d time.Duration) string {
	if s := int(math.Ceil(d.Seconds())); s < 60 {
		return plural(max(s, 1), "second")
	}
	return plural(int(math.Ceil(d.Minutes())), "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
