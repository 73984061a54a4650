package discord

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/advocate-bot/advocate/bot"
)

// newUnitAdapter is an adapter that never connects, for translation tests.
func newUnitAdapter(t *testing.T) *Adapter {
	t.Helper()
	a, err := New(Options{
		Token: "unit-token", SupportChannels: []string{"support1"}, StaffRole: "role-staff",
		StaffChannel: "staffch", ShowcaseChannel: "showch", PublicURL: "https://advocate.example/",
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.botID = "bot1"
	return a
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no token", Options{StaffChannel: "s"}},
		{"no staff channel", Options{Token: "t"}},
		{"bad interactions", Options{Token: "t", StaffChannel: "s", Interactions: "websocket"}},
		{"bad api url", Options{Token: "t", StaffChannel: "s", APIURL: "discord.com"}},
		{"bad public key", Options{Token: "t", StaffChannel: "s", PublicKey: "zz"}},
		{"http without key", Options{Token: "t", StaffChannel: "s", Interactions: InteractionsHTTP}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Errorf("New(%+v) = nil error, want one", tt.opts)
			}
		})
	}
	a, err := New(Options{Token: "t", StaffChannel: "s"})
	if err != nil {
		t.Fatalf("New with a token and a staff channel: %v", err)
	}
	if got, want := a.session.Token, "Bot t"; got != want {
		t.Errorf("session token = %q, want %q", got, want)
	}
	if got, want := a.session.Identify.Intents, Intents; got != want {
		t.Errorf("intents = %d, want %d", got, want)
	}
	if a.session.ShouldReconnectOnError {
		t.Error("discordgo's own reconnect is on; the adapter supervises reconnection")
	}
	if got, want := a.Platform(), bot.Discord; got != want {
		t.Errorf("Platform() = %q, want %q", got, want)
	}
}

func TestIntentsIncludeMessageContent(t *testing.T) {
	for _, want := range []discordgo.Intent{discordgo.IntentsGuilds, discordgo.IntentsGuildMessages,
		discordgo.IntentsDirectMessages, discordgo.IntentsMessageContent} {
		if Intents&want == 0 {
			t.Errorf("Intents %b lacks %b", Intents, want)
		}
	}
}

func TestMessageEvent(t *testing.T) {
	a := newUnitAdapter(t)
	customer := &discordgo.User{ID: "u1", Username: "ada", GlobalName: "Ada L"}
	msg := func(mod func(m *discordgo.Message)) *discordgo.Message {
		m := &discordgo.Message{ID: "m1", ChannelID: "support1", GuildID: "g1", Author: customer,
			Content: "my order is stuck", Member: &discordgo.Member{Roles: []string{"r1"}}}
		if mod != nil {
			mod(m)
		}
		return m
	}
	t.Run("support channel", func(t *testing.T) {
		ev, ok := a.messageEvent(msg(nil))
		if !ok {
			t.Fatal("question in a support channel ignored")
		}
		want := bot.Event{ID: "m1", Kind: bot.EventMessage, Support: true, Text: "my order is stuck",
			Where:  bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "support1", Message: "m1"},
			Author: bot.Person{Platform: bot.Discord, ID: "u1", Name: "Ada L", Roles: []string{"r1"}}}
		if ev.ID != want.ID || ev.Kind != want.Kind || !ev.Support || ev.Text != want.Text || ev.Where != want.Where ||
			ev.Author.ID != want.Author.ID || ev.Author.Name != want.Author.Name || !slices.Equal(ev.Author.Roles, want.Author.Roles) {
			t.Errorf("event = %+v, want %+v", ev, want)
		}
	})
	t.Run("username when no global name", func(t *testing.T) {
		ev, _ := a.messageEvent(msg(func(m *discordgo.Message) { m.Author = &discordgo.User{ID: "u2", Username: "grace"} }))
		if got, want := ev.Author.Name, "grace"; got != want {
			t.Errorf("name = %q, want %q", got, want)
		}
	})
	t.Run("mention", func(t *testing.T) {
		ev, ok := a.messageEvent(msg(func(m *discordgo.Message) {
			m.ChannelID = "general"
			m.Content = "<@bot1> help me please"
			m.Mentions = []*discordgo.User{{ID: "bot1"}}
		}))
		if !ok {
			t.Fatal("mention ignored")
		}
		if got, want := ev.Kind, bot.EventMention; got != want {
			t.Errorf("kind = %q, want %q", got, want)
		}
		if got, want := ev.Text, "help me please"; got != want {
			t.Errorf("text = %q, want %q", got, want)
		}
		if ev.Support {
			t.Error("a mention outside support channels marked Support")
		}
	})
	t.Run("reply to the bot is no mention", func(t *testing.T) {
		ev, ok := a.messageEvent(msg(func(m *discordgo.Message) {
			m.Type = discordgo.MessageTypeReply
			m.Mentions = []*discordgo.User{{ID: "bot1"}}
		}))
		if !ok || ev.Kind != bot.EventMessage {
			t.Errorf("reply in a support channel = %v, %q; want a message", ok, ev.Kind)
		}
	})
	t.Run("direct message", func(t *testing.T) {
		ev, ok := a.messageEvent(msg(func(m *discordgo.Message) { m.GuildID, m.ChannelID = "", "dm1" }))
		if !ok || !ev.Direct || ev.Support {
			t.Errorf("DM = %v, %+v; want a direct message", ok, ev)
		}
	})
	t.Run("thread message", func(t *testing.T) {
		ev, ok := a.messageEvent(msg(func(m *discordgo.Message) { m.ChannelID = "thread9" }))
		if !ok || ev.Where.Channel != "thread9" || ev.Support {
			t.Errorf("thread message = %v, %+v; want it passed with the thread as channel", ok, ev)
		}
	})
	for name, mod := range map[string]func(m *discordgo.Message){
		"bot author":     func(m *discordgo.Message) { m.Author = &discordgo.User{ID: "b2", Bot: true} },
		"itself":         func(m *discordgo.Message) { m.Author = &discordgo.User{ID: "bot1"} },
		"webhook":        func(m *discordgo.Message) { m.WebhookID = "w1" },
		"system message": func(m *discordgo.Message) { m.Type = discordgo.MessageTypeThreadCreated },
		"no author":      func(m *discordgo.Message) { m.Author = nil },
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok := a.messageEvent(msg(mod)); ok {
				t.Error("message passed to the core, want it ignored")
			}
		})
	}
	t.Run("plain channel the state knows", func(t *testing.T) {
		if err := a.session.State.GuildAdd(&discordgo.Guild{ID: "g1", Channels: []*discordgo.Channel{
			{ID: "general", GuildID: "g1", Type: discordgo.ChannelTypeGuildText},
		}}); err != nil {
			t.Fatalf("state: %v", err)
		}
		if _, ok := a.messageEvent(msg(func(m *discordgo.Message) { m.ChannelID = "general" })); ok {
			t.Error("chatter in a plain channel passed to the core")
		}
	})
}

// interaction decodes an interaction as discordgo does from the wire.
func interaction(t *testing.T, raw string) *discordgo.Interaction {
	t.Helper()
	var i discordgo.Interaction
	if err := json.Unmarshal([]byte(raw), &i); err != nil {
		t.Fatalf("decode interaction: %v", err)
	}
	return &i
}

const member = `"member":{"roles":["role-staff"],"user":{"id":"u1","username":"sam","global_name":"Sam"}}`

func TestInteractionEvent(t *testing.T) {
	a := newUnitAdapter(t)
	tests := []struct {
		name string
		raw  string
		want bot.Event
	}{
		{
			name: "button",
			raw:  `{"id":"1300000000000000000","type":3,"guild_id":"g1","channel_id":"t1",` + member + `,"message":{"id":"m5","channel_id":"t1"},"data":{"custom_id":"a1.1.1.rate.5.sig","component_type":2}}`,
			want: bot.Event{Kind: bot.EventAction, ActionID: "a1.1.1.rate.5.sig", Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "t1", Message: "m5"}},
		},
		{
			name: "modal submit",
			raw: `{"id":"1300000000000000001","type":5,"guild_id":"g1","channel_id":"t1",` + member + `,"message":{"id":"m6","channel_id":"t1"},"data":{"custom_id":"a1.1.1.post.3.sig","components":[` +
				`{"type":1,"components":[{"type":4,"custom_id":"text","value":"Great help"}]}]}}`,
			want: bot.Event{Kind: bot.EventSubmit, ActionID: "a1.1.1.post.3.sig", Fields: map[string]string{"text": "Great help"},
				Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "t1", Message: "m6"}},
		},
		{
			name: "support with text",
			raw:  `{"id":"1300000000000000002","type":2,"guild_id":"g1","channel_id":"support1",` + member + `,"data":{"id":"c1","name":"support","type":1,"options":[{"name":"description","type":3,"value":"login fails"}]}}`,
			want: bot.Event{Kind: bot.EventCommand, Command: bot.CmdSupport, Text: "login fails", Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "support1"}},
		},
		{
			name: "support without text",
			raw:  `{"id":"1300000000000000003","type":2,"guild_id":"g1","channel_id":"support1",` + member + `,"data":{"id":"c1","name":"support","type":1}}`,
			want: bot.Event{Kind: bot.EventCommand, Command: bot.CmdSupport, Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "support1"}},
		},
		{
			name: "link without a code",
			raw:  `{"id":"1300000000000000012","type":2,"guild_id":"g1","channel_id":"support1",` + member + `,"data":{"id":"c5","name":"link","type":1}}`,
			want: bot.Event{Kind: bot.EventCommand, Command: bot.CmdLink, Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "support1"}},
		},
		{
			name: "link with a code",
			raw:  `{"id":"1300000000000000013","type":2,"guild_id":"g1","channel_id":"support1",` + member + `,"data":{"id":"c5","name":"link","type":1,"options":[{"name":"code","type":3,"value":"K7M2-QX9D"}]}}`,
			want: bot.Event{Kind: bot.EventCommand, Command: bot.CmdLink, Text: "K7M2-QX9D", Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "support1"}},
		},
		{
			name: "case note",
			raw:  `{"id":"1300000000000000004","type":2,"guild_id":"g1","channel_id":"t1",` + member + `,"data":{"id":"c2","name":"case","type":1,"options":[{"name":"note","type":1,"options":[{"name":"text","type":3,"value":"VIP"}]}]}}`,
			want: bot.Event{Kind: bot.EventCommand, Command: bot.CmdNote, Text: "VIP", Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "t1"}},
		},
		{
			name: "case resolve",
			raw:  `{"id":"1300000000000000005","type":2,"guild_id":"g1","channel_id":"t1",` + member + `,"data":{"id":"c2","name":"case","type":1,"options":[{"name":"resolve","type":1}]}}`,
			want: bot.Event{Kind: bot.EventCommand, Command: bot.CmdResolve, Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "t1"}},
		},
		{
			name: "advocate stats",
			raw:  `{"id":"1300000000000000006","type":2,"guild_id":"g1","channel_id":"staffch",` + member + `,"data":{"id":"c3","name":"advocate","type":1,"options":[{"name":"stats","type":1,"options":[{"name":"period","type":3,"value":"30d"}]}]}}`,
			want: bot.Event{Kind: bot.EventCommand, Command: bot.CmdStats, Text: "30d", Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "staffch"}},
		},
		{
			name: "advocate notice",
			raw: `{"id":"1300000000000000007","type":2,"guild_id":"g1","channel_id":"staffch",` + member + `,"data":{"id":"c3","name":"advocate","type":1,"options":[{"name":"notice","type":1,"options":[` +
				`{"name":"channel","type":7,"value":"support1"},{"name":"text","type":3,"value":"Payments are down"}]}]}}`,
			want: bot.Event{Kind: bot.EventCommand, Command: bot.CmdNotice, Text: "Payments are down", Fields: map[string]string{"channel": "support1"},
				Where: bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "staffch"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := interaction(t, tt.raw)
			ev, ok := a.interactionEvent(i)
			if !ok {
				t.Fatal("interaction not understood")
			}
			if ev.ID != i.ID {
				t.Errorf("ID = %q, want the interaction ID %q", ev.ID, i.ID)
			}
			if ev.Kind != tt.want.Kind || ev.Command != tt.want.Command || ev.Text != tt.want.Text ||
				ev.ActionID != tt.want.ActionID || ev.Where != tt.want.Where {
				t.Errorf("event = %+v, want %+v", ev, tt.want)
			}
			for k, v := range tt.want.Fields {
				if got := ev.Fields[k]; got != v {
					t.Errorf("field %q = %q, want %q", k, got, v)
				}
			}
			if got, want := ev.Author, (bot.Person{Platform: bot.Discord, ID: "u1", Name: "Sam", Roles: []string{"role-staff"}}); got.ID != want.ID ||
				got.Name != want.Name || !slices.Equal(got.Roles, want.Roles) {
				t.Errorf("author = %+v, want %+v", got, want)
			}
		})
	}
}

func TestContextMenuEvent(t *testing.T) {
	a := newUnitAdapter(t)
	i := interaction(t, `{"id":"1300000000000000010","type":2,"guild_id":"g1","channel_id":"general",`+member+
		`,"data":{"id":"c4","name":"Get help with this","type":3,"target_id":"m77","resolved":{"messages":{"m77":`+
		`{"id":"m77","channel_id":"general","content":"checkout shows an error","author":{"id":"u9","username":"linus"}}}}}}`)
	ev, ok := a.interactionEvent(i)
	if !ok {
		t.Fatal("context menu not understood")
	}
	if ev.Kind != bot.EventCommand || ev.Command != bot.CmdSupport {
		t.Errorf("kind, command = %q, %q; want command support", ev.Kind, ev.Command)
	}
	if got, want := ev.Text, "checkout shows an error"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got, want := ev.Author.ID, "u9"; got != want {
		t.Errorf("author = %q, want the target message's author %q", got, want)
	}
	if got, want := ev.Where, (bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "general", Message: "m77"}); got != want {
		t.Errorf("where = %+v, want %+v", got, want)
	}
}

func TestInteractionNotUnderstood(t *testing.T) {
	a := newUnitAdapter(t)
	for name, raw := range map[string]string{
		"unknown command": `{"id":"1","type":2,"guild_id":"g1","channel_id":"c",` + member + `,"data":{"id":"x","name":"dance","type":1}}`,
		"select menu":     `{"id":"2","type":3,"guild_id":"g1","channel_id":"c",` + member + `,"message":{"id":"m"},"data":{"custom_id":"s","component_type":3,"values":["a"]}}`,
		"ping":            `{"id":"3","type":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			if ev, ok := a.interactionEvent(interaction(t, raw)); ok {
				t.Errorf("interaction understood as %+v, want refused", ev)
			}
		})
	}
}

func TestResponse(t *testing.T) {
	a := newUnitAdapter(t)
	click := interaction(t, `{"id":"1","type":3,"channel_id":"c","message":{"id":"m"},"data":{"custom_id":"x","component_type":2}}`)
	command := interaction(t, `{"id":"2","type":2,"channel_id":"c","data":{"id":"c","name":"support","type":1}}`)
	submitFromCommand := interaction(t, `{"id":"3","type":5,"channel_id":"c","data":{"custom_id":"x","components":[]}}`)
	modal := &bot.Modal{ActionID: "a1.0.0.ask.c.sig", Title: "Tell us what you need help with, in a few words please",
		Fields: []bot.Field{{ID: "text", Label: "Question", Multiline: true, Required: true, MaxLen: 2000, Value: "prefilled"}}}

	tests := []struct {
		name      string
		i         *discordgo.Interaction
		reply     bot.Reply
		wantType  discordgo.InteractionResponseType
		ephemeral bool
	}{
		{"click without reply", click, bot.Reply{}, discordgo.InteractionResponseDeferredMessageUpdate, false},
		{"refusal", click, bot.Reply{Ephemeral: "Only the customer can rate"}, discordgo.InteractionResponseChannelMessageWithSource, true},
		{"modal", command, bot.Reply{Modal: modal}, discordgo.InteractionResponseModal, false},
		{"command without reply", command, bot.Reply{}, discordgo.InteractionResponseChannelMessageWithSource, true},
		{"submit without message", submitFromCommand, bot.Reply{}, discordgo.InteractionResponseChannelMessageWithSource, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.response(tt.i, tt.reply)
			if got := r.Type; got != tt.wantType {
				t.Errorf("type = %d, want %d", got, tt.wantType)
			}
			eph := r.Data != nil && r.Data.Flags&discordgo.MessageFlagsEphemeral != 0
			if eph != tt.ephemeral {
				t.Errorf("ephemeral = %v, want %v", eph, tt.ephemeral)
			}
		})
	}
	r := a.response(command, bot.Reply{Modal: modal})
	if got := []rune(r.Data.Title); len(got) > maxModalTitle || len(got) == 0 {
		t.Errorf("modal title %q has %d characters, want 1..%d", r.Data.Title, len(got), maxModalTitle)
	}
	if got, want := r.Data.CustomID, modal.ActionID; got != want {
		t.Errorf("modal custom_id = %q, want %q", got, want)
	}
	if len(r.Data.Components) != 1 {
		t.Fatalf("modal has %d rows, want 1", len(r.Data.Components))
	}
	in := r.Data.Components[0].(discordgo.ActionsRow).Components[0].(discordgo.TextInput)
	if in.CustomID != "text" || in.Style != discordgo.TextInputParagraph || !in.Required || in.MaxLength != 2000 || in.Value != "prefilled" {
		t.Errorf("text input = %+v, want custom_id text, paragraph, required, max 2000, prefilled", in)
	}
}

func TestModalFields(t *testing.T) {
	i := interaction(t, `{"id":"1","type":5,"channel_id":"c","data":{"custom_id":"x","components":[`+
		`{"type":1,"components":[{"type":4,"custom_id":"a","value":"1"}]},{"type":1,"components":[{"type":4,"custom_id":"b","value":""}]}]}}`)
	got := modalFields(i.ModalSubmitData().Components)
	if len(got) != 2 || got["a"] != "1" || got["b"] != "" {
		t.Errorf("fields = %v, want a=1 and b empty", got)
	}
}

func TestNotConnectedBeforeRun(t *testing.T) {
	a, err := New(Options{Token: "t", StaffChannel: "staffch"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Connected(); err == nil {
		t.Error("Connected before Run: got nil, want an error")
	}
}
