package discordfake

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

func TestOpenReceivesReadyAndGuilds(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	intents := discordgo.IntentsGuilds | discordgo.IntentsGuildMessages
	s, ev := newClient(t, f, clientOpts{intents: intents})

	ev.wait(t, "READY", func() bool { return len(ev.ready) == 1 })
	r := ev.ready[0]
	if got, want := r.User.ID, f.BotUserID(); got != want {
		t.Errorf("READY user = %q, want %q", got, want)
	}
	if !r.User.Bot {
		t.Errorf("READY user is not a bot")
	}
	if got, want := r.Application.ID, f.ApplicationID(); got != want {
		t.Errorf("READY application = %q, want %q", got, want)
	}
	if r.SessionID == "" {
		t.Errorf("READY without session_id")
	}
	if got, want := f.Identifies(), 1; got != want {
		t.Errorf("identifies = %d, want %d", got, want)
	}
	if got, want := f.LastIntents(), int(intents); got != want {
		t.Errorf("intents = %d, want %d", got, want)
	}
	// GUILD_CREATE follows READY: discordgo's state learns the channel.
	ev.wait(t, "GUILD_CREATE", func() bool { return len(ev.guilds) == 1 })
	c, err := s.State.Channel(testChannel)
	if err != nil {
		t.Fatalf("state has no channel %s: %v", testChannel, err)
	}
	if got, want := c.Name, "support"; got != want {
		t.Errorf("channel name = %q, want %q", got, want)
	}
	if got, want := c.GuildID, testGuild; got != want {
		t.Errorf("channel guild = %q, want %q", got, want)
	}
}

func TestHeartbeatsAreAcknowledged(t *testing.T) {
	t.Parallel()
	// discordgo gives up after five intervals without an ACK; 200 ms leaves a
	// loaded machine a second to deliver each one (50 ms failed under load).
	f := newFake(t, Options{HeartbeatInterval: 200 * time.Millisecond})
	newClient(t, f, clientOpts{})
	// discordgo sends a heartbeat at once and then one per interval, and
	// reconnects after its sixth heartbeat if no ACK arrived in five intervals:
	// eight heartbeats on one connection prove the ACKs were processed.
	waitFake(t, f, "8 heartbeats", func() bool { return f.Heartbeats() >= 8 })
	if got, want := f.Connections(), 1; got != want {
		t.Errorf("connections = %d, want %d (the client reconnected)", got, want)
	}
	if got, want := f.Identifies(), 1; got != want {
		t.Errorf("identifies = %d, want %d", got, want)
	}
}

func TestBadTokenIsRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})

	t.Run("gateway closes with 4004", func(t *testing.T) {
		s := newSession(t, f, clientOpts{})
		s.Identify.Token = "Bot wrong"
		err := s.Open()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("Open error = %v, want a websocket close error", err)
		}
		if got, want := ce.Code, 4004; got != want {
			t.Errorf("close code = %d, want %d", got, want)
		}
		if got, want := f.Identifies(), 0; got != want {
			t.Errorf("identifies = %d, want %d", got, want)
		}
	})

	t.Run("REST answers 401", func(t *testing.T) {
		s := newSession(t, f, clientOpts{token: "wrong"})
		_, err := s.User("@me")
		status, code := restError(t, err)
		if status != 401 || code != 0 {
			t.Errorf("got %d code %d, want 401 code 0", status, code)
		}
		if got, want := f.InvalidRequests(), 1; got != want {
			t.Errorf("invalid requests = %d, want %d", got, want)
		}
	})
}

func TestDisallowedIntentIsRefused(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{DisallowedIntents: IntentMessageContent})
	s := newSession(t, f, clientOpts{intents: discordgo.IntentsGuildMessages | discordgo.IntentMessageContent})
	err := s.Open()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4014 {
		t.Fatalf("Open error = %v, want close 4014", err)
	}
}

// contents returns the contents of received MESSAGE_CREATEs. Call with ev.mu held.
func contents(ms []*discordgo.MessageCreate) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Content)
	}
	return out
}

func TestReconnectResumesWithoutLoss(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	_, ev := newClient(t, f, clientOpts{reconnect: true})
	if _, err := f.PostAsUser(testChannel, testAlice, "before"); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "first message", func() bool { return len(ev.messages) == 1 })

	f.RequestReconnect()
	// Posted while the client closes and reconnects: replayed on RESUME.
	for _, c := range []string{"one", "two", "three"} {
		if _, err := f.PostAsUser(testChannel, testAlice, c); err != nil {
			t.Fatal(err)
		}
	}
	ev.wait(t, "RESUMED", func() bool { return ev.resumed == 1 })
	ev.wait(t, "replayed messages", func() bool { return len(ev.messages) >= 4 })
	if _, err := f.PostAsUser(testChannel, testAlice, "after"); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "message after resume", func() bool { return len(ev.messages) >= 5 })

	ev.mu.Lock()
	got := contents(ev.messages)
	ev.mu.Unlock()
	if want := []string{"before", "one", "two", "three", "after"}; !slices.Equal(got, want) {
		t.Errorf("messages = %q, want %q", got, want)
	}
	if got, want := f.Identifies(), 1; got != want {
		t.Errorf("identifies = %d, want %d", got, want)
	}
	if got, want := f.Resumes(), 1; got != want {
		t.Errorf("resumes = %d, want %d", got, want)
	}
	if got, want := f.Connections(), 2; got != want {
		t.Errorf("connections = %d, want %d", got, want)
	}
}

func TestDroppedConnectionResumes(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	_, ev := newClient(t, f, clientOpts{reconnect: true})
	f.DropConnections()
	if _, err := f.PostAsUser(testChannel, testAlice, "while down"); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "RESUMED", func() bool { return ev.resumed == 1 })
	ev.wait(t, "replayed message", func() bool { return len(ev.messages) == 1 })
	ev.mu.Lock()
	got := contents(ev.messages)
	ev.mu.Unlock()
	if want := []string{"while down"}; !slices.Equal(got, want) {
		t.Errorf("messages = %q, want %q", got, want)
	}
	if got, want := f.Identifies(), 1; got != want {
		t.Errorf("identifies = %d, want %d", got, want)
	}
}

func TestInvalidSessionMakesClientIdentifyAgain(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	_, ev := newClient(t, f, clientOpts{})
	ev.wait(t, "READY", func() bool { return len(ev.ready) == 1 })

	f.InvalidSession(false)
	ev.wait(t, "second READY", func() bool { return len(ev.ready) == 2 })
	ev.mu.Lock()
	first, second := ev.ready[0].SessionID, ev.ready[1].SessionID
	ev.mu.Unlock()
	if first == second {
		t.Errorf("session ID %q reused after an invalid session", first)
	}
	if got, want := f.Identifies(), 2; got != want {
		t.Errorf("identifies = %d, want %d", got, want)
	}
	if _, err := f.PostAsUser(testChannel, testAlice, "hello again"); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "message on the new session", func() bool { return len(ev.messages) == 1 })
	if got, want := f.Connections(), 1; got != want {
		t.Errorf("connections = %d, want %d", got, want)
	}
}

func TestMessageContentIntent(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	_, ev := newClient(t, f, clientOpts{intents: discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages})
	dm := f.OpenDM(testAlice)
	posts := []struct{ channel, content string }{
		{testChannel, "my printer is on fire"},
		{testChannel, "<@" + f.BotUserID() + "> help please"},
		{dm, "a private question"},
	}
	for _, p := range posts {
		if _, err := f.PostAsUser(p.channel, testAlice, p.content); err != nil {
			t.Fatal(err)
		}
	}
	ev.wait(t, "three messages", func() bool { return len(ev.messages) == 3 })
	ev.mu.Lock()
	got := contents(ev.messages)
	guildID := ev.messages[0].GuildID
	member := ev.messages[0].Member
	dmGuild := ev.messages[2].GuildID
	ev.mu.Unlock()
	want := []string{"", posts[1].content, posts[2].content}
	if !slices.Equal(got, want) {
		t.Errorf("contents without the intent = %q, want %q", got, want)
	}
	if guildID != testGuild {
		t.Errorf("guild_id = %q, want %q", guildID, testGuild)
	}
	if member == nil {
		t.Errorf("guild message without member")
	}
	if dmGuild != "" {
		t.Errorf("DM has guild_id %q", dmGuild)
	}
	// The history keeps the content: only the gateway withholds it.
	if got := f.Messages(testChannel)[0].Content; got != posts[0].content {
		t.Errorf("stored content = %q, want %q", got, posts[0].content)
	}
}

func TestPrivateThreadMessagesNeedMembership(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	f.AddThread(testChannel, "810000000000000001", "private", testBob, true)
	if _, err := f.PostAsUser("810000000000000001", testAlice, "let me in"); err == nil {
		t.Errorf("a non-member posted in a private thread")
	}
	if _, err := f.PostAsUser("810000000000000001", testBob, "staff only"); err != nil {
		t.Errorf("the owner cannot post: %v", err)
	}
}

func TestModeratorsSeePrivateThreads(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	// alice's private thread: bob is no member, but his role manages threads.
	f.AddThread(testChannel, "810000000000000002", "private", testAlice, true)
	if _, err := f.PostAsUser("810000000000000002", testBob, "a moderator looks in"); err != nil {
		t.Errorf("a member with Manage Threads cannot post in a private thread: %v", err)
	}
}

func TestDuplicateMessageDelivery(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	_, ev := newClient(t, f, clientOpts{})
	m, err := f.PostAsUser(testChannel, testAlice, "once")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.MessageCreate(Message{ID: m.ID}); err != nil {
		t.Fatal(err)
	}
	ev.wait(t, "two deliveries", func() bool { return len(ev.messages) == 2 })
	ev.mu.Lock()
	a, b := ev.messages[0], ev.messages[1]
	ev.mu.Unlock()
	if a.ID != m.ID || b.ID != m.ID || b.Content != "once" {
		t.Errorf("deliveries = %s %s %q, want %s twice", a.ID, b.ID, b.Content, m.ID)
	}
	if got, want := len(f.Messages(testChannel)), 1; got != want {
		t.Errorf("history = %d messages, want %d", got, want)
	}
}
