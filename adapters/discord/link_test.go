package discord

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot"
)

var linkCodeRE = regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}`)

// /link through discordgo and the fake: the code comes back in an ephemeral
// answer, and a code from another platform entered on Discord links the two
// identities.
func TestLinkCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	ctx := context.Background()
	link := func(user string, opts ...discordfake.CommandOption) string {
		t.Helper()
		i, err := e.fake.SlashCommand(user, supportID, "link", opts...)
		if err != nil {
			t.Fatalf("/link: %v", err)
		}
		r := e.response(i.ID)
		if r.Type != 4 || !r.Ephemeral() {
			t.Errorf("/link answered type %d flags %d, want an ephemeral message", r.Type, r.Flags)
		}
		return r.Content
	}
	onSlack := func(id, text string) string {
		t.Helper()
		r, err := e.core.Handle(ctx, bot.Event{ID: "slack-" + id + "-" + text, Kind: bot.EventCommand, Command: bot.CmdLink,
			Text: text, Author: bot.Person{Platform: bot.Slack, ID: id}, Where: bot.Ref{Platform: bot.Slack, Channel: "C1"}})
		if err != nil {
			t.Fatalf("/link on Slack: %v", err)
		}
		return r.Ephemeral
	}

	// A code given on Discord, entered on Slack.
	answer := link(customerID)
	code := linkCodeRE.FindString(answer)
	if code == "" {
		t.Fatalf("/link answered %q: no code", answer)
	}
	if got := onSlack("U0ADA", code); !strings.Contains(got, "Linked") {
		t.Fatalf("the Discord code entered on Slack: got %q, want linked", got)
	}
	// A code given on Slack, entered on Discord.
	code2 := linkCodeRE.FindString(onSlack("U0BEN", ""))
	if got := link(benID, discordfake.CommandOption{Name: "code", Value: code2}); !strings.Contains(got, "Linked") {
		t.Fatalf("/link code:%s on Discord: got %q, want linked", code2, got)
	}

	for who, want := range map[string][]bot.Identity{
		customerID: {{Platform: bot.Discord, ID: customerID}, {Platform: bot.Slack, ID: "U0ADA"}},
		benID:      {{Platform: bot.Discord, ID: benID}, {Platform: bot.Slack, ID: "U0BEN"}},
	} {
		var got []bot.Identity
		err := e.db.View(ctx, func(tx bot.Tx) (err error) {
			got, err = tx.Identities(ctx, bot.Identity{Platform: bot.Discord, ID: who})
			return err
		})
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("identities of %s: got %v, %v; want %v", who, got, err, want)
		}
	}
	e.settled()
	if msgs := e.botMessages(supportID); len(msgs) != 0 {
		t.Errorf("the bot posted %d message(s) in #support; /link posts nothing", len(msgs))
	}
	for _, c := range []string{code, code2} {
		if strings.Contains(e.logs.String(), c) {
			t.Errorf("link code %s is in the log", c)
		}
	}
}
