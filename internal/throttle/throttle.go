// Package throttle limits attempts that can fail (a password, a link code) by
// several keys at once: each attempt takes a token from every key's limiter
// before it is checked and gets them back unless it failed, so only failures
// count and parallel attempts cannot slip through together.
package throttle

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is one key's allowance: a burst of Burst, then one every Every.
type Limit struct {
	Key   string
	Every time.Duration
	Burst int
}

// Failures holds a limiter per key, at most Max of them (default 10,000):
// past that, those that have recovered (the same as never seen) are
// forgotten, then any. The zero value is ready to use.
type Failures struct {
	Max int

	mu sync.Mutex
	by map[string]*rate.Limiter
}

// Attempt is one attempt holding its tokens.
type Attempt struct {
	f    *Failures
	held []*rate.Reservation
}

// Begin takes a token under each limit at now. When any has none, it takes
// nothing and returns how long to wait.
func (f *Failures) Begin(now time.Time, limits ...Limit) (*Attempt, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := &Attempt{f: f}
	wait := time.Duration(0)
	for _, l := range limits {
		r := f.limiter(l, now).ReserveN(now, 1)
		a.held = append(a.held, r)
		wait = max(wait, r.DelayFrom(now))
	}
	if wait > 0 {
		a.giveBackLocked(now)
		return nil, wait
	}
	return a, 0
}

// Forgive gives the attempt's tokens back: it did not fail, so it does not
// count.
func (a *Attempt) Forgive(now time.Time) {
	a.f.mu.Lock()
	defer a.f.mu.Unlock()
	a.giveBackLocked(now)
}

func (a *Attempt) giveBackLocked(now time.Time) {
	for _, r := range a.held {
		r.CancelAt(now)
	}
	a.held = nil
}

// limiter returns the limiter of l's key, making room for a new one when the
// map is full.
func (f *Failures) limiter(l Limit, now time.Time) *rate.Limiter {
	if f.by == nil {
		f.by = map[string]*rate.Limiter{}
	}
	if lim := f.by[l.Key]; lim != nil {
		return lim
	}
	most := f.Max
	if most <= 0 {
		most = 10000
	}
	if len(f.by) >= most {
		for k, old := range f.by {
			if old.TokensAt(now) >= float64(old.Burst()) {
				delete(f.by, k)
			}
		}
		for k := range f.by {
			if len(f.by) < most {
				break
			}
			delete(f.by, k)
		}
	}
	lim := rate.NewLimiter(rate.Every(l.Every), l.Burst)
	f.by[l.Key] = lim
	return lim
}
