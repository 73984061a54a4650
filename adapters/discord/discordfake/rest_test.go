package discordfake

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

func TestTransportRewritesAnyHost(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	resp := rawRequest(t, f, "GET", "/gateway", "", "")
	var got struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if want := f.GatewayURL(); got.URL != want || !strings.HasPrefix(want, "ws://127.0.0.1:") {
		t.Errorf("gateway url = %q, want %q on 127.0.0.1", got.URL, want)
	}
}

func TestSendMessageAndReadBack(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s, ev := newClient(t, f, clientOpts{})
	asked, err := f.PostAsUser(testChannel, testAlice, "how do I reset my password?")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.ChannelMessageSendComplex(testChannel, &discordgo.MessageSend{
		Content:   "Let's take this to a private thread.",
		Reference: &discordgo.MessageReference{MessageID: asked.ID},
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Resolved", Style: discordgo.SuccessButton, CustomID: "resolve:42"},
			discordgo.Button{Label: "Docs", Style: discordgo.LinkButton, URL: "https://example.com/docs"},
		}}},
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if sent.ID == "" || sent.Author.ID != f.BotUserID() {
		t.Errorf("sent = %+v, want an ID and the bot as author", sent)
	}
	if sent.MessageReference == nil || sent.MessageReference.MessageID != asked.ID {
		t.Errorf("message_reference = %+v, want %s", sent.MessageReference, asked.ID)
	}

	stored := f.Messages(testChannel)
	if got, want := len(stored), 2; got != want {
		t.Fatalf("history has %d messages, want %d", got, want)
	}
	bot := stored[1]
	if got, want := bot.Type, 19; got != want {
		t.Errorf("type = %d, want %d (reply)", got, want)
	}
	if !slices.Contains(bot.Mentions, testAlice) {
		t.Errorf("mentions = %q, want the replied-to author", bot.Mentions)
	}
	wantButtons := []Button{
		{CustomID: "resolve:42", Label: "Resolved", Style: 3},
		{Label: "Docs", Style: 5, URL: "https://example.com/docs"},
	}
	if got := bot.Buttons(); !slices.Equal(got, wantButtons) {
		t.Errorf("buttons = %+v, want %+v", got, wantButtons)
	}

	history, err := s.ChannelMessages(testChannel, 10, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(history), 2; got != want {
		t.Fatalf("GET messages returned %d, want %d", got, want)
	}
	if history[0].ID != sent.ID || history[0].Content != "Let's take this to a private thread." {
		t.Errorf("newest message = %q %q, want the bot's", history[0].ID, history[0].Content)
	}
	if got := len(history[0].Components); got != 1 {
		t.Errorf("components read back = %d rows, want 1", got)
	}

	// The bot receives MESSAGE_CREATE for its own message too.
	ev.wait(t, "own message", func() bool { return len(ev.messages) == 2 })
	ev.mu.Lock()
	own := ev.messages[1]
	ev.mu.Unlock()
	if own.ID != sent.ID || own.Author.ID != f.BotUserID() {
		t.Errorf("MESSAGE_CREATE = %s by %s, want the bot's %s", own.ID, own.Author.ID, sent.ID)
	}
}

func TestEditAndDeleteMessage(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	m, err := s.ChannelMessageSend(testChannel, "draft")
	if err != nil {
		t.Fatal(err)
	}
	edited, err := s.ChannelMessageEdit(testChannel, m.ID, "final")
	if err != nil {
		t.Fatal(err)
	}
	if edited.Content != "final" || edited.EditedTimestamp == nil {
		t.Errorf("edited = %q (edited at %v), want \"final\" with a timestamp", edited.Content, edited.EditedTimestamp)
	}
	userMsg, err := f.PostAsUser(testChannel, testAlice, "mine")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ChannelMessageEdit(testChannel, userMsg.ID, "hijacked")
	if status, code := restError(t, err); status != 403 || code != 50005 {
		t.Errorf("editing a user's message: %d code %d, want 403 code 50005", status, code)
	}
	if err := s.ChannelMessageDelete(testChannel, m.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.Messages(testChannel); len(got) != 1 || got[0].ID != userMsg.ID {
		t.Errorf("history after delete = %v, want only the user's message", got)
	}
	if got, ok := f.FindMessage(m.ID); !ok || !got.Deleted {
		t.Errorf("FindMessage(deleted) = %+v %v, want Deleted", got, ok)
	}
	_, err = s.ChannelMessage(testChannel, m.ID)
	if status, code := restError(t, err); status != 404 || code != 10008 {
		t.Errorf("GET deleted: %d code %d, want 404 code 10008", status, code)
	}
}

// nonceSend is the body discordgo's MessageSend cannot express.
type nonceSend struct {
	Content      string `json:"content"`
	Nonce        string `json:"nonce"`
	EnforceNonce bool   `json:"enforce_nonce"`
}

func sendWithNonce(t *testing.T, s *discordgo.Session, channel string, body nonceSend) *discordgo.Message {
	t.Helper()
	ep := discordgo.EndpointChannelMessages(channel)
	raw, err := s.RequestWithBucketID("POST", ep, body, ep)
	if err != nil {
		t.Fatalf("send with nonce: %v", err)
	}
	var m discordgo.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func TestNonceDeduplicatesMessages(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	f := newFake(t, Options{Now: clock.Now, NonceWindow: 2 * time.Minute})
	s := newSession(t, f, clientOpts{})

	first := sendWithNonce(t, s, testChannel, nonceSend{Content: "survey", Nonce: "case-7-survey", EnforceNonce: true})
	again := sendWithNonce(t, s, testChannel, nonceSend{Content: "survey", Nonce: "case-7-survey", EnforceNonce: true})
	if again.ID != first.ID {
		t.Errorf("retry created %s, want the existing %s", again.ID, first.ID)
	}
	if got, want := len(f.Messages(testChannel)), 1; got != want {
		t.Errorf("history has %d messages, want %d", got, want)
	}
	if got := f.Messages(testChannel)[0].Nonce; got != "case-7-survey" {
		t.Errorf("stored nonce = %q", got)
	}

	// Without enforce_nonce, the nonce does not deduplicate.
	sendWithNonce(t, s, testChannel, nonceSend{Content: "survey", Nonce: "case-7-survey"})
	if got, want := len(f.Messages(testChannel)), 2; got != want {
		t.Errorf("history has %d messages, want %d", got, want)
	}

	// After the window the nonce is forgotten.
	clock.Advance(3 * time.Minute)
	late := sendWithNonce(t, s, testChannel, nonceSend{Content: "survey", Nonce: "case-7-survey", EnforceNonce: true})
	if late.ID == first.ID {
		t.Errorf("nonce still deduplicates after its window")
	}

	// Too long a nonce is an invalid form body.
	ep := discordgo.EndpointChannelMessages(testChannel)
	_, err := s.RequestWithBucketID("POST", ep, nonceSend{Content: "x", Nonce: strings.Repeat("n", 26), EnforceNonce: true}, ep)
	if status, code := restError(t, err); status != 400 || code != 50035 {
		t.Errorf("26-char nonce: %d code %d, want 400 code 50035", status, code)
	}
}

func TestLostResponseRetryIsDeduplicatedByNonce(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	// The first attempt is committed but answered 502; discordgo retries 502
	// with the same body, and the nonce returns the committed message.
	f.LoseResponse(RouteCreateMessage, 1, http.StatusBadGateway)
	m := sendWithNonce(t, s, testChannel, nonceSend{Content: "thanks!", Nonce: "n-1", EnforceNonce: true})
	if got, want := f.Calls(RouteCreateMessage), 2; got != want {
		t.Errorf("requests = %d, want %d", got, want)
	}
	stored := f.Messages(testChannel)
	if len(stored) != 1 || stored[0].ID != m.ID {
		t.Errorf("history = %v, want exactly the returned message %s", stored, m.ID)
	}
}

func TestPrivateThreadAndMembers(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s, ev := newClient(t, f, clientOpts{})
	th, err := s.ThreadStartComplex(testChannel, &discordgo.ThreadStart{
		Name: "case 42", Type: discordgo.ChannelTypeGuildPrivateThread, Invitable: false, AutoArchiveDuration: 1440,
	})
	if err != nil {
		t.Fatalf("thread start: %v", err)
	}
	if th.Type != discordgo.ChannelTypeGuildPrivateThread || th.ParentID != testChannel || th.GuildID != testGuild {
		t.Errorf("thread = type %d parent %q guild %q", th.Type, th.ParentID, th.GuildID)
	}
	if th.ThreadMetadata == nil || th.ThreadMetadata.Invitable {
		t.Errorf("thread metadata = %+v, want invitable false", th.ThreadMetadata)
	}
	if err := s.ThreadMemberAdd(th.ID, testAlice); err != nil {
		t.Fatalf("add member: %v", err)
	}
	if err := s.ThreadMemberAdd(th.ID, testAlice); err != nil {
		t.Fatalf("adding twice: %v", err)
	}
	if got, want := f.ThreadMembers(th.ID), []string{f.BotUserID(), testAlice}; !slices.Equal(got, want) {
		t.Errorf("members = %q, want %q", got, want)
	}
	err = s.ThreadMemberAdd(th.ID, "700000000000000999")
	if status, code := restError(t, err); status != 404 || code != 10007 {
		t.Errorf("adding a stranger: %d code %d, want 404 code 10007", status, code)
	}
	got, ok := f.Channel(th.ID)
	if !ok || got.Invitable || got.Type != ChannelTypePrivateThread || got.OwnerID != f.BotUserID() {
		t.Errorf("stored thread = %+v", got)
	}
	fetched, err := s.Channel(th.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fetched.MemberCount != 2 {
		t.Errorf("member_count = %d, want 2", fetched.MemberCount)
	}
	ev.wait(t, "THREAD_CREATE", func() bool { return len(ev.threads) == 1 })
	// Alice, now a member, can post in it.
	if _, err := f.PostAsUser(th.ID, testAlice, "here is my log"); err != nil {
		t.Errorf("member cannot post in the thread: %v", err)
	}

	// Without a type, API v9 creates a private thread.
	def, err := s.ThreadStartComplex(testChannel, &discordgo.ThreadStart{Name: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if def.Type != discordgo.ChannelTypeGuildPrivateThread {
		t.Errorf("default thread type = %d, want 12", def.Type)
	}
}

func TestThreadFromMessage(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	q, err := f.PostAsUser(testChannel, testAlice, "question")
	if err != nil {
		t.Fatal(err)
	}
	th, err := s.MessageThreadStartComplex(testChannel, q.ID, &discordgo.ThreadStart{Name: "question", AutoArchiveDuration: 60})
	if err != nil {
		t.Fatal(err)
	}
	if th.ID != q.ID || th.Type != discordgo.ChannelTypeGuildPublicThread {
		t.Errorf("thread = %s type %d, want the message ID and a public thread", th.ID, th.Type)
	}
	_, err = s.MessageThreadStartComplex(testChannel, q.ID, &discordgo.ThreadStart{Name: "again"})
	if status, code := restError(t, err); status != 400 || code != 160004 {
		t.Errorf("second thread: %d code %d, want 400 code 160004", status, code)
	}
}

func TestDirectMessages(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	dm, err := s.UserChannelCreate(testAlice)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.UserChannelCreate(testAlice)
	if err != nil {
		t.Fatal(err)
	}
	if dm.ID != again.ID || dm.Type != discordgo.ChannelTypeDM || len(dm.Recipients) != 1 || dm.Recipients[0].ID != testAlice {
		t.Errorf("DM = %+v then %s, want one DM channel with alice", dm, again.ID)
	}
	if id, ok := f.DMChannel(testAlice); !ok || id != dm.ID {
		t.Errorf("DMChannel = %q %v, want %q", id, ok, dm.ID)
	}
	if _, err := s.ChannelMessageSend(dm.ID, "How did we do?"); err != nil {
		t.Fatal(err)
	}
	f.BlockDMs(testAlice)
	_, err = s.ChannelMessageSend(dm.ID, "Reminder")
	if status, code := restError(t, err); status != 403 || code != 50007 {
		t.Errorf("blocked DM: %d code %d, want 403 code 50007", status, code)
	}
	if got, want := len(f.Messages(dm.ID)), 1; got != want {
		t.Errorf("DM history = %d messages, want %d", got, want)
	}
}

func TestRESTErrors(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	long := strings.Repeat("x", 101)
	tests := []struct {
		name       string
		do         func() error
		status     int
		code       int
		wantFields string
	}{
		{"unknown channel", func() error { _, err := s.ChannelMessageSend("1", "hi"); return err }, 404, 10003, ""},
		{"empty message", func() error {
			_, err := s.ChannelMessageSendComplex(testChannel, &discordgo.MessageSend{})
			return err
		}, 400, 50006, ""},
		{"custom_id over 100", func() error {
			_, err := s.ChannelMessageSendComplex(testChannel, &discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{
				discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.Button{Label: "b", Style: discordgo.PrimaryButton, CustomID: long}}},
			}})
			return err
		}, 400, 50035, "custom_id"},
		{"duplicate custom_id", func() error {
			_, err := s.ChannelMessageSendComplex(testChannel, &discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{
				discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.Button{Label: "a", Style: discordgo.PrimaryButton, CustomID: "same"},
					discordgo.Button{Label: "b", Style: discordgo.PrimaryButton, CustomID: "same"},
				}},
			}})
			return err
		}, 400, 50035, "COMPONENT_CUSTOM_ID_DUPLICATED"},
		{"reply to unknown message", func() error {
			_, err := s.ChannelMessageSendReply(testChannel, "hi", &discordgo.MessageReference{MessageID: "123"})
			return err
		}, 400, 50035, "message_reference"},
		{"content over 2000", func() error { _, err := s.ChannelMessageSend(testChannel, strings.Repeat("y", 2001)); return err }, 400, 50035, "content"},
		{"unknown user", func() error { _, err := s.User("42"); return err }, 404, 10013, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			status, code := restError(t, err)
			if status != tc.status || code != tc.code {
				t.Errorf("got %d code %d, want %d code %d", status, code, tc.status, tc.code)
			}
			var re *discordgo.RESTError
			_ = errors.As(err, &re)
			if !strings.Contains(string(re.ResponseBody), tc.wantFields) {
				t.Errorf("body %s does not mention %q", re.ResponseBody, tc.wantFields)
			}
		})
	}
	if got, want := len(f.Messages(testChannel)), 0; got != want {
		t.Errorf("refused messages were stored: %d", got)
	}
}

func TestRateLimitIsRetriedByDiscordgo(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s, ev := newClient(t, f, clientOpts{})
	f.RateLimit(RouteCreateMessage, 1, 20*time.Millisecond)
	if _, err := s.ChannelMessageSend(testChannel, "once"); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got, want := len(f.Messages(testChannel)), 1; got != want {
		t.Errorf("history = %d messages, want %d", got, want)
	}
	if got, want := f.Calls(RouteCreateMessage), 2; got != want {
		t.Errorf("requests = %d, want %d (one 429, one retry)", got, want)
	}
	if got, want := f.RateLimited(), 1; got != want {
		t.Errorf("429s = %d, want %d", got, want)
	}
	if got, want := f.RateLimitedCalls(RouteCreateMessage), 1; got != want {
		t.Errorf("429s of the route = %d, want %d", got, want)
	}
	ev.mu.Lock()
	n := len(ev.rateLimits)
	ev.mu.Unlock()
	if n != 1 {
		t.Errorf("discordgo saw %d rate limits, want 1", n)
	}

	// Without retries, discordgo surfaces the limit with retry_after.
	f.RateLimit(RouteCreateMessage, 1, 1500*time.Millisecond)
	_, err := s.ChannelMessageSend(testChannel, "no retry", discordgo.WithRetryOnRatelimit(false))
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) {
		t.Fatalf("got %v, want a RateLimitError", err)
	}
	if got, want := rl.RetryAfter, 1500*time.Millisecond; got != want {
		t.Errorf("retry after = %v, want %v", got, want)
	}
}

func TestRateLimitHeadersAndBucket(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{MessageLimit: Limit{Requests: 2, Window: time.Minute}})
	body := `{"content":"hi"}`
	path := "/channels/" + testChannel + "/messages"
	for i, wantRemaining := range []string{"1", "0"} {
		resp := rawRequest(t, f, "POST", path, f.Token(), body)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
		h := resp.Header
		if got := h.Get("X-RateLimit-Remaining"); got != wantRemaining {
			t.Errorf("request %d: remaining = %q, want %q", i, got, wantRemaining)
		}
		if h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Bucket") == "" || h.Get("X-RateLimit-Reset") == "" {
			t.Errorf("request %d: headers %v", i, h)
		}
		if after, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64); err != nil || after <= 0 || after > 60 {
			t.Errorf("request %d: reset-after %q", i, h.Get("X-RateLimit-Reset-After"))
		}
	}
	resp := rawRequest(t, f, "POST", path, f.Token(), body)
	if resp.StatusCode != 429 {
		t.Fatalf("third request: status %d, want 429", resp.StatusCode)
	}
	var got struct {
		Message    string  `json:"message"`
		RetryAfter float64 `json:"retry_after"`
		Global     bool    `json:"global"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("429 body %s: %v", raw, err)
	}
	if got.Message != "You are being rate limited." || got.Global || got.RetryAfter <= 0 || got.RetryAfter > 60 {
		t.Errorf("429 body = %+v", got)
	}
	if resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Scope") != "user" {
		t.Errorf("429 headers = %v", resp.Header)
	}
	// Buckets are per channel.
	other := "800000000000000011"
	f.AddChannel(testGuild, other, "other")
	if resp := rawRequest(t, f, "POST", "/channels/"+other+"/messages", f.Token(), body); resp.StatusCode != 200 {
		t.Errorf("other channel: status %d, want 200", resp.StatusCode)
	}
	if got, want := f.InvalidRequests(), 1; got != want {
		t.Errorf("invalid requests = %d, want %d", got, want)
	}
}

func TestGlobalRateLimit(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{GlobalLimit: Limit{Requests: 3, Window: time.Minute}})
	for i := range 3 {
		if resp := rawRequest(t, f, "GET", "/users/@me", f.Token(), ""); resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	resp := rawRequest(t, f, "GET", "/channels/"+testChannel, f.Token(), "")
	if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-Global") != "true" {
		t.Fatalf("fourth request: %d %v, want a global 429", resp.StatusCode, resp.Header)
	}
	var got struct {
		Global bool `json:"global"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || !got.Global {
		t.Errorf("429 body global = %v (%v), want true", got.Global, err)
	}
}

func TestFailHasNoEffect(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	f.Fail(RouteCreateMessage, 1, http.StatusInternalServerError)
	_, err := s.ChannelMessageSend(testChannel, "lost")
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response.StatusCode != 500 {
		t.Fatalf("got %v, want a 500 REST error", err)
	}
	if got := len(f.Messages(testChannel)); got != 0 {
		t.Errorf("a failed request stored %d messages", got)
	}
	if _, err := s.ChannelMessageSend(testChannel, "next"); err != nil {
		t.Errorf("the failure outlived its count: %v", err)
	}
}

func TestHoldKeepsARequestUnanswered(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	arrived, release := f.Hold(RouteCreateMessage)
	sent := make(chan error, 1)
	go func() {
		_, err := s.ChannelMessageSend(testChannel, "slow")
		sent <- err
	}()
	<-arrived
	select {
	case err := <-sent:
		t.Fatalf("a held request was answered: %v", err)
	default:
	}
	if n := len(f.Messages(testChannel)); n != 0 {
		t.Errorf("a held request took effect: %d messages", n)
	}
	release()
	if err := <-sent; err != nil {
		t.Fatalf("released request: %v", err)
	}
	if n := len(f.Messages(testChannel)); n != 1 {
		t.Errorf("%d messages after release, want 1", n)
	}
}

func TestCloseEndsAHeldRequest(t *testing.T) {
	t.Parallel()
	f := New(Options{Logf: t.Logf})
	f.AddGuild(testGuild, "Acme")
	f.AddChannel(testGuild, testChannel, "support")
	s := newSession(t, f, clientOpts{})
	arrived, _ := f.Hold(RouteCreateMessage)
	go func() { _, _ = s.ChannelMessageSend(testChannel, "never") }()
	<-arrived
	f.Close() // must not wait for the release
}

func TestCallsByRouteCountsEachRequest(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})
	before := f.CallsByRoute()[RouteCreateMessage]
	for _, text := range []string{"one", "two"} {
		if _, err := s.ChannelMessageSend(testChannel, text); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Channel(testChannel); err != nil {
		t.Fatal(err)
	}
	got := f.CallsByRoute()
	if got[RouteCreateMessage]-before != 2 || got[RouteGetChannel] < 1 {
		t.Errorf("calls by route = %v, want 2 more %s and a %s", got, RouteCreateMessage, RouteGetChannel)
	}
	got[RouteCreateMessage] = 1000
	if f.CallsByRoute()[RouteCreateMessage] == 1000 {
		t.Errorf("CallsByRoute returned the fake's own map")
	}
}
