package sim

import (
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// botReplies posts the bot's reply to a message in the support channel and
// has the watcher index it.
func botReplies(t *testing.T, d *Discord, to, text string) {
	t.Helper()
	_, err := d.Fake.Post(discordfake.Message{ChannelID: DiscordSupport, Author: discordfake.User{ID: d.Fake.BotUserID()},
		Content: text, Reference: &discordfake.MessageReference{MessageID: to}})
	if err != nil {
		t.Fatal(err)
	}
	d.refresh()
}

func TestDiscordCustomerAsksAgainOnlyAfterSilence(t *testing.T) {
	clock := bottest.NewClock(time.Unix(1_700_000_000, 0))
	d := NewDiscord(DiscordOptions{Fake: discordfake.Options{Now: clock.Now}, Patience: 15 * time.Second})
	t.Cleanup(d.Close)
	ada, ben := d.Conversation(1), d.Conversation(2)
	for _, c := range []*DiscordConversation{ben, ada} {
		if err := c.PostQuestion(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(14 * time.Second)
	if ada.askAgain(clock.Now()) {
		t.Errorf("asks again 14 s after the question, with a patience of 15 s")
	}
	// The bot answers Ben: Ada sees it at work and waits on.
	botReplies(t, d, ben.Question.ID, "taken this to a private conversation")
	clock.Advance(10 * time.Second)
	if ada.askAgain(clock.Now()) {
		t.Errorf("asks again 24 s after the question although the bot posted 10 s ago")
	}
	clock.Advance(5 * time.Second)
	if !ada.askAgain(clock.Now()) {
		t.Errorf("does not ask again after 15 s with no answer and nothing from the bot")
	}
	// Asked again, and this time answered: Ada waits for her thread as long
	// as it takes.
	if err := ada.PostQuestion(t.Context()); err != nil {
		t.Fatal(err)
	}
	botReplies(t, d, ada.Question.ID, "you already have an open case")
	clock.Advance(time.Hour)
	if ada.askAgain(clock.Now()) {
		t.Errorf("asks again an hour after the bot answered the question")
	}
	if ben.askAgain(clock.Now()) {
		t.Errorf("Ben, answered at once, asks again")
	}
}
