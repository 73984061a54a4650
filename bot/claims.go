package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"os"
	"slices"
	"time"
)

// Several instances on one store (a Claimer) share the outbox: the relay
// delivers only to the destinations it holds a claim on, renews its claims at
// every look at the outbox while it delivers there, and gives them up when it
// stops. A crashed instance's claims run out after relayLease and another
// instance takes them over, treating what it finds there as possibly posted
// already (Message.PostedSince), since the crashed one may have posted it
// without recording it.
const relayLease = 15 * time.Second

// instanceName is this process's name in its claims: host, process ID and a
// random suffix, so that a restarted process does not pass for the old one.
func instanceName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// claims is one Deliver call's view of the destinations it holds.
type claims struct {
	held map[string]bool
	// renew holds when each held claim is to be renewed: half its lease
	// after it was last claimed, by this process's clock, so that a busy
	// destination's claim is written every relayLease/2, not at every look.
	renew map[string]time.Time
	// taken holds when each destination was taken over from a stopped
	// instance: actions queued there before then may have been posted.
	taken map[string]time.Time
}

// claim renews the claims on the destinations this relay delivers to (lanes
// in flight, due actions) once they are half way through their lease, and
// claims some of the due destinations it does not hold yet: half of them,
// chosen at random, so that instances looking at the same time share them
// out instead of the first taking them all. Claims no longer needed lapse.
// It reports whether it now holds one it did not hold before (the caller
// then reads the outbox again: what it read may predate the last holder's
// commits).
func (c *Core) claim(ctx context.Context, cl Claimer, d *dispatch, due []Action) (bool, error) {
	now := time.Now()
	want, keep := map[string]bool{}, map[string]bool{}
	need := func(dest string) {
		if now.Before(d.claims.renew[dest]) {
			keep[dest] = true
		} else {
			want[dest] = true
		}
	}
	for _, dest := range d.inflight {
		need(dest)
	}
	var unheld []string
	seen := map[string]bool{}
	for _, a := range due {
		dest := c.destination(a)
		switch {
		case d.claims.held[dest]:
			need(dest)
		case !seen[dest]:
			seen[dest] = true
			unheld = append(unheld, dest)
		}
	}
	mrand.Shuffle(len(unheld), func(i, j int) { unheld[i], unheld[j] = unheld[j], unheld[i] })
	for _, dest := range unheld[:(len(unheld)+1)/2] {
		want[dest] = true
	}
	var held, taken []string
	if len(want) > 0 {
		var err error
		held, taken, err = cl.ClaimDestinations(ctx, c.instance, slices.Sorted(maps.Keys(want)), relayLease)
		if err != nil {
			return false, fmt.Errorf("claim destinations: %w", err)
		}
	}
	for _, dest := range taken {
		d.claims.taken[dest] = now
		c.log.Info("destination taken over from a stopped instance", "destination", dest)
	}
	fresh := false
	next, renew := make(map[string]bool, len(held)+len(keep)), make(map[string]time.Time, len(held)+len(keep))
	for dest := range keep {
		next[dest], renew[dest] = true, d.claims.renew[dest]
	}
	for _, dest := range held {
		next[dest], renew[dest] = true, now.Add(relayLease/2)
		fresh = fresh || !d.claims.held[dest]
	}
	d.claims.held, d.claims.renew = next, renew
	return fresh, nil
}

// release gives up this instance's claims as the relay stops.
func (c *Core) release(ctx context.Context) {
	cl, ok := c.store.(Claimer)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitGrace)
	defer cancel()
	if err := cl.ReleaseDestinations(ctx, c.instance); err != nil {
		c.log.Warn("release destinations", "err", err)
	}
}
