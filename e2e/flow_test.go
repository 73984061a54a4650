package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
)

// TestHappyPathThroughTheBinary runs the whole funnel on Slack and on
// Discord at once through the built binary, configured only by its file,
// and reads the funnel back from its database after a clean shutdown.
func TestHappyPathThroughTheBinary(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, ctx := newEnv(t, ctx, sim.Config{}, sim.SlackOptions{}, withDiscord)
	sc, dc := e.slack.Conversation(1), e.discord.Conversation(1)
	errs := make(chan error, 2)
	go func() { errs <- sc.Full(ctx) }()
	go func() { errs <- dc.Full(ctx) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	logs := settle(t, ctx, e)

	want := []string{bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindFirstStaffResponse, bot.KindResolved,
		bot.KindSurveySent, bot.KindRated, bot.KindShareOffered, bot.KindShareClicked, bot.KindShared, bot.KindClosed}
	for _, c := range []struct {
		platform string
		id       int64
	}{{bot.Slack, sc.CaseID}, {bot.Discord, dc.CaseID}} {
		l, ok := logs[c.id]
		if !ok {
			t.Errorf("%s: no case %d in the database", c.platform, c.id)
			continue
		}
		if got := l.c.Platform; got != c.platform {
			t.Errorf("case %d: platform %q, want %q", c.id, got, c.platform)
		}
		var kinds []string
		for _, ev := range l.events {
			kinds = append(kinds, ev.Kind)
		}
		for _, k := range want {
			if !slices.Contains(kinds, k) {
				t.Errorf("%s case %d: funnel %v lacks %s", c.platform, c.id, kinds, k)
			}
		}
	}
	if got := len(logs); got != 2 {
		t.Errorf("cases: got %d, want 2", got)
	}
}
