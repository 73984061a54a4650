package discordfake

import (
	"testing"
	"time"
)

func TestDebugGuildCreate(t *testing.T) {
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	s.LogLevel = 1
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	t.Log(s.State.Guilds)
}
