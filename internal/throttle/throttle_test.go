package throttle

import (
	"testing"
	"time"
)

// Past Max keys, a key whose limiter has recovered is forgotten before one
// still counting failures: a limit cannot be escaped by crowding the map with
// new keys unless they all recover.
func TestFailuresForgetRecoveredKeysFirst(t *testing.T) {
	f := Failures{Max: 2}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	fail := func(key string) time.Duration {
		a, wait := f.Begin(now, Limit{Key: key, Every: time.Minute, Burst: 1})
		if a == nil {
			return wait
		}
		return 0
	}
	if fail("guesser") != 0 || fail("guesser") != time.Minute {
		t.Fatal("a burst of 1: want the second failure refused for a minute")
	}
	a, _ := f.Begin(now, Limit{Key: "honest", Every: time.Minute, Burst: 1})
	a.Forgive(now)   // recovered at once
	fail("newcomer") // the map is full: "honest" is forgotten, not "guesser"
	if wait := fail("guesser"); wait == 0 {
		t.Error("the guesser's limit was forgotten while it still counted failures")
	}
}
