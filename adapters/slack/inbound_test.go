package slack

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/advocate-bot/advocate/bot"
)

// callback wraps an inner event as slack-go parses an event_callback.
func callback(eventID string, inner any) slackevents.EventsAPIEvent {
	typ := "message"
	if _, ok := inner.(*slackevents.AppMentionEvent); ok {
		typ = "app_mention"
	}
	return slackevents.EventsAPIEvent{
		Type:       slackevents.CallbackEvent,
		TeamID:     "T00000TEAM",
		Data:       &slackevents.EventsAPICallbackEvent{EventID: eventID, TeamID: "T00000TEAM"},
		InnerEvent: slackevents.EventsAPIInnerEvent{Type: typ, Data: inner},
	}
}

func TestMessagesTheCoreSees(t *testing.T) {
	a, _ := newStubAdapter(t)
	const ts, parent = "1700000100.000200", "1700000000.000100"
	tests := []struct {
		name                string
		msg                 slackevents.MessageEvent
		ok, support, direct bool
		wantThread          string
	}{
		{"question in a support channel", slackevents.MessageEvent{Channel: testSupport, ChannelType: "channel", User: "U0ADA000001", TimeStamp: ts}, true, true, false, ""},
		{"thread reply in a support channel", slackevents.MessageEvent{Channel: testSupport, ChannelType: "channel", User: "U0ADA000001", TimeStamp: ts, ThreadTimeStamp: parent}, false, false, false, ""},
		{"DM with the bot", slackevents.MessageEvent{Channel: "D0ADA000001", ChannelType: "im", User: "U0ADA000001", TimeStamp: ts}, true, false, true, ""},
		{"thread in a DM is the same conversation", slackevents.MessageEvent{Channel: "D0ADA000001", ChannelType: "im", User: "U0ADA000001", TimeStamp: ts, ThreadTimeStamp: parent}, true, false, true, ""},
		{"staff reply in a case thread", slackevents.MessageEvent{Channel: testStaff, ChannelType: "group", User: "U0SAM000001", TimeStamp: ts, ThreadTimeStamp: parent}, true, false, false, parent},
		{"top-level staff chatter", slackevents.MessageEvent{Channel: testStaff, ChannelType: "group", User: "U0SAM000001", TimeStamp: ts}, false, false, false, ""},
		{"another channel", slackevents.MessageEvent{Channel: "C0RANDOM001", ChannelType: "channel", User: "U0ADA000001", TimeStamp: ts}, false, false, false, ""},
		{"the bot's own post", slackevents.MessageEvent{Channel: "D0ADA000001", ChannelType: "im", User: "UBOT0000001", BotID: "B1", TimeStamp: ts}, false, false, false, ""},
		{"another bot", slackevents.MessageEvent{Channel: testSupport, ChannelType: "channel", BotID: "B2", SubType: "bot_message", TimeStamp: ts}, false, false, false, ""},
		{"an edit", slackevents.MessageEvent{Channel: testSupport, ChannelType: "channel", User: "U0ADA000001", SubType: "message_changed", TimeStamp: ts}, false, false, false, ""},
		{"a file with a question", slackevents.MessageEvent{Channel: testSupport, ChannelType: "channel", User: "U0ADA000001", SubType: "file_share", TimeStamp: ts}, true, true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.msg
			m.Text = "help &lt;please&gt;"
			ev, ok := a.translate(context.Background(), delivery{events: ptr(callback("Ev1", &m))})
			if ok != tt.ok {
				t.Fatalf("kept: got %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if ev.Support != tt.support || ev.Direct != tt.direct || ev.Where.Thread != tt.wantThread {
				t.Errorf("got support=%v direct=%v thread=%q, want %v %v %q", ev.Support, ev.Direct, ev.Where.Thread, tt.support, tt.direct, tt.wantThread)
			}
			if ev.ID != "Ev1" || ev.Kind != bot.EventMessage || ev.Where.Platform != bot.Slack || ev.Where.Space != "T00000TEAM" || ev.Where.Message != ts {
				t.Errorf("event: got %+v", ev)
			}
			if ev.Text != "help <please>" {
				t.Errorf("text: got %q, want entities decoded", ev.Text)
			}
			if ev.Author.ID != m.User || ev.Author.Platform != bot.Slack {
				t.Errorf("author: got %+v", ev.Author)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestMentionsNotCoveredByMessages(t *testing.T) {
	a, _ := newStubAdapter(t)
	const ts, parent = "1700000100.000200", "1700000000.000100"
	tests := []struct {
		name       string
		m          slackevents.AppMentionEvent
		ok         bool
		wantThread string
	}{
		{"in another channel", slackevents.AppMentionEvent{Channel: "C0RANDOM001", User: "U0ADA000001", TimeStamp: ts}, true, ""},
		{"in a thread of a support channel", slackevents.AppMentionEvent{Channel: testSupport, User: "U0ADA000001", TimeStamp: ts, ThreadTimeStamp: parent}, true, parent},
		{"top-level in a support channel (the message event covers it)", slackevents.AppMentionEvent{Channel: testSupport, User: "U0ADA000001", TimeStamp: ts}, false, ""},
		{"in the staff channel (relayed as a message)", slackevents.AppMentionEvent{Channel: testStaff, User: "U0SAM000001", TimeStamp: ts, ThreadTimeStamp: parent}, false, ""},
		{"from a bot", slackevents.AppMentionEvent{Channel: "C0RANDOM001", BotID: "B2", TimeStamp: ts}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			m.Text = "<@UBOT0000001> my login fails"
			ev, ok := a.translate(context.Background(), delivery{events: ptr(callback("Ev2", &m))})
			if ok != tt.ok {
				t.Fatalf("kept: got %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if ev.Kind != bot.EventMention || ev.Where.Thread != tt.wantThread || ev.Where.Message != ts {
				t.Errorf("event: got %+v", ev)
			}
			if got, want := ev.Text, "my login fails"; got != want {
				t.Errorf("text: got %q, want %q", got, want)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	a, api := newStubAdapter(t)
	api.names["U0SAM000001"] = "Sam"
	tests := []struct {
		command, text string
		ok            bool
		wantCmd       string
		wantText      string
		wantChannel   string
	}{
		{"/support", "my invoice is wrong", true, bot.CmdSupport, "my invoice is wrong", ""},
		{"/support", "", true, bot.CmdSupport, "", ""},
		{"/link", "", true, bot.CmdLink, "", ""},
		{"/link", " K7M2-QX9D ", true, bot.CmdLink, "K7M2-QX9D", ""},
		{"/advocate", "stats 30d", true, bot.CmdStats, "30d", ""},
		{"/advocate", "STATS", true, bot.CmdStats, "", ""},
		{"/advocate", "notice <#C0SUPPORT01|support> Payments are down, fix underway", true, bot.CmdNotice, "Payments are down, fix underway", "C0SUPPORT01"},
		{"/advocate", "notice C0SUPPORT01 Payments are down", true, bot.CmdNotice, "Payments are down", "C0SUPPORT01"},
		{"/advocate", "notice #support no escaping", false, "", "", ""},
		{"/advocate", "notice <#C0SUPPORT01|support>", false, "", "", ""},
		{"/advocate", "dance", false, "", "", ""},
		{"/other", "x", false, "", "", ""},
	}
	a.people.person("U0SAM000001")                      // looked up in the background…
	a.people.await(context.Background(), "U0SAM000001") // …and known from now on
	for _, tt := range tests {
		t.Run(tt.command+" "+tt.text, func(t *testing.T) {
			cmd := slackgo.SlashCommand{Command: tt.command, Text: tt.text, UserID: "U0SAM000001", ChannelID: testStaff, TeamID: "T00000TEAM", TriggerID: "trig-1"}
			ev, ok := a.translate(context.Background(), delivery{command: &cmd})
			if ok != tt.ok {
				t.Fatalf("kept: got %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if ev.Command != tt.wantCmd || ev.Text != tt.wantText || ev.Fields["channel"] != tt.wantChannel {
				t.Errorf("got command %q text %q channel %q, want %q %q %q", ev.Command, ev.Text, ev.Fields["channel"], tt.wantCmd, tt.wantText, tt.wantChannel)
			}
			if ev.Author.Name != "Sam" || ev.Where.Channel != testStaff || ev.ID != "slack:command:trig-1" {
				t.Errorf("event: got %+v", ev)
			}
		})
	}
}

func TestUnknownAdvocateSubcommandGetsUsage(t *testing.T) {
	a, _ := newStubAdapter(t)
	cmd := slackgo.SlashCommand{Command: "/advocate", Text: "dance", UserID: "U0SAM000001", ChannelID: testStaff}
	res, err := a.process(context.Background(), refuseAll{t}, delivery{command: &cmd})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.ack)
	if got := string(b); got == "null" || !json.Valid(b) {
		t.Errorf("ack: got %s, want the usage as an ephemeral response", got)
	}
}

// refuseAll is a handler that must not be called.
type refuseAll struct{ t *testing.T }

func (r refuseAll) Handle(context.Context, bot.Event) (bot.Reply, error) {
	r.t.Errorf("the core was called")
	return bot.Reply{}, nil
}

// scripted is a handler that answers with a fixed reply or error.
type scripted struct {
	reply bot.Reply
	err   error
	got   []bot.Event
}

func (s *scripted) Handle(_ context.Context, ev bot.Event) (bot.Reply, error) {
	s.got = append(s.got, ev)
	return s.reply, s.err
}

func TestInteractions(t *testing.T) {
	a, _ := newStubAdapter(t)
	click := slackgo.InteractionCallback{
		Type:      slackgo.InteractionTypeBlockActions,
		TriggerID: "trig-9",
		User:      slackgo.User{ID: "U0ADA000001"},
		Team:      slackgo.Team{ID: "T00000TEAM"},
		Container: slackgo.Container{ChannelID: testStaff, MessageTs: "1700000000.000300", ThreadTs: "1700000000.000100"},
		ActionCallback: slackgo.ActionCallbacks{BlockActions: []*slackgo.BlockAction{
			{ActionID: "a1.1.1.resolve..sig", BlockID: actionsBlockID, ActionTs: "1700000001.000000"},
		}},
	}
	ev, ok := a.translate(context.Background(), delivery{action: &click})
	if !ok || ev.Kind != bot.EventAction || ev.ActionID != "a1.1.1.resolve..sig" || ev.ID != "slack:action:trig-9" {
		t.Fatalf("click: got %+v, %v", ev, ok)
	}
	if ev.Where.Channel != testStaff || ev.Where.Thread != "1700000000.000100" || ev.Where.Message != "1700000000.000300" {
		t.Errorf("click where: got %+v", ev.Where)
	}

	submit := slackgo.InteractionCallback{
		Type:      slackgo.InteractionTypeViewSubmission,
		TriggerID: "trig-10",
		User:      slackgo.User{ID: "U0ADA000001"},
		View: slackgo.View{ID: "V1", CallbackID: modalCallbackID, PrivateMetadata: "a1.1.1.post.3.sig", State: &slackgo.ViewState{
			Values: map[string]map[string]slackgo.BlockAction{"text": {"text": {Value: "Loved it"}}},
		}},
	}
	ev, ok = a.translate(context.Background(), delivery{action: &submit})
	if !ok || ev.Kind != bot.EventSubmit || ev.ActionID != "a1.1.1.post.3.sig" || ev.Fields["text"] != "Loved it" {
		t.Fatalf("submit: got %+v, %v", ev, ok)
	}
	foreign := submit
	foreign.View.CallbackID = "someone_elses"
	if _, ok := a.translate(context.Background(), delivery{action: &foreign}); ok {
		t.Errorf("a modal that is not advocate's was handed to the core")
	}

	shortcut := slackgo.InteractionCallback{
		Type:       slackgo.InteractionTypeMessageAction,
		CallbackID: shortcutGetHelp,
		TriggerID:  "trig-11",
		User:       slackgo.User{ID: "U0SAM000001"},
		Channel:    slackgo.Channel{GroupConversation: slackgo.GroupConversation{Conversation: slackgo.Conversation{ID: "C0RANDOM001"}}},
		MessageTs:  "1700000000.000500",
	}
	shortcut.Message.User = "U0ADA000001"
	shortcut.Message.Text = "how do I export &amp; print?"
	shortcut.Message.Timestamp = "1700000000.000500"
	ev, ok = a.translate(context.Background(), delivery{action: &shortcut})
	if !ok || ev.Kind != bot.EventCommand || ev.Command != bot.CmdSupport {
		t.Fatalf("shortcut: got %+v, %v", ev, ok)
	}
	if ev.Author.ID != "U0ADA000001" || ev.Text != "how do I export & print?" || ev.Where.Message != "1700000000.000500" || ev.Where.Channel != "C0RANDOM001" {
		t.Errorf("shortcut: got author %q text %q where %+v", ev.Author.ID, ev.Text, ev.Where)
	}
}

func TestRepliesAfterTheAck(t *testing.T) {
	a, api := newStubAdapter(t)
	ctx := context.Background()
	click := slackgo.InteractionCallback{
		Type:      slackgo.InteractionTypeBlockActions,
		TriggerID: "trig-1",
		User:      slackgo.User{ID: "U0BOB000001"},
		Container: slackgo.Container{ChannelID: testSupport, MessageTs: "1700000000.000300", ThreadTs: "1700000000.000100"},
		ActionCallback: slackgo.ActionCallbacks{BlockActions: []*slackgo.BlockAction{
			{ActionID: "a1.1.1.rate.5.sig", BlockID: actionsBlockID},
		}},
	}
	h := &scripted{reply: bot.Reply{Ephemeral: "Only the customer of this case can use these buttons."}}
	res, err := a.process(ctx, h, delivery{action: &click})
	if err != nil || res.after == nil || res.ack != nil {
		t.Fatalf("got ack %v after %v err %v, want an empty ack and a follow-up", res.ack, res.after != nil, err)
	}
	res.after(ctx)
	if len(api.ephem) != 1 || api.ephem[0].User != "U0BOB000001" || api.ephem[0].Channel != testSupport || api.ephem[0].Values.Get("thread_ts") != "1700000000.000100" {
		t.Fatalf("ephemeral: got %+v", api.ephem)
	}

	h.reply = bot.Reply{Modal: &bot.Modal{ActionID: "a1.1.1.post.1.sig", Title: "Preview", Fields: []bot.Field{{ID: "text"}}}}
	res, _ = a.process(ctx, h, delivery{action: &click})
	res.after(ctx)
	if len(api.views) != 1 || api.views[0].PrivateMetadata != "a1.1.1.post.1.sig" {
		t.Fatalf("views: got %+v", api.views)
	}

	cmd := slackgo.SlashCommand{Command: "/advocate", Text: "stats", UserID: "U0SAM000001", ChannelID: testStaff}
	h.reply = bot.Reply{Ephemeral: "funnel <b>"}
	res, _ = a.process(ctx, h, delivery{command: &cmd})
	if got, want := res.ack, map[string]string{"response_type": "ephemeral", "text": "funnel &lt;b&gt;"}; !equalMaps(got, want) {
		t.Errorf("slash ack: got %v, want %v", got, want)
	}

	h.err = errors.New("database is locked")
	if _, err := a.process(ctx, h, delivery{command: &cmd}); err == nil {
		t.Errorf("a failed commit must not be acknowledged")
	}
}

func equalMaps(got any, want map[string]string) bool {
	m, ok := got.(map[string]string)
	if !ok || len(m) != len(want) {
		return false
	}
	for k, v := range want {
		if m[k] != v {
			return false
		}
	}
	return true
}

func TestUserGroupsBecomeRoles(t *testing.T) {
	a, api := newStubAdapter(t, func(o *Options) { o.UserGroups = []string{"S0STAFF0001", "S0OTHER0001"} })
	api.groups["S0STAFF0001"] = []string{"U0SAM000001"}
	api.groups["S0OTHER0001"] = []string{"U0ADA000001"}
	a.people.loadGroups(context.Background()) // as Run does before receiving
	p := a.people.person("U0SAM000001")
	if len(p.Roles) != 1 || p.Roles[0] != "S0STAFF0001" {
		t.Errorf("roles: got %v, want [S0STAFF0001]", p.Roles)
	}
	// a failed lookup keeps the person usable
	api.failNext("users.info", errors.New("timeout"))
	if p := a.people.person("U0NEW000001"); p.ID != "U0NEW000001" || p.Platform != bot.Slack {
		t.Errorf("person after a failed lookup: got %+v", p)
	}
}

func TestNotConnectedBeforeRun(t *testing.T) {
	a, err := New(Options{BotToken: "xoxb-1", AppToken: "xapp-1", StaffChannel: "C1", ShowcaseChannel: "C2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Connected(); err == nil {
		t.Error("Connected before Run: got nil, want an error")
	}
}
