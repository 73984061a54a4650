package bot_test

import (
	"context"
	"testing"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// ackStore records whether each Update's context says a platform waits on it.
type ackStore struct {
	bot.Store
	acks []bool
}

func (s *ackStore) Update(ctx context.Context, _ func(bot.Tx) error) error {
	s.acks = append(s.acks, bot.AwaitsAck(ctx))
	return nil
}

// Handle tells the store that a platform waits for its commit, so the store
// can commit events before the relay's work.
func TestHandleMarksItsTransaction(t *testing.T) {
	st := &ackStore{}
	core, err := bot.New(bot.Options{Store: st, Config: bottest.Config()})
	if err != nil {
		t.Fatal(err)
	}
	ev := bot.Event{ID: "e1", Kind: bot.EventMessage, Support: true, Text: "help",
		Where:  bot.Ref{Platform: bot.Slack, Channel: "C1", Message: "1.1"},
		Author: bot.Person{Platform: bot.Slack, ID: "U1"}}
	if _, err := core.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if len(st.acks) != 1 || !st.acks[0] {
		t.Errorf("Update contexts marked as awaited: got %v, want [true]", st.acks)
	}
	if bot.AwaitsAck(context.Background()) {
		t.Error("a plain context is marked")
	}
}

// What no platform acknowledges (a Discord gateway message, a name looked
// up after the event) is not marked: the store commits it after the events a
// platform waits on.
func TestHandleLeavesUnacknowledgedUnmarked(t *testing.T) {
	st := &ackStore{}
	core, err := bot.New(bot.Options{Store: st, Config: bottest.Config()})
	if err != nil {
		t.Fatal(err)
	}
	msg := bot.Event{ID: "e1", Kind: bot.EventMessage, Support: true, Text: "help",
		Where:  bot.Ref{Platform: bot.Discord, Channel: "C1", Message: "1"},
		Author: bot.Person{Platform: bot.Discord, ID: "U1", Name: "Ada"}}
	if _, err := core.Handle(bot.Unacknowledged(context.Background()), msg); err != nil {
		t.Fatal(err)
	}
	named := bot.Event{Kind: bot.EventNamed, Author: bot.Person{Platform: bot.Slack, ID: "U2", Name: "Bea"}}
	if _, err := core.Handle(context.Background(), named); err != nil {
		t.Fatal(err)
	}
	if len(st.acks) != 2 || st.acks[0] || st.acks[1] {
		t.Errorf("Update contexts marked as awaited: got %v, want [false false]", st.acks)
	}
}
