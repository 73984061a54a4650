package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// resolvedCase runs a case from question to resolution by staff and returns its
// ID and private channel.
func resolvedCase(t *testing.T, h *bottest.Harness, who bot.Person) (int64, string) {
	t.Helper()
	h.Ask(who, "My invoice shows the wrong amount")
	cs := activeCase(t, h, who)
	h.Say(h.Staff(), cs.Staff, "Fixed, please check again")
	h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	return cs.ID, cs.Private.Channel
}

func activeCase(t *testing.T, h *bottest.Harness, who bot.Person) *bot.Case {
	t.Helper()
	var cs *bot.Case
	err := h.Store.View(context.Background(), func(tx bot.Tx) (err error) {
		cs, err = tx.ActiveCaseFor(context.Background(), who.Platform, who.ID)
		return err
	})
	if err != nil {
		t.Fatalf("active case for %s: %v", who.ID, err)
	}
	return cs
}

func TestLinkTargetsAreCountedAndFilled(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	id, private := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private, "5"), "5")
	prompt := h.WithButton(private, "Post on X")
	x, review := prompt.Button("Post on X"), prompt.Button("Review us on Trustpilot")
	if !strings.HasPrefix(x.URL, "https://x.com/intent/post?text=") || !strings.Contains(x.URL, "Acme") {
		t.Errorf("x button URL: got %q, want a pre-filled intent", x.URL)
	}
	if review.URL != "https://www.trustpilot.com/evaluate/example.com" {
		t.Errorf("review URL: got %q", review.URL)
	}
	// a tracked link click from a browser has no author; the signed ID is enough
	r := h.Handle(bot.Event{Kind: bot.EventAction, ActionID: x.ActionID})
	if r.URL != x.URL {
		t.Errorf("redirect: got %q, want %q", r.URL, x.URL)
	}
	h.Click(ada, prompt, "Post on X") // a second click counts once
	if got := len(h.Events(id, bot.KindShareClicked)); got != 1 {
		t.Errorf("share_clicked: got %d, want 1", got)
	}
	var policies []string
	for _, e := range h.Events(id, bot.KindShareOffered) {
		var d map[string]any
		_ = json.Unmarshal(e.Detail, &d)
		policies = append(policies, d["target"].(string)+":"+d["policy"].(string))
	}
	if got, want := strings.Join(policies, ","), "showcase:satisfied,x:satisfied,trustpilot:everyone"; got != want {
		t.Errorf("offers with policies: got %s, want %s", got, want)
	}
}

func TestRecoveryAfterUnhappyRating(t *testing.T) {
	h := bottest.New(t, bottest.Configure(func(c *bot.Config) { c.Share.Cooldown = 0 }))
	ada := h.Person("u-ada", "Ada")
	id, private := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private, "2"), "2")
	cs := h.Case(id)
	h.Say(h.Staff(), cs.Staff, "Sorry, fixed properly now")
	h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	h.Click(ada, h.WithButton(private, "5"), "5")

	rated := h.Events(id, bot.KindRated)
	if len(rated) != 2 {
		t.Fatalf("rated: got %d, want 2", len(rated))
	}
	var last map[string]any
	_ = json.Unmarshal(rated[1].Detail, &last)
	if last["recovery"] != true {
		t.Errorf("second rating: got %v, want recovery", last)
	}
	rows, err := h.Store.Funnel(context.Background(), bot.FunnelQuery{})
	if err != nil || len(rows) != 1 || rows[0].Recoveries != 1 {
		t.Errorf("funnel recoveries: got %+v, %v; want 1", rows, err)
	}
	if got := len(h.Messages("support")); got != 3 { // question, taken private, resolved once
		t.Errorf("public channel: got %d messages, want 3 (the loop is closed once)", got)
	}
}

func TestReminderOnceThenExpiry(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	id, private := resolvedCase(t, h, ada)
	h.Advance(23 * time.Hour)
	if got := h.Events(id, bot.KindSurveyReminded); len(got) != 0 {
		t.Fatalf("reminded before 24h")
	}
	h.Advance(2 * time.Hour)
	h.Advance(48 * time.Hour)
	if got := len(h.Events(id, bot.KindSurveyReminded)); got != 1 {
		t.Errorf("reminders: got %d, want exactly 1", got)
	}
	h.Advance(7 * 24 * time.Hour)
	if got := len(h.Events(id, bot.KindSurveyExpired)); got != 1 {
		t.Errorf("expiry: got %d, want 1", got)
	}
	if got, want := h.Case(id).Status, bot.StatusClosed; got != want {
		t.Errorf("status: got %s, want %s", got, want)
	}
	if p := h.WithButton(private, "5"); p != nil {
		t.Errorf("survey buttons still live after expiry: %q", p.Msg.Text)
	}
}

func TestOptOutAndCooldown(t *testing.T) {
	h := bottest.New(t)
	ada, bob := h.Person("u-ada", "Ada"), h.Person("u-bob", "Bob")

	_, private := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private, "5"), "5")
	h.Click(ada, h.WithButton(private, "No thanks"), "No thanks")
	// a second satisfied case within 30 days: no prompt (cooldown)
	id2, private2 := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private2, "5"), "5")
	if got := len(h.Events(id2, bot.KindShareOffered)); got != 0 {
		t.Errorf("offers within cooldown: got %d, want 0", got)
	}
	// after the cooldown she is asked again
	h.Advance(31 * 24 * time.Hour)
	id3, private3 := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private3, "5"), "5")
	if got := len(h.Events(id3, bot.KindShareOffered)); got == 0 {
		t.Errorf("no offer after the cooldown")
	}

	// "Don't ask me again" is honoured forever
	_, bobPrivate := resolvedCase(t, h, bob)
	h.Click(bob, h.WithButton(bobPrivate, "5"), "5")
	h.Click(bob, h.WithButton(bobPrivate, "Don't ask me again"), "Don't ask me again")
	h.Advance(400 * 24 * time.Hour)
	id5, bobPrivate2 := resolvedCase(t, h, bob)
	h.Click(bob, h.WithButton(bobPrivate2, "5"), "5")
	if got := len(h.Events(id5, bot.KindShareOffered)); got != 0 {
		t.Errorf("offers after opt-out: got %d, want 0", got)
	}
	if got := len(h.Events(id5, bot.KindShareSuppressed)); got != 1 {
		t.Errorf("share_suppressed after opt-out: got %d, want 1", got)
	}
}

func TestOnlyTheCustomerMayAnswer(t *testing.T) {
	h := bottest.New(t)
	ada, eve := h.Person("u-ada", "Ada"), h.Person("u-eve", "Eve")
	id, private := resolvedCase(t, h, ada)
	r := h.Click(eve, h.WithButton(private, "5"), "5")
	if !strings.Contains(r.Ephemeral, "Only the customer") {
		t.Errorf("wrong user's click: got reply %q, want an explanation", r.Ephemeral)
	}
	if got := len(h.Events(id, bot.KindRated)); got != 0 {
		t.Errorf("ratings after a wrong user's click: got %d, want 0", got)
	}
	r = h.Click(ada, h.WithButton(private, "Not fixed yet"), "Not fixed yet")
	if r.Ephemeral != "" {
		t.Errorf("customer's own click refused: %q", r.Ephemeral)
	}
	// staff controls refuse the customer
	cs := h.Case(id)
	r = h.Click(ada, h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	if !strings.Contains(r.Ephemeral, "Only staff") || h.Case(id).Status == bot.StatusResolved {
		t.Errorf("customer pressing Resolve: got %q, status %s", r.Ephemeral, h.Case(id).Status)
	}
}

func TestTamperedButtonIsRefused(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	id, private := resolvedCase(t, h, ada)
	b := h.WithButton(private, "1").Button("1")
	for _, forged := range []string{
		strings.Replace(b.ActionID, ".rate.1.", ".rate.5.", 1),
		b.ActionID + "x",
		"a1.1.1.rate.5.AAAAAAAAAAAAAAAA",
		"garbage",
		strings.Repeat("a", 500),
	} {
		r := h.Handle(bot.Event{Kind: bot.EventAction, Author: ada, ActionID: forged})
		if !strings.Contains(r.Ephemeral, "not valid") {
			t.Errorf("forged %q: got reply %q, want refusal", forged, r.Ephemeral)
		}
	}
	if got := len(h.Events(id, bot.KindRated)); got != 0 {
		t.Errorf("ratings after forged clicks: got %d, want 0", got)
	}
}

func TestDuplicateDeliveryHasOneEffect(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	ev := bot.Event{ID: "Ev-same", Kind: bot.EventMessage, Where: bot.Ref{Channel: "support", Message: "q1"},
		Author: ada, Text: "help", Support: true}
	for range 3 {
		h.Handle(ev)
	}
	cs := activeCase(t, h, ada)
	if got := bottest.Count(h.Kinds(cs.ID), bot.KindAskedPublic); got != 1 {
		t.Errorf("asked_public: got %d, want 1", got)
	}
	if got := len(h.Messages("support")); got != 1 {
		t.Errorf("public replies: got %d, want 1", got)
	}
}

func TestRestartBetweenResolveAndRating(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	id, private := resolvedCase(t, h, ada)
	h.Restart()
	h.Advance(25 * time.Hour) // the reminder timer survived the restart
	if got := len(h.Events(id, bot.KindSurveyReminded)); got != 1 {
		t.Errorf("reminders after restart: got %d, want 1", got)
	}
	h.Restart()
	h.Click(ada, h.WithButton(private, "4"), "4")
	if got := len(h.Events(id, bot.KindRated)); got != 1 {
		t.Errorf("rating after restart: got %d, want 1", got)
	}
	for _, p := range h.Messages(private) {
		if p.Button("4") != nil {
			t.Errorf("a survey message still has score buttons after rating: %q", p.Msg.Text)
		}
	}
}

func TestClosedDMFallsBackToPublicThread(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ada := h.Person("u-ada", "Ada")
	h.Ask(ada, "help")
	cs := activeCase(t, h, ada)
	h.Platform.CloseDMs("u-ada")
	h.Click(h.Staff(), h.WithButton("staff", "Resolve"), "Resolve")
	survey := h.WithButton("support", "5")
	if survey == nil || survey.Ref.Thread == "" {
		t.Fatalf("survey not posted in the public thread: %+v", survey)
	}
	sent := h.Events(cs.ID, bot.KindSurveySent)
	if len(sent) != 1 || !strings.Contains(string(sent[0].Detail), `"place":"public"`) {
		t.Errorf("survey_sent: got %v, want one with place public", sent)
	}
}

func TestUndeliverableSurveyIsRecorded(t *testing.T) {
	h := bottest.New(t, bottest.DMs())
	ada := h.Person("u-ada", "Ada")
	// a case opened by DM has no public thread to fall back to
	h.Say(ada, bot.Ref{Channel: "dm-u-ada"}, "help me")
	cs := activeCase(t, h, ada)
	h.Platform.CloseDMs("u-ada")
	h.Click(h.Staff(), h.WithButton("staff", "Resolve"), "Resolve")
	if got := len(h.Events(cs.ID, bot.KindSurveyUndeliverable)); got != 1 {
		t.Errorf("survey_undeliverable: got %d, want 1", got)
	}
}

func TestSLABreachNudgesOnce(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	h.Ask(ada, "help")
	cs := activeCase(t, h, ada)
	h.Advance(59 * time.Minute)
	if h.Find("staff", "no staff response") != nil {
		t.Fatal("nudged before the SLA")
	}
	h.Advance(2 * time.Minute)
	h.Advance(5 * time.Hour)
	if got := len(h.Events(cs.ID, bot.KindSLABreached)); got != 1 {
		t.Errorf("sla_breached: got %d, want 1", got)
	}
	nudges := 0
	for _, p := range h.Messages("staff") {
		if strings.Contains(p.Msg.Text, "no staff response") {
			nudges++
		}
	}
	if nudges != 1 {
		t.Errorf("staff nudges: got %d, want 1", nudges)
	}
}

func TestProactiveNotice(t *testing.T) {
	h := bottest.New(t)
	ada, bob := h.Person("u-ada", "Ada"), h.Person("u-bob", "Bob")
	h.Ask(ada, "login broken")
	h.Ask(bob, "cannot log in")
	r := h.Handle(bot.Event{Kind: bot.EventCommand, Command: bot.CmdNotice, Author: h.Staff(),
		Text: "Login is down, fix within the hour", Fields: map[string]string{"channel": "support"}})
	if !strings.Contains(r.Ephemeral, "2 customer") {
		t.Errorf("notice reply: got %q", r.Ephemeral)
	}
	for _, p := range []bot.Person{ada, bob} {
		cs := activeCase(t, h, p)
		if h.Find(cs.Private.Channel, "Login is down") == nil {
			t.Errorf("%s did not get the notice", p.Name)
		}
	}
	r = h.Handle(bot.Event{Kind: bot.EventCommand, Command: bot.CmdNotice, Author: ada, Text: "spam", Fields: map[string]string{"channel": "support"}})
	if !strings.Contains(r.Ephemeral, "Only staff") {
		t.Errorf("notice by a customer: got %q, want refusal", r.Ephemeral)
	}
}

func TestForgetErasesPersonKeepsCounts(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	id, private := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private, "5"), "5")
	var n int
	err := h.Store.Update(context.Background(), func(tx bot.Tx) (err error) {
		n, err = tx.Forget(context.Background(), ada.Platform, ada.ID)
		return err
	})
	if err != nil || n != 1 {
		t.Fatalf("forget: got %d, %v", n, err)
	}
	cs := h.Case(id)
	if cs.Customer.ID == ada.ID || cs.Customer.Name != "" || cs.Question != "" {
		t.Errorf("case after forget still identifies the person: %+v", cs.Customer)
	}
	for _, e := range h.Events(id, bot.KindMessage) {
		if strings.Contains(string(e.Detail), "invoice") {
			t.Errorf("transcript kept after forget: %s", e.Detail)
		}
	}
	rows, err := h.Store.Funnel(context.Background(), bot.FunnelQuery{})
	if err != nil || len(rows) != 1 || rows[0].Counts[0] != 1 || rows[0].Counts[5] != 1 {
		t.Errorf("funnel after forget: got %+v, %v; want the case still counted", rows, err)
	}
}

func TestRelayRetriesAndHonoursRetryAfter(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	h.Platform.FailNext(&bot.RetryAfterError{After: 30 * time.Second, Err: context.DeadlineExceeded})
	h.Ask(ada, "help")
	if got := len(h.Messages("support")); got != 1 {
		t.Fatalf("posted despite the rate limit: %d messages", got)
	}
	h.Advance(29 * time.Second)
	if got := len(h.Messages("support")); got != 1 {
		t.Fatalf("retried before Retry-After: %d messages", got)
	}
	h.Advance(2 * time.Second)
	cs := activeCase(t, h, ada)
	if got := len(h.Messages("support")); got != 2 || cs.Private.IsZero() {
		t.Errorf("after Retry-After: %d public messages, private %+v; want the reply and the private conversation", got, cs.Private)
	}
}

// A staff note typed on the customer's side is hidden (Reply.Hide, for an
// adapter that can keep it from the customer at once); a reply there is not.
// That it is deleted everywhere is the suite's NoteTypedOnTheCustomerSideIsTakenAway.
func TestNoteOnTheCustomerSideIsHidden(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	h.Ask(ada, "help")
	cs := activeCase(t, h, ada)
	for _, tt := range []struct {
		text string
		hide bool
	}{{"!note reseller, check the contract", true}, {"Let me check", false}} {
		r := h.Handle(bot.Event{Kind: bot.EventMessage, Where: bot.Ref{Channel: cs.Private.Channel, Message: "m-" + tt.text},
			Author: h.Staff(), Text: tt.text})
		if r.Hide != tt.hide {
			t.Errorf("%q on the customer's side: Hide %v, want %v", tt.text, r.Hide, tt.hide)
		}
	}
}

// Notes never reach the customer, whatever store.keep_message_text is: a note
// on the staff side stays there, one typed on the customer's side is deleted
// there and copied to the staff side.
func TestNotesStayOffTheCustomerSideWithOrWithoutText(t *testing.T) {
	for _, keep := range []bool{true, false} {
		h := bottest.New(t, bottest.Configure(func(c *bot.Config) { c.KeepText = keep }))
		ada := h.Person("u-ada", "Ada")
		h.Ask(ada, "help")
		cs := activeCase(t, h, ada)
		h.Say(h.Staff(), cs.Staff, "!note staff-side-note")
		h.Say(h.Staff(), cs.Private, "!note customer-side-note")
		for _, p := range h.Messages(cs.Private.Channel) {
			if strings.Contains(p.Msg.Text, "-note") {
				t.Errorf("keep_message_text %v: the customer's side shows %q", keep, p.Msg.Text)
			}
		}
		if h.Find(cs.Staff.Channel, "customer-side-note") == nil {
			t.Errorf("keep_message_text %v: the note typed on the customer's side was not copied to the staff side", keep)
		}
	}
}

// TestButtonsFromBeforeAReopenAreRefused: a copy of the comment button or of
// a share offer kept from before the case was reopened (a client that missed
// the update) opens nothing, and the round's offers are withdrawn.
func TestButtonsFromBeforeAReopenAreRefused(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	id, private := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private, "5"), "5")
	comment, share := *h.WithButton(private, "Add a comment"), *h.WithButton(private, "Post in #showcase")
	h.Click(h.Staff(), h.WithButton(h.Case(id).Staff.Channel, "Reopen"), "Reopen")
	for _, stale := range []struct {
		post  bottest.Post
		label string
	}{{comment, "Add a comment"}, {share, "Post in #showcase"}} {
		r := h.Click(ada, &stale.post, stale.label)
		if r.Modal != nil || !strings.Contains(r.Ephemeral, "no longer available") {
			t.Errorf("%q pressed after the reopen: got modal %v, answer %q; want it refused", stale.label, r.Modal != nil, r.Ephemeral)
		}
	}
	for _, o := range h.Offers(id) {
		if o.State != bot.OfferExpired {
			t.Errorf("offer %s after the reopen: %s, want %s", o.Target, o.State, bot.OfferExpired)
		}
	}
}

// TestClaimFromAStaleControlsMessage: the controls lose their Claim button
// once the case is claimed; a copy of it that a client still showed claims
// nothing and says who has the case.
func TestClaimFromAStaleControlsMessage(t *testing.T) {
	h := bottest.New(t)
	ada, lee := h.Person("u-ada", "Ada"), h.Person("staff2", "Lee")
	h.Ask(ada, "My account is locked")
	cs := activeCase(t, h, ada)
	stale := *h.WithButton(cs.Staff.Channel, "Claim")
	h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Claim"), "Claim")
	if p := h.WithButton(cs.Staff.Channel, "Claim"); p != nil {
		t.Errorf("a claimed case's controls still offer Claim: %q", p.Msg.Text)
	}
	if r := h.Click(lee, &stale, "Claim"); !strings.Contains(r.Ephemeral, "Sam is already handling case #1") {
		t.Errorf("Lee pressing a stale Claim was told %q, want who has the case", r.Ephemeral)
	}
	if got := h.Case(cs.ID).Assignee; got != "staff1" {
		t.Errorf("assignee after the stale claim: got %q, want staff1", got)
	}
}

// TestOptOutClosesThePromptsOfEarlierCases: with prompts that never expire,
// a prompt of an earlier case is still open when the customer opts out on a
// later one; it loses its buttons too, and its offers are withdrawn. A "No
// thanks" kept from a closed prompt records nothing.
func TestOptOutClosesThePromptsOfEarlierCases(t *testing.T) {
	h := bottest.New(t, bottest.Configure(func(c *bot.Config) { c.Share.PromptExpireAfter = 0 }))
	ada := h.Person("u-ada", "Ada")
	first, private1 := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private1, "5"), "5")
	noThanks := *h.WithButton(private1, "No thanks")
	h.Advance(31 * 24 * time.Hour) // past the cooldown
	_, private2 := resolvedCase(t, h, ada)
	h.Click(ada, h.WithButton(private2, "5"), "5")
	h.Click(ada, h.WithButton(private2, "Don't ask me again"), "Don't ask me again")

	if p := h.WithButton(private1, "Post in #showcase"); p != nil {
		t.Errorf("the first case's prompt is still open after the opt-out: %q", p.Msg.Text)
	}
	for _, o := range h.Offers(first) {
		if o.State != bot.OfferExpired {
			t.Errorf("first case's offer %s after the opt-out: %s, want %s", o.Target, o.State, bot.OfferExpired)
		}
	}
	if r := h.Click(ada, &noThanks, "No thanks"); !strings.Contains(r.Ephemeral, "no longer available") {
		t.Errorf("a stale No thanks was answered %q, want that the offer is gone", r.Ephemeral)
	}
	if got := len(h.Events(first, bot.KindShareDeclined)); got != 0 {
		t.Errorf("share_declined on the first case: got %d, want 0", got)
	}
}
