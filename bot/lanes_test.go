package bot_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

// A second step holds up its key's later work, not other keys' work.
func TestRunThenKeepsEachKeysOrder(t *testing.T) {
	ln := bot.NewLanes(4)
	var (
		mu  sync.Mutex
		ran []string
	)
	note := func(s string) {
		mu.Lock()
		ran = append(ran, s)
		mu.Unlock()
	}
	release, deciding, otherDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	ln.RunThen("a", func() func() {
		note("a1")
		return func() {
			close(deciding)
			<-release
			note("a1 decided")
		}
	})
	ln.Run("a", func() { note("a2") })
	<-deciding
	ln.Run("b", func() { note("b1"); close(otherDone) })
	<-otherDone
	mu.Lock()
	got := slices.Clone(ran)
	mu.Unlock()
	if want := []string{"a1", "b1"}; !slices.Equal(got, want) {
		t.Fatalf("while a1's second step waits: ran %v, want %v (a2 waits for it, b1 does not)", got, want)
	}
	close(release)
	ln.Wait()
	if want := []string{"a1", "b1", "a1 decided", "a2"}; !slices.Equal(ran, want) {
		t.Errorf("in the end: ran %v, want %v", ran, want)
	}
}
