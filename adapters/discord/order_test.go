package discord

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

// One person's messages reach the core in the order they were sent, the next
// only once the core is done with the one before; other people's meanwhile
// do not wait.
func TestMessagesInOrderPerPerson(t *testing.T) {
	t.Parallel()
	first := make(chan struct{})
	release := make(chan struct{})
	var mu sync.Mutex
	var got []string
	e := newEnv(t, envConfig{handler: func(next bot.Handler) bot.Handler {
		return handlerFunc(func(ctx context.Context, ev bot.Event) (bot.Reply, error) {
			if ev.Kind == bot.EventMessage || ev.Kind == bot.EventMention {
				mu.Lock()
				got = append(got, ev.Text)
				mu.Unlock()
				if ev.Text == "first" {
					close(first)
					<-release
				}
			}
			return next.Handle(ctx, ev)
		})
	}})
	e.post(supportID, customerID, "first")
	<-first
	e.post(supportID, customerID, "second")
	e.post(supportID, otherID, "another person") // read after "second"
	e.eventually("another person's message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(got, "another person")
	})
	mu.Lock()
	before := append([]string(nil), got...)
	mu.Unlock()
	close(release)
	if want := []string{"first", "another person"}; !slices.Equal(before, want) {
		t.Fatalf("handed to the core while the first waited: got %q, want %q", before, want)
	}
	e.eventually("the second message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 3
	})
}
