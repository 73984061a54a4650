package web

import (
	"context"
	"math"
	"runtime"
	"time"

	"github.com/advocate-bot/advocate/internal/throttle"
)

// Failed sign-ins are limited twice: per client address and name (a burst of
// nameBurst, then one per nameEvery), so one account cannot be guessed at
// quickly, and per client address whatever the names (addrBurst, then one per
// addrEvery), so trying many names from one address costs as much as trying
// one. Each attempt takes a token from both before its password is checked
// and gets them back if it succeeds (throttle.Failures).
const (
	nameBurst = 5
	nameEvery = 30 * time.Second
	addrBurst = 10
	addrEvery = 6 * time.Second
)

// loginFailures throttles password guessing.
type loginFailures struct {
	throttle.Failures
}

// begin takes a token for addr and one for addr+name at now. When either has
// none, it takes nothing and returns how long to wait.
func (f *loginFailures) begin(addr, name string, now time.Time) (*throttle.Attempt, time.Duration) {
	return f.Begin(now,
		throttle.Limit{Key: "addr\x00" + addr, Every: addrEvery, Burst: addrBurst},
		throttle.Limit{Key: "name\x00" + addr + "\x00" + name, Every: nameEvery, Burst: nameBurst})
}

// retryAfter is a wait as a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// hashGate bounds the bcrypt comparisons running at once (each takes a core
// for tens of milliseconds) and the sign-ins waiting for one, so a flood of
// sign-ins cannot take the CPU from the bot; beyond that, a sign-in is
// refused at once.
type hashGate struct {
	admitted chan struct{} // running or waiting
	running  chan struct{}
}

func newHashGate(running, waiting int) *hashGate {
	return &hashGate{admitted: make(chan struct{}, running+waiting), running: make(chan struct{}, running)}
}

// defaultHashGate runs one comparison per core and lets four per core wait.
func defaultHashGate() *hashGate {
	n := max(1, runtime.GOMAXPROCS(0))
	return newHashGate(n, 4*n)
}

// enter waits for a slot; it is false when too many are waiting or ctx ends.
// A true enter must be followed by leave.
func (g *hashGate) enter(ctx context.Context) bool {
	select {
	case g.admitted <- struct{}{}:
	default:
		return false
	}
	select {
	case g.running <- struct{}{}:
		return true
	case <-ctx.Done():
		<-g.admitted
		return false
	}
}

func (g *hashGate) leave() {
	<-g.running
	<-g.admitted
}
