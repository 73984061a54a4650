package discord

import (
	"slices"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

// TestOtherWaysIn: /support with its modal, a mention outside the support
// channels, a DM and the message context menu all open a case with a private
// thread; chatter in a plain channel opens none.
func TestOtherWaysIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	const (
		graceID = "710000000000000004"
		linusID = "710000000000000005"
	)
	e.fake.AddMember(guildID, graceID, "Grace")
	e.fake.AddMember(guildID, linusID, "Linus")

	// Chatter in a plain channel is not even passed to the core.
	e.post(generalID, linusID, "nice weather today")

	// /support without a description asks for one in a modal.
	i, err := e.fake.SlashCommand(customerID, supportID, "support")
	if err != nil {
		t.Fatalf("/support: %v", err)
	}
	if r := e.response(i.ID); r.Type != 9 || r.Title == "" || len([]rune(r.Title)) > 45 {
		t.Fatalf("/support answered type %d title %q, want a modal (9)", r.Type, r.Title)
	}
	modalID, _, ok := e.fake.OpenModal(customerID)
	if !ok {
		t.Fatal("no modal open for the customer")
	}
	sub, err := e.fake.SubmitModal(customerID, modalID, map[string]string{"text": "I cannot log in"})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if r := e.response(sub.ID); r.Type != 4 || !r.Ephemeral() {
		t.Errorf("submit answered type %d flags %d, want an ephemeral acknowledgement", r.Type, r.Flags)
	}
	first := e.thread(supportID, 1)
	e.botMessage(first.ID, "I cannot log in")

	// A mention in another channel.
	mention := e.post(generalID, otherID, "<@"+e.fake.BotUserID()+"> my license key is rejected")
	inGeneral := e.thread(generalID, 1)
	e.member(inGeneral.ID, otherID)
	reply := e.botMessage(generalID, "private conversation")
	if reply.Reference == nil || reply.Reference.MessageID != mention.ID {
		t.Errorf("reply references %+v, want the mention %s", reply.Reference, mention.ID)
	}
	intro := e.botMessage(inGeneral.ID, "my license key is rejected")
	if strings.Contains(intro.Content, "<@"+e.fake.BotUserID()+">") {
		t.Errorf("intro %q quotes the bot's mention", intro.Content)
	}

	// A DM: the private thread goes in the first support channel.
	dm := e.fake.OpenDM(graceID)
	e.post(dm, graceID, "Can I get a refund?")
	second := e.thread(supportID, 2)
	e.member(second.ID, graceID)
	e.botMessage(second.ID, "Can I get a refund?")
	if cs := e.caseOf(second.ID); !cs.Public.IsZero() || cs.Platform != bot.Discord {
		t.Errorf("DM case public ref = %+v, want none", cs.Public)
	}

	// The context menu on someone else's message: the case is that author's.
	q := e.post(generalID, linusID, "the export button does nothing")
	i, err = e.fake.MessageCommand(staffID, generalID, "Get help with this", q.ID)
	if err != nil {
		t.Fatalf("context menu: %v", err)
	}
	e.response(i.ID)
	third := e.thread(generalID, 2)
	cs := e.caseOf(third.ID)
	if cs.Customer.ID != linusID || cs.Public.Message != q.ID {
		t.Errorf("context-menu case customer %s on %+v, want %s on message %s", cs.Customer.ID, cs.Public, linusID, q.ID)
	}
	e.botMessage(third.ID, "the export button does nothing")

	// Nothing else opened a case: four threads in all.
	e.settled()
	if n := len(e.fake.Threads(supportID)) + len(e.fake.Threads(generalID)); n != 4 {
		t.Errorf("%d case threads, want 4", n)
	}
	var commands []string
	for _, c := range e.fake.Commands(guildID) {
		commands = append(commands, c.Name)
	}
	slices.Sort(commands)
	if got, want := strings.Join(commands, ","), "Get help with this,advocate,case,link,support"; got != want {
		t.Errorf("registered commands = %s, want %s", got, want)
	}
}
