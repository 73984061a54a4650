package slackfake_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

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

func TestHistoryLimitForNonMarketplaceApps(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1700000000, 0)}
	srv := slackfake.New(t, slackfake.WithClock(clock.Now), slackfake.WithHistoryLimit(time.Minute, 15))
	srv.AddChannel("C1", "help", true)
	srv.AddUser("U1", "ada")
	root, err := srv.PostAsUser("U1", "C1", "", "question")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := srv.PostAsUser("U1", "C1", "", fmt.Sprint("top ", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.PostAsUser("U1", "C1", root.TS, fmt.Sprint("reply ", i)); err != nil {
			t.Fatal(err)
		}
	}
	api := apiClient(srv, srv.BotToken())

	page, err := api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 15 || !page.HasMore || page.Messages[0].Text != "top 19" {
		t.Errorf("first page: got %d messages from %q, has_more %v; want the newest 15 and more", len(page.Messages), page.Messages[0].Text, page.HasMore)
	}
	var rl *slack.RateLimitedError
	_, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Cursor: page.ResponseMetaData.NextCursor})
	if !errors.As(err, &rl) || rl.RetryAfter != time.Minute {
		t.Errorf("second call within the minute: got %v, want a 60 s RateLimitedError", err)
	}
	// the other method has a minute of its own
	replies, _, next, err := api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: root.TS})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 15 || next == "" || replies[0].Text != "question" || replies[14].Text != "reply 13" {
		t.Errorf("first replies page: got %d from %q to %q (next %q), want the parent and 14 replies", len(replies), replies[0].Text, replies[len(replies)-1].Text, next)
	}

	clock.Advance(time.Minute)
	page, err = api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C1", Cursor: page.ResponseMetaData.NextCursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 6 || page.HasMore || page.Messages[5].Text != "question" {
		t.Errorf("second page: got %d messages, has_more %v; want the 6 older ones and no more", len(page.Messages), page.HasMore)
	}
	replies, _, next, err = api.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: root.TS, Cursor: next})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 6 || next != "" || replies[0].Text != "reply 14" {
		t.Errorf("second replies page: got %d from %q (next %q), want replies 14 to 19", len(replies), replies[0].Text, next)
	}
	if got := srv.RateLimitedCalls("conversations.history"); got != 1 {
		t.Errorf("429s: got %d, want 1", got)
	}
}
