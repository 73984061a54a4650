package slackfake_test

import (
	"slices"
	"testing"

	"github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
)

func TestPrivateChannelsAreSeenByMembersOnly(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C1", "help", true)
	srv.AddChannel("G1", "staff", false)
	srv.AddUser("U1", "ada")
	srv.AddUser("U2", "sam")
	srv.AddMembers("G1", "U2")
	if !srv.CanView("U2", "G1") || srv.CanView("U1", "G1") || !srv.CanView("U1", "C1") {
		t.Errorf("CanView: sam staff %v, ada staff %v, ada help %v; want true, false, true",
			srv.CanView("U2", "G1"), srv.CanView("U1", "G1"), srv.CanView("U1", "C1"))
	}
	if srv.CanView("U2", srv.DMChannel("U1")) {
		t.Error("sam sees ada's DM with the bot")
	}
	if _, err := srv.UserSays("U1", "G1", "let me in"); err == nil {
		t.Error("a non-member posted in a private channel")
	}
	if _, err := srv.UserSays("U2", "G1", "staff only"); err != nil {
		t.Errorf("a member cannot post: %v", err)
	}
}

func TestVisibleToListsWhatAPersonCanRead(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C1", "help", true)
	srv.AddChannel("G1", "staff", false)
	srv.AddUser("U1", "ada")
	srv.AddUser("U2", "sam")
	srv.AddMembers("G1", "U2")
	api := apiClient(srv, srv.BotToken())
	for _, p := range []struct{ channel, text string }{{"C1", "public"}, {"G1", "staff note"}, {"U1", "to ada"}} {
		if _, _, err := api.PostMessage(p.channel, slack.MsgOptionText(p.text, false)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := api.PostEphemeral("C1", "U1", slack.MsgOptionText("only ada", false)); err != nil {
		t.Fatal(err)
	}
	texts := func(user string) []string {
		var out []string
		for _, m := range srv.VisibleTo(user) {
			out = append(out, m.Text)
		}
		return out
	}
	if got, want := texts("U1"), []string{"public", "to ada", "only ada"}; !slices.Equal(got, want) {
		t.Errorf("ada sees %q, want %q", got, want)
	}
	if got, want := texts("U2"), []string{"public", "staff note"}; !slices.Equal(got, want) {
		t.Errorf("sam sees %q, want %q", got, want)
	}
}
