package slackfake_test

import (
	"testing"

	"github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
)

func TestConversationsListPagesByType(t *testing.T) {
	srv := slackfake.New(t)
	srv.AddChannel("C300", "help", true)
	srv.AddChannel("C301", "showcase", true)
	srv.AddChannel("G302", "staff", false)
	srv.AddUser("U1", "ada")
	if _, err := srv.UserSays("U1", srv.DMChannel("U1"), "hi"); err != nil {
		t.Fatal(err)
	}
	api := apiClient(srv, srv.BotToken())

	public, next, err := api.GetConversations(&slack.GetConversationsParameters{})
	if err != nil {
		t.Fatalf("GetConversations: %v", err)
	}
	if got, want := names(public), "help,showcase"; got != want || next != "" {
		t.Errorf("default types: got %s (next %q), want %s and no next page", got, next, want)
	}

	var all []slack.Channel
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"}, Limit: 2}
	pages := 0
	for {
		chans, next, err := api.GetConversations(params)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		all = append(all, chans...)
		if next == "" {
			break
		}
		params.Cursor = next
	}
	if got, want := names(all), "help,showcase,staff"; got != want || pages != 2 {
		t.Errorf("paged: got %s in %d pages, want %s in 2", got, pages, want)
	}
	if all[2].IsPrivate != true {
		t.Errorf("staff: got is_private %v, want true", all[2].IsPrivate)
	}

	if _, _, err := api.GetConversations(&slack.GetConversationsParameters{Types: []string{"bogus"}}); slackErr(err) != "invalid_types" {
		t.Errorf("bad type: got %v, want invalid_types", err)
	}
	if _, _, err := api.GetConversations(&slack.GetConversationsParameters{Cursor: "not-a-cursor"}); slackErr(err) != "invalid_cursor" {
		t.Errorf("bad cursor: got %v, want invalid_cursor", err)
	}
}

func names(chans []slack.Channel) string {
	out := ""
	for i, c := range chans {
		if i > 0 {
			out += ","
		}
		out += c.Name
	}
	return out
}
