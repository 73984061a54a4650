package slack_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack"
	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// The conversation itself is the shared suite's (suite_test.go). These tests
// check what only Slack has: replies threaded under the question and the
// case's root, escaping, link buttons that report their click, the DM as the
// answer to a modal, redeliveries, socket reconnection, rate limits,
// signatures, slash commands and shortcuts.

// TestSlackShapeOfAConversation follows a question to a testimonial and
// checks how each step looks on Slack.
func TestSlackShapeOfAConversation(t *testing.T) {
	modes(t, func(t *testing.T, mode string) {
		e := newEnv(t, mode)
		dm := e.fake.DMChannel(adaID)

		q := e.say(adaID, supportID, "My invoice shows the wrong amount & <!channel> help")
		taken := e.botMessage(supportID, "taken this to a private conversation")
		if got, want := taken.ThreadTS, q.TS; got != want {
			t.Errorf("taken-private reply: got thread %q, want under the question %q", got, want)
		}
		intro := e.withButton(dm, "My problem is solved")
		if !strings.Contains(intro.Text, "private conversation with the Acme support team") {
			t.Errorf("intro: got %q", intro.Text)
		}
		// an @channel mention in the question is plain text in the DM: it pings nobody
		if !strings.Contains(intro.Text, "wrong amount &amp; @channel help") || strings.Contains(intro.Text, "<!channel>") {
			t.Errorf("intro: got %q, want the quoted question as escaped plain text", intro.Text)
		}
		root := e.staffRoot(1)
		controls := e.withButton(staffID, "Resolve")
		if got, want := controls.ThreadTS, root.TS; got != want {
			t.Fatalf("staff controls: got thread %q, want the case thread %q", got, want)
		}

		e.say(adaID, dm, "It is invoice 42")
		relayed := e.botMessage(staffID, "Ada: It is invoice 42")
		if got, want := relayed.ThreadTS, root.TS; got != want {
			t.Errorf("customer message relayed to thread %q, want %q", got, want)
		}
		e.reply(samID, staffID, root.TS, "Fixed, please check again")
		e.botMessage(dm, "Sam: Fixed, please check again")

		e.click(samID, controls, "Resolve")
		resolved := e.botMessage(supportID, "Resolved privately")
		if got, want := resolved.ThreadTS, q.TS; got != want {
			t.Errorf("resolved reply: got thread %q, want under the question %q", got, want)
		}
		survey := e.withButton(dm, "5")
		e.click(adaID, survey, "5")
		prompt := e.withButton(dm, "Post in #showcase")
		e.waitFor("the used survey buttons to disappear", func() bool {
			m, ok := e.fake.Message(dm, survey.TS)
			return ok && !hasButton(m, "5") && strings.Contains(m.Text, "Your answer is recorded")
		})

		// a link button opens X in the browser and still reports the click
		e.click(adaID, prompt, "Post on X")

		// a comment first: its modal's submission is answered in Ada's DM
		e.click(adaID, e.withButton(dm, "Add a comment"), "Add a comment")
		comment := e.openView(adaID, 1)
		e.submit(comment.ID, map[string]string{"comment": "Sam was quick"})
		e.waitFor("the thanks for the comment", func() bool {
			for _, m := range e.fake.Ephemerals(dm) {
				if m.User == adaID && strings.Contains(m.Text, "Thanks for your comment") {
					return true
				}
			}
			return false
		})

		e.click(adaID, prompt, "Post in #showcase")
		view := e.openView(adaID, 2)
		if view.PrivateMetadata == "" || !strings.Contains(string(view.Blocks), "Sam was quick") {
			t.Errorf("preview: got metadata %q blocks %s, want the comment as the draft", view.PrivateMetadata, view.Blocks)
		}
		e.submit(view.ID, map[string]string{"text": "Sam fixed my invoice in minutes!"})

		post := e.botMessage(showcaseID, "Sam fixed my invoice in minutes!")
		if got := e.botMessages(showcaseID, ""); len(got) != 1 {
			t.Errorf("showcase: got %d posts, want exactly the testimonial", len(got))
		}
		if !strings.Contains(post.Text, "— Ada") {
			t.Errorf("testimonial: got %q, want it attributed to Ada", post.Text)
		}
		e.botMessage(dm, "Your post is live")
		e.settled()

		// survey_sent is recorded when the survey's delivery commits, which can be
		// after a quick click on it: it is checked apart from the order
		kinds := e.kinds(1)
		if !bottest.HasKinds(kinds, bot.KindAskedPublic, bot.KindTakenPrivate, bot.KindFirstStaffResponse, bot.KindResolved,
			bot.KindRated, bot.KindShareOffered, bot.KindShareClicked, bot.KindShared) || bottest.Count(kinds, bot.KindSurveySent) != 1 {
			t.Errorf("funnel: got %v", kinds)
		}
		if got, want := bottest.Count(kinds, bot.KindShareClicked), 2; got != want {
			t.Errorf("share clicks: got %d, want %d (the X link and the community post)", got, want)
		}
		logs := e.logs.String()
		for _, secret := range []string{"invoice", "Sam fixed", e.fake.BotToken(), e.fake.AppToken(), e.fake.SigningSecret()} {
			if strings.Contains(logs, secret) {
				t.Errorf("the log contains %q", secret)
			}
		}
	})
}

func TestSameEventThreeTimesIsOneCase(t *testing.T) {
	modes(t, func(t *testing.T, mode string) {
		e := newEnv(t, mode)
		q, err := e.fake.PostAsUser(adaID, supportID, "", "Where is my order?")
		if err != nil {
			t.Fatal(err)
		}
		ev, err := e.fake.MessageEvent(q)
		if err != nil {
			t.Fatal(err)
		}
		body, _, err := e.fake.EventCallbackBody(ev)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if mode == slack.ModeSocket {
				e.waitAck(e.fake.SendEnvelope("events_api", body, false))
			} else {
				e.deliver("/slack/events", body, slackfake.JSONContentType)
			}
		}
		e.staffRoot(1)
		e.withButton(staffID, "Resolve")
		e.settled()
		if got := len(e.cases()); got != 1 {
			t.Errorf("cases: got %d, want 1", got)
		}
		if got := len(e.threadReplies(supportID, q.TS)); got != 1 {
			t.Errorf("public replies under the question: got %d, want 1", got)
		}
		if got := len(e.botMessages(e.fake.DMChannel(adaID), "private conversation")); got != 1 {
			t.Errorf("DM intros: got %d, want 1", got)
		}
		if got := len(e.botMessages(staffID, "Case #")); got != 3 {
			t.Errorf("staff messages naming the case: got %d, want the root, the staff intro and the controls", got)
		}
	})
}

func TestSocketReconnectLosesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slack.ModeSocket, withFake(slackfake.WithAckTimeout(2*time.Second)))
	dm := e.fake.DMChannel(adaID)
	e.say(adaID, supportID, "My card was charged twice")
	root := e.staffRoot(1)
	e.withButton(staffID, "Resolve")

	e.waitFor("connected", func() bool { return e.adapter.Connected() == nil })
	before := e.fake.Connections()
	if n := e.fake.RequestReconnect(); n == 0 {
		t.Fatal("no socket to refresh")
	}
	p, err := e.fake.UserSays(adaID, dm, "First after the refresh")
	if err != nil {
		t.Fatal(err)
	}
	e.waitAck(p.EnvelopeID)
	e.waitFor("a new connection", func() bool { return e.fake.Connections() > before })
	e.waitFor("connected again", func() bool { return e.adapter.Connected() == nil })

	e.fake.DropConnections()
	p, err = e.fake.UserSays(adaID, dm, "Second after a dropped socket")
	if err != nil {
		t.Fatal(err)
	}
	e.waitAck(p.EnvelopeID)
	e.reply(samID, staffID, root.TS, "Refund on its way")
	e.botMessage(dm, "Sam: Refund on its way")
	e.settled()

	for _, text := range []string{"Ada: First after the refresh", "Ada: Second after a dropped socket"} {
		var n int
		for _, m := range e.threadReplies(staffID, root.TS) {
			if strings.Contains(m.Text, text) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%q in the case thread: got %d, want exactly 1", text, n)
		}
	}
}

func TestRateLimitStormDeliversEverythingOnceInOrder(t *testing.T) {
	modes(t, func(t *testing.T, mode string) {
		e := newEnv(t, mode)
		dm := e.fake.DMChannel(adaID)
		// every other post is refused for a while; Retry-After: 0 keeps the test fast
		e.fake.RateLimit("chat.postMessage", 3, 0)
		q := e.say(adaID, supportID, "Storm question")
		root := e.staffRoot(1)
		e.withButton(staffID, "Resolve")
		e.settled()

		e.fake.RateLimitChannel(staffID, 3, 0)
		for i := 1; i <= 4; i++ {
			e.say(adaID, dm, fmt.Sprintf("part %d", i))
		}
		e.botMessage(staffID, "Ada: part 4")
		e.settled()

		if got := e.fake.RateLimitedCalls("chat.postMessage"); got < 6 {
			t.Errorf("429s served: got %d, want at least 6", got)
		}
		var thread []string
		for _, m := range e.threadReplies(staffID, root.TS) {
			thread = append(thread, m.Text)
		}
		want := []string{"Case #1 from Ada", "Case #1 is open", "Ada: part 1", "Ada: part 2", "Ada: part 3", "Ada: part 4"}
		if len(thread) != len(want) {
			t.Fatalf("case thread: got %d messages %q, want %d", len(thread), thread, len(want))
		}
		for i := range want {
			if !strings.HasPrefix(thread[i], want[i]) {
				t.Errorf("case thread message %d: got %q, want it to start with %q", i, thread[i], want[i])
			}
		}
		if got := len(e.threadReplies(supportID, q.TS)); got != 1 {
			t.Errorf("public replies: got %d, want 1", got)
		}
		if got := len(e.botMessages(dm, "")); got != 1 {
			t.Errorf("DM messages: got %d, want the intro once", got)
		}
		if got := len(e.botMessages(staffID, "Case #1:")); got != 1 {
			t.Errorf("case roots: got %d, want 1", got)
		}
	})
}

func TestForgedAndStaleSignaturesAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, slack.ModeHTTP)
	q, err := e.fake.PostAsUser(adaID, supportID, "", "forged question")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.fake.MessageEvent(q)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := e.fake.EventCallbackBody(ev)
	if err != nil {
		t.Fatal(err)
	}
	form, err := e.fake.SlashCommandForm(adaID, supportID, "/support", "forged command")
	if err != nil {
		t.Fatal(err)
	}
	forgeries := []slackfake.Forgery{slackfake.BadSignature, slackfake.StaleTimestamp, slackfake.MissingSignature, slackfake.TamperedBody}
	for _, f := range forgeries {
		for _, r := range []struct {
			path, contentType string
			body              []byte
		}{
			{"/slack/events", slackfake.JSONContentType, body},
			{"/slack/commands", slackfake.FormContentType, []byte(form.Encode())},
		} {
			a := e.fake.DeliverForged(e.ctx, e.url+r.path, r.body, r.contentType, f)
			if a.Status != 401 {
				t.Errorf("forgery %d on %s: got status %d, want 401", f, r.path, a.Status)
			}
		}
	}
	e.settled()
	if got := len(e.cases()); got != 0 {
		t.Fatalf("cases after forged requests: got %d, want 0", got)
	}
	if got := len(e.threadReplies(supportID, q.TS)); got != 0 {
		t.Errorf("replies to a forged question: got %d, want 0", got)
	}
	if got, want := strings.Count(e.logs.String(), "signature check failed"), 2*len(forgeries); got != want {
		t.Errorf("refusals logged: got %d, want %d", got, want)
	}
	// the same body, properly signed, is accepted
	e.deliver("/slack/events", body, slackfake.JSONContentType)
	e.staffRoot(1)
}

func TestOtherUsersCannotPressTheCustomersButtons(t *testing.T) {
	modes(t, func(t *testing.T, mode string) {
		e := newEnv(t, mode)
		dm := e.fake.DMChannel(adaID)
		q := e.say(adaID, supportID, "Password reset mail never arrives")
		e.withButton(dm, "My problem is solved")
		// Ada turns off the bot's DMs: the survey falls back to the public thread
		e.fake.FailPosts(dm, "messages_tab_disabled")
		e.click(samID, e.withButton(staffID, "Resolve"), "Resolve")
		survey := e.withButton(supportID, "5")
		if got, want := survey.ThreadTS, q.TS; got != want {
			t.Fatalf("fallback survey: got thread %q, want under the question %q", got, want)
		}

		e.click(bobID, survey, "5")
		e.waitFor("Bob's ephemeral refusal", func() bool {
			for _, m := range e.fake.Ephemerals(supportID) {
				if m.User == bobID && strings.Contains(m.Text, "Only the customer of this case") {
					return true
				}
			}
			return false
		})
		for _, m := range e.fake.Ephemerals(supportID) {
			if m.User != bobID {
				t.Errorf("ephemeral shown to %s, want only the clicker", m.User)
			}
		}
		if kinds := e.kinds(1); bottest.Count(kinds, bot.KindRated) != 0 {
			t.Fatalf("Bob's click was recorded as a rating: %v", kinds)
		}

		e.click(adaID, survey, "5") // acknowledged once committed
		if got := bottest.Count(e.kinds(1), bot.KindRated); got != 1 {
			t.Errorf("ratings after Ada's click: got %d, want 1", got)
		}
	})
}

func TestCommandsAndShortcut(t *testing.T) {
	modes(t, func(t *testing.T, mode string) {
		e := newEnv(t, mode)
		dm := e.fake.DMChannel(adaID)

		// /support without text asks for the question in a modal
		e.command(adaID, supportID, "/support", "")
		view := e.openView(adaID, 1)
		e.submit(view.ID, map[string]string{"text": "My export is empty"})
		intro := e.withButton(dm, "My problem is solved")
		if !strings.Contains(intro.Text, "My export is empty") {
			t.Errorf("intro: got %q, want the question from the modal", intro.Text)
		}
		e.botMessage(supportID, "taken this to a private conversation")

		stats := ephemeralText(t, e.command(samID, staffID, "/advocate", "stats 30d"))
		if !strings.Contains(stats, "Advocacy funnel, last 30 days") {
			t.Errorf("stats: got %q", stats)
		}
		if got := ephemeralText(t, e.command(bobID, supportID, "/advocate", "stats")); !strings.Contains(got, "Only staff") {
			t.Errorf("stats for a non-staff member: got %q, want a refusal", got)
		}
		if got := ephemeralText(t, e.command(samID, staffID, "/advocate", "dance")); !strings.Contains(got, "Usage") {
			t.Errorf("unknown subcommand: got %q, want the usage", got)
		}
		sent := ephemeralText(t, e.command(samID, staffID, "/advocate", "notice <#"+supportID+"|support> Payments are delayed today"))
		if !strings.Contains(sent, "Notice sent to 1 customer") {
			t.Errorf("notice: got %q", sent)
		}
		e.botMessage(dm, "Payments are delayed today")

		// staff bring Bob's question in #random to support
		m := e.say(bobID, randomID, "How do I invite my team?")
		e.shortcut(samID, m, "get_help")
		bobIntro := e.withButton(e.fake.DMChannel(bobID), "My problem is solved")
		if !strings.Contains(bobIntro.Text, "How do I invite my team?") {
			t.Errorf("Bob's intro: got %q", bobIntro.Text)
		}
		taken := e.botMessage(randomID, "taken this to a private conversation")
		if got, want := taken.ThreadTS, m.TS; got != want {
			t.Errorf("taken-private reply in #random: got thread %q, want under Bob's message %q", got, want)
		}
		e.settled()
		cs := e.cases()
		if len(cs) != 2 || cs[0].Customer.ID != bobID {
			t.Errorf("cases: got %d, newest for %v, want Bob's case second", len(cs), cs[0].Customer)
		}
	})
}

// ephemeralText reads the text of a slash command's immediate response.
func ephemeralText(t *testing.T, body []byte) string {
	t.Helper()
	var r struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("command response %q: %v", body, err)
	}
	if r.ResponseType != "ephemeral" {
		t.Errorf("response_type: got %q, want ephemeral", r.ResponseType)
	}
	return r.Text
}
