package discordfake

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// testCommands are a slash command with a required string and an optional
// user option, and a message context menu command.
func testCommands() []*discordgo.ApplicationCommand {
	return []*discordgo.ApplicationCommand{
		{
			Name: "support", Description: "Ask for help",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "topic", Description: "What about", Required: true},
				{Type: discordgo.ApplicationCommandOptionUser, Name: "for", Description: "On behalf of"},
			},
		},
		{Type: discordgo.MessageApplicationCommand, Name: "Open support case"},
	}
}

// registerCommands registers testCommands in the test guild through discordgo.
func registerCommands(t *testing.T, f *Server, s *discordgo.Session) []*discordgo.ApplicationCommand {
	t.Helper()
	got, err := s.ApplicationCommandBulkOverwrite(f.ApplicationID(), testGuild, testCommands())
	if err != nil {
		t.Fatalf("bulk overwrite: %v", err)
	}
	return got
}

// lastInteraction returns the latest interaction the client received.
func lastInteraction(ev *events) *discordgo.InteractionCreate {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.interactions[len(ev.interactions)-1]
}

func TestSlashCommandAnsweredOnce(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s, ev := newClient(t, f, clientOpts{})
	registerCommands(t, f, s)

	in, err := f.SlashCommand(testAlice, testChannel, "support",
		CommandOption{Name: "topic", Value: "billing"}, CommandOption{Name: "for", Value: testBob})
	if err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "interaction", func() bool { return len(ev.interactions) == 1 })
	i := lastInteraction(ev)
	if i.ID != in.ID || i.Token != in.Token || i.Type != discordgo.InteractionApplicationCommand {
		t.Errorf("interaction = %s/%s type %d, want %s/%s", i.ID, i.Token, i.Type, in.ID, in.Token)
	}
	if i.Member == nil || i.Member.User == nil || i.Member.User.ID != testAlice || i.User != nil {
		t.Fatalf("guild interaction member = %+v user = %+v, want member alice only", i.Member, i.User)
	}
	d := i.ApplicationCommandData()
	if d.Name != "support" || d.GetOption("topic").StringValue() != "billing" {
		t.Errorf("data = %+v, want /support topic billing", d)
	}
	if u := d.GetOption("for").UserValue(nil); u.ID != testBob || d.Resolved == nil || d.Resolved.Users[testBob] == nil {
		t.Errorf("user option = %v, resolved = %+v", u, d.Resolved)
	}

	err = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "Opening a case…", Flags: discordgo.MessageFlagsEphemeral},
	})
	if err != nil {
		t.Fatalf("first response: %v", err)
	}
	err = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "again"},
	})
	if status, code := restError(t, err); status != 400 || code != 40060 {
		t.Errorf("second response: %d code %d, want 400 code 40060", status, code)
	}

	rs := f.InteractionResponses(in.ID)
	if len(rs) != 2 {
		t.Fatalf("responses = %d, want 2 attempts", len(rs))
	}
	if rs[0].Status != 204 || !rs[0].Ephemeral() || rs[0].Content != "Opening a case…" || rs[0].Type != 4 {
		t.Errorf("first response = %+v", rs[0])
	}
	if rs[1].Status != 400 || rs[1].Code != 40060 {
		t.Errorf("second response = %+v", rs[1])
	}
	// The ephemeral reply is not in the channel's history.
	if got := len(f.Messages(testChannel)); got != 0 {
		t.Errorf("history has %d messages, want 0", got)
	}
	orig, ok := f.OriginalResponse(in.ID)
	if !ok || !orig.Ephemeral || orig.EphemeralFor != testAlice {
		t.Errorf("original response = %+v, want ephemeral for alice", orig)
	}
}

func TestSlashCommandChecksRegistration(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	if _, err := f.SlashCommand(testAlice, testChannel, "support", CommandOption{Name: "topic", Value: "x"}); err == nil {
		t.Errorf("an unregistered command was run")
	}
	registerCommands(t, f, s)
	for name, opts := range map[string][]CommandOption{
		"missing required": nil,
		"unknown option":   {{Name: "topic", Value: "x"}, {Name: "colour", Value: "red"}},
		"wrong type":       {{Name: "topic", Value: 7}},
	} {
		if _, err := f.SlashCommand(testAlice, testChannel, "support", opts...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// No session is connected: the interaction exists but was not delivered.
	_, err := f.SlashCommand(testAlice, testChannel, "support", CommandOption{Name: "topic", Value: "x"})
	if !errors.Is(err, ErrNotDelivered) {
		t.Errorf("got %v, want ErrNotDelivered", err)
	}
}

func TestInteractionDeadline(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	f := newFake(t, Options{Now: clock.Now})
	s, ev := newClient(t, f, clientOpts{})
	registerCommands(t, f, s)
	if _, err := f.SlashCommand(testAlice, testChannel, "support", CommandOption{Name: "topic", Value: "x"}); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "interaction", func() bool { return len(ev.interactions) == 1 })
	clock.Advance(3*time.Second + time.Millisecond)
	err := s.InteractionRespond(lastInteraction(ev).Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
	})
	if status, code := restError(t, err); status != 404 || code != 10062 {
		t.Errorf("late response: %d code %d, want 404 code 10062", status, code)
	}
}

func TestButtonModalAndUpdate(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s, ev := newClient(t, f, clientOpts{})
	dm, err := s.UserChannelCreate(testAlice)
	if err != nil {
		t.Fatal(err)
	}
	survey, err := s.ChannelMessageSendComplex(dm.ID, &discordgo.MessageSend{
		Content: "How did we do?",
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Rate", Style: discordgo.PrimaryButton, CustomID: "rate:7"},
			discordgo.Button{Label: "Off", Style: discordgo.SecondaryButton, CustomID: "off", Disabled: true},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ClickButton(testAlice, dm.ID, survey.ID, "nope"); err == nil {
		t.Errorf("clicked a button that does not exist")
	}
	if _, err := f.ClickButton(testAlice, dm.ID, survey.ID, "off"); err == nil {
		t.Errorf("clicked a disabled button")
	}
	if _, err := f.ClickButton(testAlice, dm.ID, survey.ID, "rate:7"); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "click", func() bool { return len(ev.interactions) == 1 })
	click := lastInteraction(ev)
	if click.User == nil || click.User.ID != testAlice || click.Member != nil {
		t.Errorf("DM interaction user = %+v member = %+v, want user alice", click.User, click.Member)
	}
	if cd := click.MessageComponentData(); cd.CustomID != "rate:7" || cd.ComponentType != discordgo.ButtonComponent {
		t.Errorf("component data = %+v", cd)
	}
	if click.Message == nil || click.Message.ID != survey.ID {
		t.Errorf("interaction message = %+v, want %s", click.Message, survey.ID)
	}
	err = s.InteractionRespond(click.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{
			CustomID: "rating:7", Title: "Rate your support",
			Components: []discordgo.MessageComponent{
				discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.TextInput{CustomID: "score", Label: "Score 1-5", Style: discordgo.TextInputShort, Required: true},
				}},
				discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.TextInput{CustomID: "comment", Label: "Anything else?", Style: discordgo.TextInputParagraph},
				}},
			},
		},
	})
	if err != nil {
		t.Fatalf("modal: %v", err)
	}
	if id, inputs, ok := f.OpenModal(testAlice); !ok || id != "rating:7" || !slices.Equal(inputs, []string{"score", "comment"}) {
		t.Errorf("open modal = %q %q %v", id, inputs, ok)
	}
	if _, err := f.SubmitModal(testAlice, "rating:7", map[string]string{"comment": "no score"}); err == nil {
		t.Errorf("submitted without the required input")
	}
	if _, err := f.SubmitModal(testAlice, "rating:7", map[string]string{"score": "5", "extra": "x"}); err == nil {
		t.Errorf("submitted an unknown input")
	}
	if _, err := f.SubmitModal(testAlice, "rating:7", map[string]string{"score": "5", "comment": "great"}); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "modal submit", func() bool { return len(ev.interactions) == 2 })
	submit := lastInteraction(ev)
	md := submit.ModalSubmitData()
	if md.CustomID != "rating:7" || len(md.Components) != 2 {
		t.Fatalf("modal data = %+v", md)
	}
	score := md.Components[0].(*discordgo.ActionsRow).Components[0].(*discordgo.TextInput)
	if score.CustomID != "score" || score.Value != "5" {
		t.Errorf("score input = %+v", score)
	}
	if submit.Message == nil || submit.Message.ID != survey.ID {
		t.Errorf("modal submit message = %+v, want the survey", submit.Message)
	}
	// Update the survey message: buttons removed, thanks shown.
	err = s.InteractionRespond(submit.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseUpdateMessage,
		Data: &discordgo.InteractionResponseData{Content: "Thanks for rating!", Components: []discordgo.MessageComponent{}},
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := f.SubmitModal(testAlice, "rating:7", map[string]string{"score": "4"}); err == nil {
		t.Errorf("a modal was submitted again after its submission was answered")
	}
	got, _ := f.FindMessage(survey.ID)
	if got.Content != "Thanks for rating!" || len(got.Buttons()) != 0 || got.EditedTimestamp.IsZero() {
		t.Errorf("survey after update = %q buttons %v", got.Content, got.Buttons())
	}
	ev.wait(t, "MESSAGE_UPDATE", func() bool { return len(ev.updates) == 1 })
}

func TestDeferredResponseAndFollowups(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s, ev := newClient(t, f, clientOpts{})
	cmds := registerCommands(t, f, s)
	if cmds[0].ID == "" || cmds[1].Type != discordgo.MessageApplicationCommand {
		t.Fatalf("registered = %+v", cmds)
	}
	q, err := f.PostAsUser(testChannel, testAlice, "my order never arrived")
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.MessageCommand(testBob, testChannel, "Open support case", q.ID)
	if err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "interaction", func() bool { return len(ev.interactions) == 1 })
	i := lastInteraction(ev).Interaction
	d := i.ApplicationCommandData()
	if d.TargetID != q.ID || d.Resolved.Messages[q.ID].Content != "my order never arrived" {
		t.Errorf("context menu data = %+v", d)
	}
	if !slices.Contains(i.Member.Roles, testStaff) {
		t.Errorf("member roles = %q, want %q", i.Member.Roles, testStaff)
	}
	if i.Member.Permissions&PermManageThreads == 0 {
		t.Errorf("member permissions = %d, want manage threads", i.Member.Permissions)
	}

	// Follow-ups need an acknowledged interaction.
	_, err = s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: "too early"})
	if status, code := restError(t, err); status != 404 || code != 10015 {
		t.Errorf("follow-up before ack: %d code %d, want 404 code 10015", status, code)
	}
	if err := s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatal(err)
	}
	first, err := s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: "Case #7 opened"})
	if err != nil {
		t.Fatal(err)
	}
	orig, ok := f.OriginalResponse(in.ID)
	if !ok || first.ID != orig.ID || orig.Content != "Case #7 opened" || orig.Flags&flagLoading != 0 {
		t.Errorf("first follow-up %s should replace the thinking message %+v", first.ID, orig)
	}
	second, err := s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: "Only you see this", Flags: discordgo.MessageFlagsEphemeral})
	if err != nil {
		t.Fatal(err)
	}
	edited, err := s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: ptr("Case #7 opened by bob")})
	if err != nil {
		t.Fatal(err)
	}
	if edited.ID != orig.ID || edited.Content != "Case #7 opened by bob" {
		t.Errorf("edited original = %s %q", edited.ID, edited.Content)
	}
	fs := f.Followups(in.ID)
	if len(fs) != 1 || fs[0].ID != second.ID || !fs[0].Ephemeral {
		t.Errorf("follow-ups = %+v, want the ephemeral one", fs)
	}
	hist := f.Messages(testChannel)
	if len(hist) != 2 || hist[1].ID != orig.ID || hist[1].Type != 23 || hist[1].InteractionID != in.ID {
		t.Errorf("history = %+v, want the question and the context menu response", hist)
	}
}

func TestDuplicateInteractionDelivery(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s, ev := newClient(t, f, clientOpts{})
	registerCommands(t, f, s)
	in, err := f.SlashCommand(testAlice, testChannel, "support", CommandOption{Name: "topic", Value: "x"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.InteractionCreate(Interaction{ID: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "two deliveries", func() bool { return len(ev.interactions) == 2 })
	ev.mu.Lock()
	a, b := ev.interactions[0], ev.interactions[1]
	ev.mu.Unlock()
	if again.ID != in.ID || a.ID != b.ID || a.Token != b.Token {
		t.Errorf("redelivery = %s/%s, want %s/%s", b.ID, b.Token, a.ID, a.Token)
	}
}

func TestCommandRegistration(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	first := registerCommands(t, f, s)
	second := registerCommands(t, f, s)
	if first[0].ID != second[0].ID {
		t.Errorf("re-registering changed the ID: %s then %s", first[0].ID, second[0].ID)
	}
	got := f.Commands(testGuild)
	if len(got) != 2 || got[0].Name != "support" || got[1].Type != 3 || len(got[0].Options) != 2 || !got[0].Options[0].Required {
		t.Errorf("guild commands = %+v", got)
	}
	if len(f.Commands("")) != 0 {
		t.Errorf("guild registration leaked into global commands")
	}
	if _, err := s.ApplicationCommandBulkOverwrite(f.ApplicationID(), "", testCommands()[:1]); err != nil {
		t.Fatal(err)
	}
	if got := f.Commands(""); len(got) != 1 || got[0].GuildID != "" {
		t.Errorf("global commands = %+v", got)
	}
	fetched, err := s.ApplicationCommands(f.ApplicationID(), testGuild)
	if err != nil || len(fetched) != 2 {
		t.Errorf("GET commands = %d, %v", len(fetched), err)
	}

	bad := []*discordgo.ApplicationCommand{{Name: "Support", Description: "uppercase"}}
	_, err = s.ApplicationCommandBulkOverwrite(f.ApplicationID(), testGuild, bad)
	if status, code := restError(t, err); status != 400 || code != 50035 {
		t.Errorf("invalid name: %d code %d, want 400 code 50035", status, code)
	}
	if got := f.Commands(testGuild); len(got) != 2 {
		t.Errorf("a refused overwrite changed the commands: %d", len(got))
	}
	_, err = s.ApplicationCommandBulkOverwrite("1", testGuild, testCommands())
	if status, code := restError(t, err); status != 403 || code != 50001 {
		t.Errorf("foreign application: %d code %d, want 403 code 50001", status, code)
	}
}

func ptr[T any](v T) *T { return &v }

func TestSelectMenu(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s, ev := newClient(t, f, clientOpts{})
	m, err := s.ChannelMessageSendComplex(testChannel, &discordgo.MessageSend{
		Content: "Rate us",
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.SelectMenu{CustomID: "stars", Options: []discordgo.SelectMenuOption{{Label: "5", Value: "5"}, {Label: "1", Value: "1"}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ClickButton(testAlice, testChannel, m.ID, "stars"); err == nil {
		t.Errorf("a select menu was clicked as a button")
	}
	if _, err := f.SelectMenu(testAlice, testChannel, m.ID, "stars", "5"); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "selection", func() bool { return len(ev.interactions) == 1 })
	d := lastInteraction(ev).MessageComponentData()
	if d.CustomID != "stars" || !slices.Equal(d.Values, []string{"5"}) || d.ComponentType != discordgo.SelectMenuComponent {
		t.Errorf("component data = %+v", d)
	}
}
