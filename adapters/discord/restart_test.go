package discord

import (
	"context"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// TestOpenPrivateAfterRestartFindsThread: a retry of OpenPrivate that may
// follow an unrecorded attempt (the process stopped after the private thread
// was started) finds that thread instead of starting a second one. The
// adapter keeps no memory of the attempt, as after a restart.
func TestOpenPrivateAfterRestartFindsThread(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	_, thread, cs := e.openCase("My invoice is wrong")
	e.settled()
	retry := bot.Message{Text: "Hi again", Nonce: "adv-retry", PostedSince: time.Now().Add(-time.Minute)}
	private, _, err := e.adapter.OpenPrivate(context.Background(), cs, retry)
	if err != nil {
		t.Fatalf("OpenPrivate retried: %v", err)
	}
	if private.Channel != thread.ID {
		t.Errorf("private side of the retry = %s, want the thread of the first attempt %s", private.Channel, thread.ID)
	}
	if got := len(e.fake.Threads(supportID)); got != 1 {
		t.Errorf("private threads in the support channel: got %d, want 1", got)
	}
}
