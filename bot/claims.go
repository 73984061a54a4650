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
	// taken holds when each destination was taken over from a stopped
	// instance: actions queued there before then may have been posted.
	taken map[string]time.Time
}

// claim renews the claims on the destinations this relay delivers to (lanes
// in flight, due actions) and claims some of the due destinations it does not
// hold yet: half of them, chosen at random, so that instances looking at the
// same time share them out instead of the first taking them all. It reports
// whether it now holds one it did not hold before (the caller then reads the
// outbox again: what it read may predate the last holder's commits).
func (c *Core) claim(ctx context.Context, cl Claimer, d *dispatch, due []Action) (bool, error) {
	want := map[string]bool{}
	for _, dest := range d.inflight {
		want[dest] = true
	}
	var unheld []string
	seen := map[string]bool{}
	for _, a := range due {
		dest := c.destination(a)
		switch {
		case d.claims.held[dest]:
			want[dest] = true
		case !seen[dest]:
			seen[dest] = true
			unheld = append(unheld, dest)
		}
	}
	mrand.Shuffle(len(unheld), func(i, j int) { unheld[i], unheld[j] = unheld[j], unheld[i] })
	for _, dest := range unheld[:(len(unheld)+1)/2] {
		want[dest] = true
	}
	if len(want) == 0 {
		return false, nil
	}
	held, taken, err := cl.ClaimDestinations(ctx, c.instance, slices.Sorted(maps.Keys(want)), relayLease)
	if err != nil {
		return false, fmt.Errorf("claim destinations: %w", err)
	}
	now := time.Now()
	for _, dest := range taken {
		d.claims.taken[dest] = now
		c.log.Info("destination taken over from a stopped instance", "destination", dest)
	}
	fresh := false
	next := make(map[string]bool, len(held))
	for _, dest := range held {
		next[dest] = true
		fresh = fresh || !d.claims.held[dest]
	}
	d.claims.held = next
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
