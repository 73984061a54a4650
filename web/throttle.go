package web

import (
	"context"
	"math"
	"runtime"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed sign-ins are limited twice: per client address and name (a burst of
// nameBurst, then one per nameEvery), so one account cannot be guessed at
// quickly, and per client address whatever the names (addrBurst, then one per
// addrEvery), so trying many names from one address costs as much as trying
// one. Each attempt takes a token from both before its password is checked
// and gets them back if it succeeds, so parallel attempts cannot slip through
// together.
const (
	nameBurst     = 5
	nameEvery     = 30 * time.Second
	addrBurst     = 10
	addrEvery     = 6 * time.Second
	maxFailLimits = 10000 // remembered addresses and address+name pairs
)

// loginFailures throttles password guessing.
type loginFailures struct {
	mu sync.Mutex
	by map[string]*rate.Limiter
}

// attempt is one sign-in attempt holding its tokens.
type attempt struct {
	f    *loginFailures
	held []*rate.Reservation
}

// begin takes a token for addr and one for addr+name at now. When either has
// none, it takes nothing and returns how long to wait.
func (f *loginFailures) begin(addr, name string, now time.Time) (*attempt, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := &attempt{f: f}
	wait := time.Duration(0)
	for _, k := range []struct {
		key   string
		every time.Duration
		burst int
	}{{"addr\x00" + addr, addrEvery, addrBurst}, {"name\x00" + addr + "\x00" + name, nameEvery, nameBurst}} {
		r := f.limiter(k.key, k.every, k.burst, now).ReserveN(now, 1)
		a.held = append(a.held, r)
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		a.cancelLocked(now)
		return nil, wait
	}
	return a, 0
}

// succeeded gives the attempt's tokens back: only failures count.
func (a *attempt) succeeded(now time.Time) {
	a.f.mu.Lock()
	defer a.f.mu.Unlock()
	a.cancelLocked(now)
}

func (a *attempt) cancelLocked(now time.Time) {
	for _, r := range a.held {
		r.CancelAt(now)
	}
	a.held = nil
}

// limiter returns key's limiter, making room for a new one by forgetting
// those that have recovered (the same as never seen), then any.
func (f *loginFailures) limiter(key string, every time.Duration, burst int, now time.Time) *rate.Limiter {
	if f.by == nil {
		f.by = map[string]*rate.Limiter{}
	}
	if l := f.by[key]; l != nil {
		return l
	}
	if len(f.by) >= maxFailLimits {
		for k, old := range f.by {
			if old.TokensAt(now) >= float64(old.Burst()) {
				delete(f.by, k)
			}
		}
		for k := range f.by {
			if len(f.by) < maxFailLimits {
				break
			}
			delete(f.by, k)
		}
	}
	l := rate.NewLimiter(rate.Every(every), burst)
	f.by[key] = l
	return l
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
