package discordfake

import (
	"slices"
	"testing"

	"github.com/bwmarrin/discordgo"
)

const testStaffChannel = "800000000000000011"

// newStaffFake adds a staff channel that only the staff role and the bot can
// see to newFake's community.
func newStaffFake(t *testing.T, opts Options) *Server {
	t.Helper()
	f := newFake(t, opts)
	f.AddChannel(testGuild, testStaffChannel, "staff")
	f.RestrictChannel(testStaffChannel, testStaff, f.BotUserID())
	return f
}

func TestRestrictedChannelIsHiddenFromEveryoneElse(t *testing.T) {
	t.Parallel()
	f := newStaffFake(t, Options{})
	if !f.CanView(testBob, testStaffChannel) || f.CanView(testAlice, testStaffChannel) {
		t.Errorf("CanView staff channel: bob %v, alice %v; want true, false",
			f.CanView(testBob, testStaffChannel), f.CanView(testAlice, testStaffChannel))
	}
	if _, err := f.PostAsUser(testStaffChannel, testAlice, "let me in"); err == nil {
		t.Error("a member without View Channel posted in the staff channel")
	}
	if _, err := f.PostAsUser(testStaffChannel, testBob, "staff only"); err != nil {
		t.Errorf("staff cannot post in the staff channel: %v", err)
	}
	// A thread of the staff channel takes its overwrites.
	f.AddThread(testStaffChannel, "810000000000000009", "case", testBob, false)
	if f.CanView(testAlice, "810000000000000009") || !f.CanView(testBob, "810000000000000009") {
		t.Error("a public thread of the staff channel does not follow the channel's overwrites")
	}
}

func TestOverwriteMaySetBeforeItsRole(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	f.AddChannel(testGuild, testStaffChannel, "staff")
	f.RestrictChannel(testStaffChannel, "late-role")
	f.AddRole(testGuild, "late-role", "late", 0)
	f.AddMember(testGuild, testAlice, "alice", "late-role")
	if !f.CanView(testAlice, testStaffChannel) {
		t.Error("a role added after the overwrite does not get it")
	}
}

func TestOverwritesApplyInDiscordsOrder(t *testing.T) {
	t.Parallel()
	f := newStaffFake(t, Options{})
	// A member overwrite beats the role's allow.
	f.SetOverwrite(testStaffChannel, testBob, 0, PermViewChannel)
	if f.CanView(testBob, testStaffChannel) {
		t.Error("a member deny did not override the role allow")
	}
	// A member allow beats the @everyone deny.
	f.SetOverwrite(testStaffChannel, testAlice, PermViewChannel, 0)
	if !f.CanView(testAlice, testStaffChannel) {
		t.Error("a member allow did not override the @everyone deny")
	}
}

func TestVisibleToListsWhatAPersonCanRead(t *testing.T) {
	t.Parallel()
	f := newStaffFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	if _, err := s.ChannelMessageSend(testChannel, "public"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessageSend(testStaffChannel, "staff note"); err != nil {
		t.Fatal(err)
	}
	priv, err := s.ThreadStartComplex(testChannel, &discordgo.ThreadStart{Name: "case", Type: discordgo.ChannelTypeGuildPrivateThread})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessageSend(priv.ID, "private to alice"); err != nil {
		t.Fatal(err)
	}
	texts := func(user string) []string {
		var out []string
		for _, m := range f.VisibleTo(user) {
			out = append(out, m.Content)
		}
		return out
	}
	if got, want := texts(testAlice), []string{"public"}; !slices.Equal(got, want) {
		t.Errorf("alice sees %q before joining the thread, want %q", got, want)
	}
	if err := s.ThreadMemberAdd(priv.ID, testAlice); err != nil {
		t.Fatal(err)
	}
	if got, want := texts(testAlice), []string{"public", "private to alice"}; !slices.Equal(got, want) {
		t.Errorf("alice sees %q, want %q", got, want)
	}
	// bob manages threads: he sees the private thread without joining it.
	if got, want := texts(testBob), []string{"public", "staff note", "private to alice"}; !slices.Equal(got, want) {
		t.Errorf("bob sees %q, want %q", got, want)
	}
}

func TestBotPermissionsAreEnforced(t *testing.T) {
	t.Parallel()
	send := int64(PermViewChannel | PermSendMessages | PermReadMessageHistory | PermSendMessagesInThreads)
	f := newStaffFake(t, Options{BotPermissions: send})
	s := newSession(t, f, clientOpts{})

	// Without Create Private Threads: 403 Missing Permissions.
	_, err := s.ThreadStartComplex(testChannel, &discordgo.ThreadStart{Name: "case", Type: discordgo.ChannelTypeGuildPrivateThread})
	if status, code := restError(t, err); status != 403 || code != 50013 {
		t.Errorf("private thread without the permission: %d code %d, want 403 code 50013", status, code)
	}
	// Without Manage Messages the bot deletes its own messages only.
	mine, err := s.ChannelMessageSend(testChannel, "mine")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := f.PostAsUser(testChannel, testAlice, "theirs")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChannelMessageDelete(testChannel, mine.ID); err != nil {
		t.Errorf("delete own message: %v", err)
	}
	err = s.ChannelMessageDelete(testChannel, theirs.ID)
	if status, code := restError(t, err); status != 403 || code != 50013 {
		t.Errorf("delete another's message: %d code %d, want 403 code 50013", status, code)
	}
	// A channel hidden from the bot: 403 Missing Access.
	f.SetOverwrite(testStaffChannel, f.BotUserID(), 0, PermViewChannel)
	_, err = s.ChannelMessageSend(testStaffChannel, "hello")
	if status, code := restError(t, err); status != 403 || code != 50001 {
		t.Errorf("post in a hidden channel: %d code %d, want 403 code 50001", status, code)
	}
}

func TestManageMessagesLetsTheBotDeleteOthersMessages(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{BotPermissions: PermViewChannel | PermManageMessages})
	s := newSession(t, f, clientOpts{})
	m, err := f.PostAsUser(testChannel, testAlice, "oops")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChannelMessageDelete(testChannel, m.ID); err != nil {
		t.Fatalf("delete with Manage Messages: %v", err)
	}
	if got, _ := f.FindMessage(m.ID); !got.Deleted {
		t.Error("message not deleted")
	}
}
