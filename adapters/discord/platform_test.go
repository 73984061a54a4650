package discord

import (
	"slices"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// The conversation itself is the shared suite's (suite_test.go). These tests
// check what only Discord has: message references, thread types and
// membership, the staff thread's starter, interaction response types, link
// buttons through the tracking redirect, modals, mentions and logs.

// TestDiscordShapeOfAConversation follows a question from the support
// channel to a testimonial in the showcase channel and checks how each step
// looks on Discord.
func TestDiscordShapeOfAConversation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	const question = "My invoice shows the wrong amount"
	asked, thread, cs := e.openCase(question)

	// Public reply under the question.
	reply := e.botMessage(supportID, "private conversation")
	if reply.Reference == nil || reply.Reference.MessageID != asked.ID {
		t.Errorf("public reply references %+v, want the question %s", reply.Reference, asked.ID)
	}
	// The private thread: type 12, not invitable, the customer added.
	if got, want := thread.Type, discordfake.ChannelTypePrivateThread; got != want {
		t.Errorf("thread type = %d, want %d", got, want)
	}
	if thread.Invitable {
		t.Error("private thread is invitable, want invitable false")
	}
	e.member(thread.ID, customerID)
	intro, _ := e.withButton(thread.ID, "My problem is solved")
	for _, want := range []string{"<@" + customerID + ">", question} {
		if !strings.Contains(intro.Content, want) {
			t.Errorf("intro %q lacks %q", intro.Content, want)
		}
	}
	if got, want := cs.Private, (bot.Ref{Platform: bot.Discord, Space: guildID, Channel: thread.ID}); got != want {
		t.Errorf("case private side = %+v, want %+v", got, want)
	}

	// The staff side: a public thread in the staff channel, started from a
	// message that pings the staff role; the customer cannot see it.
	staff, ok := e.fake.Channel(cs.Staff.Channel)
	if !ok || staff.ParentID != staffChID || staff.Type != discordfake.ChannelTypePublicThread {
		t.Fatalf("staff side = %+v (found %v), want a public thread of the staff channel", staff, ok)
	}
	starter, _ := e.fake.FindMessage(staff.ID)
	if !strings.Contains(starter.Content, "<@&"+staffRole+">") || !strings.Contains(starter.Content, "Case #") {
		t.Errorf("staff thread starter = %q, want the staff role pinged and the case named", starter.Content)
	}
	if e.fake.CanView(customerID, staff.ID) || !e.fake.CanView(staffID, staff.ID) {
		t.Error("the staff thread is visible to the customer or hidden from staff")
	}
	e.botMessage(staff.ID, question) // the staff intro quotes the question
	// Staff may answer in the private thread directly (Manage Threads).
	e.post(thread.ID, staffID, "Found it, INV-42 is fixed")
	e.waitKind(cs.ID, bot.KindFirstStaffResponse)

	// Staff resolve with the button.
	controls, _ := e.withButton(staff.ID, "Resolve")
	_, r := e.click(staffID, controls, "Resolve")
	if r.Type != 4 || !r.Ephemeral() {
		t.Errorf("resolve answered type %d flags %d, want an ephemeral message", r.Type, r.Flags)
	}
	resolved := e.botMessage(supportID, "Resolved privately")
	if resolved.Reference == nil || resolved.Reference.MessageID != asked.ID {
		t.Errorf("resolved reply references %+v, want the question %s", resolved.Reference, asked.ID)
	}

	// The survey in the thread; the customer rates 5.
	survey, _ := e.withButton(thread.ID, "5")
	if n := len(survey.Buttons()); n != 6 {
		t.Errorf("survey has %d buttons, want 5 scores and not fixed", n)
	}
	_, r = e.click(customerID, survey, "5")
	if r.Type != 6 {
		t.Errorf("rating answered type %d, want 6 (deferred update)", r.Type)
	}
	e.wait("the survey closed", func() bool {
		m, _ := e.fake.FindMessage(survey.ID)
		bs := m.Buttons()
		// The scores are gone; only the optional comment remains.
		return strings.Contains(m.Content, "Your answer is recorded") && len(bs) == 1 && bs[0].Label == "Add a comment"
	})

	// The share prompt: a community post, tracked links, no thanks.
	prompt, _ := e.withButton(thread.ID, "Post in #showcase")
	labels := map[string]discordfake.Button{}
	for _, b := range prompt.Buttons() {
		labels[b.Label] = b
	}
	for _, l := range []string{"Post on X", "Review us on Trustpilot"} {
		if b := labels[l]; b.Style != 5 || !strings.HasPrefix(b.URL, e.track.URL+"/r/") {
			t.Errorf("%q = %+v, want a link button through %s/r/", l, b, e.track.URL)
		}
	}
	_, r = e.click(customerID, prompt, "Post in #showcase")
	if r.Type != 9 {
		t.Fatalf("share answered type %d, want 9 (modal)", r.Type)
	}
	if !strings.Contains(string(r.Components), "Acme support sorted me out quickly.") {
		t.Errorf("preview modal %s does not show the offered text", r.Components)
	}
	modalID, inputs, ok := e.fake.OpenModal(customerID)
	if !ok || !slices.Equal(inputs, []string{"text"}) {
		t.Fatalf("open modal = %q, %v, %v; want one text input", modalID, inputs, ok)
	}

	const edited = "Support fixed my invoice in minutes!"
	sub, err := e.fake.SubmitModal(customerID, modalID, map[string]string{"text": edited})
	if err != nil {
		t.Fatalf("submit modal: %v", err)
	}
	if r := e.response(sub.ID); r.Type != 6 {
		t.Errorf("submit answered type %d, want 6", r.Type)
	}

	// Exactly the confirmed text in the showcase; the prompt without buttons.
	post := e.botMessage(showcaseID, edited)
	if got, want := post.Content, "💬 “"+edited+"” — Ada"; got != want {
		t.Errorf("showcase post = %q, want %q", got, want)
	}
	if n := len(e.botMessages(showcaseID)); n != 1 {
		t.Errorf("showcase has %d posts, want 1", n)
	}
	// The used button is gone from the prompt; the other offers stay open.
	e.wait("the prompt updated", func() bool {
		m, _ := e.fake.FindMessage(prompt.ID)
		if !strings.Contains(m.Content, "Thanks for your answer") {
			return false
		}
		for _, b := range m.Buttons() {
			if b.Label == "Post in #showcase" {
				return false
			}
		}
		return true
	})

	// The customer withdraws the post: the bot deletes it.
	shared, _ := e.withButton(thread.ID, "Withdraw my post")
	e.click(customerID, shared, "Withdraw my post")
	e.wait("the testimonial deleted", func() bool {
		m, _ := e.fake.FindMessage(post.ID)
		return m.Deleted
	})
	e.waitKind(cs.ID, bot.KindShareWithdrawn)

	e.waitKind(cs.ID, bot.KindShared)
	kinds := e.kinds(cs.ID)
	// survey_sent is recorded when the relay commits the delivery, which can
	// follow the customer's click on the posted survey.
	want := []string{bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindFirstStaffResponse, bot.KindResolved,
		bot.KindRated, bot.KindShareOffered, bot.KindShareClicked, bot.KindShared}
	if !bottest.HasKinds(kinds, want...) || !slices.Contains(kinds, bot.KindSurveySent) {
		t.Errorf("funnel = %v, want survey_sent and in order %v", kinds, want)
	}
	if n := bottest.Count(kinds, bot.KindAskedPublic); n != 1 {
		t.Errorf("asked_public recorded %d times, want 1", n)
	}

	logs := e.adapterLogs()
	for _, secret := range []string{question, edited, "INV-42", e.fake.Token()} {
		if strings.Contains(logs, secret) {
			t.Errorf("adapter logs contain %q", secret)
		}
	}
}

// TestResolveByCommandAndAlert: /case resolve in the staff thread is answered
// with an ephemeral message; the alert of a low rating in the staff channel
// pings nobody; review links stay link buttons for an unhappy customer.
func TestResolveByCommandAndAlert(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	_, thread, cs := e.openCase("The app crashes on start")
	e.post(thread.ID, staffID, "Please reinstall it")
	e.waitKind(cs.ID, bot.KindFirstStaffResponse)

	// Resolved with the slash command in the staff thread this time.
	i, err := e.fake.SlashCommand(staffID, cs.Staff.Channel, "case", discordfake.CommandOption{Name: "resolve"})
	if err != nil {
		t.Fatalf("/case resolve: %v", err)
	}
	if r := e.response(i.ID); r.Type != 4 || !r.Ephemeral() {
		t.Errorf("/case resolve answered type %d flags %d, want an ephemeral message", r.Type, r.Flags)
	}
	survey, _ := e.withButton(thread.ID, "1")
	if _, r := e.click(customerID, survey, "1"); r.Type != 6 {
		t.Errorf("rating answered type %d, want 6", r.Type)
	}

	alert := e.botMessage(staffChID, "was not satisfied")
	if strings.Contains(alert.Content, "@everyone") {
		t.Errorf("staff alert %q pings everyone", alert.Content)
	}
	e.botMessage(thread.ID, "We're sorry")
	e.waitKind(cs.ID, bot.KindReopened)
	if got := e.caseOf(thread.ID).Status; got != bot.StatusReopened {
		t.Errorf("case status = %q, want %q", got, bot.StatusReopened)
	}
	// Review sites are offered to everyone (no review gating), the showcase
	// only to satisfied customers.
	prompt, _ := e.withButton(thread.ID, "Review us on Trustpilot")
	for _, b := range prompt.Buttons() {
		if b.Label == "Post in #showcase" || b.Label == "Post on X" {
			t.Errorf("unhappy customer offered %q", b.Label)
		}
	}
	if n := len(e.botMessages(showcaseID)); n != 0 {
		t.Errorf("showcase has %d posts, want none", n)
	}
}

// TestWrongUserCannotPressCustomerButtons: only the case's customer may use
// the customer's buttons; anyone else gets an ephemeral refusal and nothing
// changes.
func TestWrongUserCannotPressCustomerButtons(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	_, thread, cs := e.openCase("Where is my parcel?")
	intro, _ := e.withButton(thread.ID, "My problem is solved")

	// Staff can see the private thread (Manage Threads) but are not the customer.
	i, r := e.click(staffID, intro, "My problem is solved")
	if r.Type != 4 || !r.Ephemeral() {
		t.Fatalf("wrong user answered type %d flags %d, want type 4 with flags 64", r.Type, r.Flags)
	}
	if !strings.Contains(r.Content, "Only the customer") {
		t.Errorf("refusal = %q, want the only-customer text", r.Content)
	}
	if m, ok := e.fake.OriginalResponse(i.ID); !ok || !m.Ephemeral || m.EphemeralFor != staffID {
		t.Errorf("refusal message = %+v, want ephemeral for the clicker", m)
	}
	// And the customer cannot reach the staff controls: Discord refuses a
	// click in a thread the customer cannot see.
	controls, _ := e.withButton(cs.Staff.Channel, "Resolve")
	var customID string
	for _, b := range controls.Buttons() {
		if b.Label == "Resolve" {
			customID = b.CustomID
		}
	}
	if _, err := e.fake.ClickButton(customerID, controls.ChannelID, controls.ID, customID); err == nil {
		t.Error("the customer clicked Resolve in the staff thread")
	}
	// Nor run a staff command in their own thread.
	i, err := e.fake.SlashCommand(customerID, thread.ID, "case", discordfake.CommandOption{Name: "resolve"})
	if err != nil {
		t.Fatalf("/case resolve: %v", err)
	}
	if r := e.response(i.ID); r.Type != 4 || !r.Ephemeral() || !strings.Contains(r.Content, "Only staff") {
		t.Errorf("customer running /case resolve answered type %d flags %d %q, want an ephemeral only-staff refusal", r.Type, r.Flags, r.Content)
	}
	if got := e.caseOf(thread.ID).Status; !got.Active() {
		t.Errorf("case status = %q after refused clicks, want still active", got)
	}
	if kinds := e.kinds(cs.ID); slices.Contains(kinds, bot.KindResolved) {
		t.Errorf("funnel %v has resolved after a refused click", kinds)
	}
}
