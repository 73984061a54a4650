package slack_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

var linkCodeRE = regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}`)

// /link through slack-go and the fake: the code comes back in an answer
// only the person sees, and a code from another platform entered on Slack
// links the two identities.
func TestLinkCommand(t *testing.T) {
	modes(t, func(t *testing.T, mode string) {
		e := newEnv(t, mode)
		onDiscord := func(id, text string) string {
			t.Helper()
			r, err := e.core.Handle(e.ctx, bot.Event{ID: "discord-" + id + "-" + text, Kind: bot.EventCommand, Command: bot.CmdLink,
				Text: text, Author: bot.Person{Platform: bot.Discord, ID: id}, Where: bot.Ref{Platform: bot.Discord, Channel: "support"}})
			if err != nil {
				t.Fatalf("/link on Discord: %v", err)
			}
			return r.Ephemeral
		}

		// A code given on Slack, entered on Discord.
		answer := ephemeralText(t, e.command(adaID, supportID, "/link", ""))
		code := linkCodeRE.FindString(answer)
		if code == "" {
			t.Fatalf("/link answered %q: no code", answer)
		}
		if got := onDiscord("9001", code); !strings.Contains(got, "Linked") {
			t.Fatalf("the Slack code entered on Discord: got %q, want linked", got)
		}

		// A code given on Discord, entered on Slack.
		code2 := linkCodeRE.FindString(onDiscord("9002", ""))
		if got := ephemeralText(t, e.command(benID, supportID, "/link", code2)); !strings.Contains(got, "Linked") {
			t.Fatalf("/link %s on Slack: got %q, want linked", code2, got)
		}
		if got := ephemeralText(t, e.command(benID, supportID, "/link", code2)); !strings.Contains(got, "unknown or has expired") {
			t.Errorf("the same code again: got %q, want refused", got)
		}

		var ada, ben []bot.Identity
		err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
			if ada, err = tx.Identities(e.ctx, bot.Identity{Platform: bot.Slack, ID: adaID}); err != nil {
				return err
			}
			ben, err = tx.Identities(e.ctx, bot.Identity{Platform: bot.Slack, ID: benID})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []bot.Identity{{Platform: bot.Discord, ID: "9001"}, {Platform: bot.Slack, ID: adaID}}; !slices.Equal(ada, want) {
			t.Errorf("Ada's identities: got %v, want %v", ada, want)
		}
		if want := []bot.Identity{{Platform: bot.Discord, ID: "9002"}, {Platform: bot.Slack, ID: benID}}; !slices.Equal(ben, want) {
			t.Errorf("Ben's identities: got %v, want %v", ben, want)
		}

		// Nothing was posted: the codes were only in the answers.
		e.settled()
		for _, ef := range e.fake.Effects() {
			if ef.Kind == "chat.postMessage" || ef.Kind == "chat.postEphemeral" {
				t.Errorf("%s in %s: %q; /link posts nothing", ef.Kind, ef.Channel, ef.Text)
			}
		}
		for _, c := range []string{code, code2} {
			if strings.Contains(e.logs.String(), c) {
				t.Errorf("link code %s is in the log", c)
			}
		}
	})
}
