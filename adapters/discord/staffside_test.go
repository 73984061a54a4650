package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot"
)

// TestNotesStayOnTheStaffSide: a note typed or run as /case note in the staff
// thread is recorded and never reaches the customer.
func TestNotesStayOnTheStaffSide(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	_, _, cs := e.openCase("My parcel never arrived")
	e.post(cs.Staff.Channel, staffID, "!note courier says it was left next door")
	i, err := e.fake.SlashCommand(staffID, cs.Staff.Channel, "case", discordfake.CommandOption{Name: "note",
		Options: []discordfake.CommandOption{{Name: "text", Value: "check the refund policy"}}})
	if err != nil {
		t.Fatalf("/case note: %v", err)
	}
	if r := e.response(i.ID); r.Type != 4 || !r.Ephemeral() {
		t.Errorf("/case note answered type %d flags %d, want an ephemeral message", r.Type, r.Flags)
	}
	e.eventually("two notes", func() bool {
		n := 0
		for _, k := range e.kinds(cs.ID) {
			if k == bot.KindNote {
				n++
			}
		}
		return n == 2
	})
	e.settled()
	for _, text := range e.sees(customerID) {
		for _, secret := range []string{"next door", "refund policy", "Case #"} {
			if strings.Contains(text, secret) {
				t.Errorf("the customer can read %q", text)
			}
		}
	}
	// Staff still read everything.
	seen := strings.Join(e.sees(staffID), "\n")
	if !strings.Contains(seen, "next door") {
		t.Error("staff cannot read their note")
	}
}

// TestDeleteMessageOfAPerson: the bot may delete what a person wrote in the
// customer's thread (a staff note typed on the wrong side), with no more
// permissions than the invite URL asks for.
func TestDeleteMessageOfAPerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	_, thread, _ := e.openCase("I cannot log in")
	m := e.post(thread.ID, staffID, "!note wrong side")
	err := e.adapter.Delete(context.Background(), bot.Ref{Platform: bot.Discord, Space: guildID, Channel: thread.ID, Message: m.ID})
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got, _ := e.fake.FindMessage(m.ID); !got.Deleted {
		t.Error("the staff member's message is still there")
	}
}

// TestStaffThreadOpensOnceDespiteFailures: a failed or lost staff thread
// start is retried without a second staff thread or starter message.
func TestStaffThreadOpensOnceDespiteFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.fake.Fail(discordfake.RouteStartThreadFromMessage, 1, 500)
	_, _, first := e.openCase("First question")
	// Started on Discord but the answer lost: the retry hears 160004.
	e.fake.LoseResponse(discordfake.RouteStartThreadFromMessage, 1, 500)
	_, _, second := e.openCaseAs(otherID, "Second question")
	e.settled()
	if first.Staff.Channel == "" || second.Staff.Channel == "" || first.Staff.Channel == second.Staff.Channel {
		t.Errorf("staff sides %+v and %+v, want two distinct threads", first.Staff, second.Staff)
	}
	if n := len(e.fake.Threads(staffChID)); n != 2 {
		t.Errorf("%d staff threads for 2 cases, want 2", n)
	}
	if n := len(e.botMessages(staffChID)); n != 2 {
		t.Errorf("%d starter messages for 2 cases, want 2", n)
	}
	if n := len(e.fake.Threads(supportID)); n != 2 {
		t.Errorf("%d private threads for 2 cases, want 2", n)
	}
}

// TestStaffChannelHiddenFromTheBotIsReported: an operator who forgot to let
// the bot into the staff channel is told at start, not at the first case.
func TestStaffChannelHiddenFromTheBotIsReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.eventually("the staff channel checked", func() bool { return e.fake.Calls(discordfake.RouteGetChannel) > 0 })
	if strings.Contains(e.adapterLogs(), "cannot see discord.staff_channel") {
		t.Errorf("a usable staff channel was reported:\n%s", e.adapterLogs())
	}

	hidden := newEnv(t, envConfig{fake: func(f *discordfake.Server) {
		f.SetOverwrite(staffChID, f.BotUserID(), 0, discordfake.PermViewChannel)
	}})
	hidden.eventually("the hidden staff channel reported", func() bool {
		return strings.Contains(hidden.adapterLogs(), "cannot see discord.staff_channel")
	})
}
