package bot

import (
	"fmt"
	"math"
	"time"

	"github.com/advocate-bot/advocate/internal/throttle"
)

// Wrong link codes are limited twice: per identity (a burst of
// guessesPerIdentity, then one per identityEvery), so one account cannot try
// codes quickly, and over everyone (guessesOverall, then one per overallEvery),
// so many accounts together cannot either. A code is 40 random bits valid for
// LinkCodeTTL: at these rates guessing one is hopeless. Each attempt takes a
// token from both before its code is looked up and gets them back unless the
// code was unknown (throttle.Failures). The counts live in this process: each instance of a
// shared store counts its own.
const (
	guessesPerIdentity = 5
	identityEvery      = time.Minute
	guessesOverall     = 30
	overallEvery       = 10 * time.Second
)

// linkGuesses throttles wrong /link codes.
type linkGuesses struct {
	throttle.Failures
}

// begin takes a token for who and one overall at now. When either has none,
// it takes nothing and returns how long to wait. Forgive the attempt unless
// its code was unknown.
func (g *linkGuesses) begin(who Identity, now time.Time) (*throttle.Attempt, time.Duration) {
	return g.Begin(now,
		throttle.Limit{Key: "id\x00" + who.Platform + "\x00" + who.ID, Every: identityEvery, Burst: guessesPerIdentity},
		throttle.Limit{Key: "overall", Every: overallEvery, Burst: guessesOverall})
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
