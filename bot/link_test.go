package bot_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// codeRE finds a link code in the answer to /link.
var codeRE = regexp.MustCompile(`\b[0-9A-Z]{4}-[0-9A-Z]{4}\b`)

// linkCode runs /link as who and returns the code they were given.
func linkCode(t *testing.T, h *bottest.Harness, who bot.Person) string {
	t.Helper()
	r := h.Command(who, bot.CmdLink, "")
	code := codeRE.FindString(r.Ephemeral)
	if code == "" {
		t.Fatalf("/link as %s: answer %q has no code", who.ID, r.Ephemeral)
	}
	return code
}

// linkBoth links who on h's platform with who2 on h2's, the way a person
// does: /link on one, /link CODE on the other.
func linkBoth(t *testing.T, h *bottest.Harness, who bot.Person, h2 *bottest.Harness, who2 bot.Person) {
	t.Helper()
	code := linkCode(t, h, who)
	if r := h2.Command(who2, bot.CmdLink, code); !strings.Contains(r.Ephemeral, "Linked") {
		t.Fatalf("/link %s as %s: got %q, want linked", code, who2.ID, r.Ephemeral)
	}
}

// satisfied runs a case of who to a satisfied rating and returns it.
func satisfied(t *testing.T, h *bottest.Harness, who bot.Person) int64 {
	t.Helper()
	id, private := resolvedCase(t, h, who)
	h.Click(who, h.WithButton(private, "5"), "5")
	return id
}

// suppressed is the reason the case's share prompt was not sent, or "".
func suppressed(h *bottest.Harness, id int64) string {
	evs := h.Events(id, bot.KindShareSuppressed)
	if len(evs) == 0 {
		return ""
	}
	return string(evs[len(evs)-1].Detail)
}

func identities(t *testing.T, h *bottest.Harness, p bot.Person) []bot.Identity {
	t.Helper()
	var ids []bot.Identity
	err := h.Store.View(context.Background(), func(tx bot.Tx) (err error) {
		ids, err = tx.Identities(context.Background(), bot.Identity{Platform: p.Platform, ID: p.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// The same person on Slack and on Discord: "Don't ask me again" said on one
// holds on the other once they are linked, and not before (nothing is
// guessed, not even from the same user ID and name).
func TestOptOutHoldsAcrossLinkedPlatforms(t *testing.T) {
	slack := bottest.New(t, bottest.DMs())
	discord := slack.On(bot.Discord, false)
	adaS, adaD := slack.Person("u-ada", "Ada"), discord.Person("u-ada", "Ada")

	_, private := resolvedCase(t, slack, adaS)
	slack.Click(adaS, slack.WithButton(private, "5"), "5")
	slack.Click(adaS, slack.WithButton(private, "Don't ask me again"), "Don't ask me again")

	before := satisfied(t, discord, adaD)
	if got := len(discord.Events(before, bot.KindShareOffered)); got == 0 || suppressed(discord, before) != "" {
		t.Errorf("Discord before linking: got %d offers, suppressed %q; want a prompt (nothing guessed)", got, suppressed(discord, before))
	}
	discord.Advance(31 * 24 * time.Hour) // past the cooldown of that prompt

	linkBoth(t, slack, adaS, discord, adaD)
	if got, want := identities(t, discord, adaD), []bot.Identity{{Platform: bot.Discord, ID: "u-ada"}, {Platform: bot.Slack, ID: "u-ada"}}; !slices.Equal(got, want) {
		t.Errorf("identities after /link: got %v, want %v", got, want)
	}
	after := satisfied(t, discord, adaD)
	if got := len(discord.Events(after, bot.KindShareOffered)); got != 0 || !strings.Contains(suppressed(discord, after), "opted_out") {
		t.Errorf("Discord after linking: got %d offers, suppressed %q; want none, opted_out", got, suppressed(discord, after))
	}
	if p := discord.Find(discord.Case(after).Private.Channel, "share your experience"); p != nil {
		t.Errorf("share prompt on Discord after the Slack opt-out: %q", p.Msg.Text)
	}
}

// One share prompt per person per cooldown, whichever platform it was on.
func TestCooldownHoldsAcrossLinkedPlatforms(t *testing.T) {
	slack := bottest.New(t, bottest.DMs())
	discord := slack.On(bot.Discord, false)
	adaS, adaD := slack.Person("u-ada", "Ada"), discord.Person("9001", "Ada")
	linkBoth(t, discord, adaD, slack, adaS)

	first := satisfied(t, slack, adaS)
	if len(slack.Events(first, bot.KindShareOffered)) == 0 {
		t.Fatalf("no share prompt on Slack: %v", slack.Kinds(first))
	}
	slack.Advance(10 * 24 * time.Hour)
	second := satisfied(t, discord, adaD)
	if got := len(discord.Events(second, bot.KindShareOffered)); got != 0 || !strings.Contains(suppressed(discord, second), "cooldown") {
		t.Errorf("Discord 10 days after a Slack prompt: got %d offers, suppressed %q; want none, cooldown", got, suppressed(discord, second))
	}
	slack.Advance(21 * 24 * time.Hour) // 31 days after the prompt
	third := satisfied(t, discord, adaD)
	if got := len(discord.Events(third, bot.KindShareOffered)); got == 0 {
		t.Errorf("Discord after the cooldown: no prompt (%v)", discord.Kinds(third))
	}
}

// A code works once, for 10 minutes, from another account only; a new
// /link replaces the old code; the code is shown only to who asked, and is
// neither stored nor logged as it is.
func TestLinkCodes(t *testing.T) {
	slack := bottest.New(t, bottest.DMs())
	discord := slack.On(bot.Discord, false)
	ada, adaD, ben := slack.Person("u-ada", "Ada"), discord.Person("9001", "Ada"), discord.Person("9002", "Ben")

	old := linkCode(t, slack, ada)
	code := linkCode(t, slack, ada) // replaces the first
	if code == old {
		t.Fatalf("two /link gave the same code %s", code)
	}
	say := func(who bot.Person, h *bottest.Harness, text string) string {
		t.Helper()
		return h.Command(who, bot.CmdLink, text).Ephemeral
	}
	if got := say(adaD, discord, old); !strings.Contains(got, "unknown or has expired") {
		t.Errorf("a replaced code: got %q, want refused", got)
	}
	if got := say(adaD, discord, "not a code"); !strings.Contains(got, "unknown or has expired") {
		t.Errorf("a malformed code: got %q, want refused", got)
	}
	if got := say(ada, slack, code); !strings.Contains(got, "other account") {
		t.Errorf("the code entered where it was given: got %q, want told to use the other account", got)
	}
	// Typed loosely: lower case, no dash, O for 0. The code still works after
	// the attempt above.
	loose := strings.ReplaceAll(strings.ToLower(strings.ReplaceAll(code, "-", " ")), "0", "o")
	if got := say(adaD, discord, loose); !strings.Contains(got, "Linked") {
		t.Errorf("/link %q: got %q, want linked", loose, got)
	}
	if got := say(ben, discord, code); !strings.Contains(got, "unknown or has expired") {
		t.Errorf("a used code: got %q, want refused", got)
	}
	if got := len(identities(t, slack, ada)); got != 2 {
		t.Errorf("Ada's identities: got %d, want 2 (Ben not linked)", got)
	}
	again := linkCode(t, discord, adaD)
	if got := say(ada, slack, again); !strings.Contains(got, "already linked") {
		t.Errorf("linking again: got %q, want already linked", got)
	}

	late := linkCode(t, slack, ada)
	db, err := sql.Open("sqlite", slack.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored string
	if err := db.QueryRow(`SELECT hash FROM link_codes`).Scan(&stored); err != nil {
		t.Fatalf("read the stored code: %v", err)
	}
	plain := strings.ReplaceAll(late, "-", "")
	if strings.Contains(stored, plain) || strings.Contains(stored, late) {
		t.Errorf("link code stored as it is: %q", stored)
	}
	slack.Advance(bot.LinkCodeTTL)
	if got := say(ben, discord, late); !strings.Contains(got, "unknown or has expired") {
		t.Errorf("a code after %v: got %q, want expired", bot.LinkCodeTTL, got)
	}

	// Only the person who asked saw a code: no message on either platform.
	for _, h := range []*bottest.Harness{slack, discord} {
		for _, ch := range []string{"support", "staff", "showcase", "dm-u-ada"} {
			for _, p := range h.Messages(ch) {
				if codeRE.MatchString(p.Msg.Text) {
					t.Errorf("a code was posted in %s on %s: %q", ch, h.Platform.Platform(), p.Msg.Text)
				}
			}
		}
	}
	for _, c := range []string{old, code, late, strings.ReplaceAll(code, "-", "")} {
		if strings.Contains(slack.Logs.String(), c) {
			t.Errorf("link code %s in the log", c)
		}
	}
}

// advocate forget erases every linked identity, and a person who opted out
// stays opted out on every platform, with nothing else of them kept.
func TestForgetErasesLinkedIdentitiesAndKeepsTheOptOut(t *testing.T) {
	slack := bottest.New(t, bottest.DMs())
	discord := slack.On(bot.Discord, false)
	adaS, adaD := slack.Person("u-ada", "Ada"), discord.Person("9001", "Ada")
	benS := slack.Person("u-ben", "Ben")
	linkBoth(t, slack, adaS, discord, adaD)

	onSlack, private := resolvedCase(t, slack, adaS)
	slack.Click(adaS, slack.WithButton(private, "5"), "5")
	slack.Click(adaS, slack.WithButton(private, "Don't ask me again"), "Don't ask me again")
	onDiscord := satisfied(t, discord, adaD)
	benCase := satisfied(t, slack, benS)

	var got bot.Forgotten
	err := slack.Store.Update(context.Background(), func(tx bot.Tx) (err error) {
		got, err = bot.ForgetPerson(context.Background(), tx, bot.Identity{Platform: bot.Discord, ID: "9001"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Forgotten{Identities: []bot.Identity{{Platform: bot.Discord, ID: "9001"}, {Platform: bot.Slack, ID: "u-ada"}}, Cases: 2}
	if !slices.Equal(got.Identities, want.Identities) || got.Cases != want.Cases {
		t.Errorf("ForgetPerson: got %+v, want %+v", got, want)
	}
	for _, id := range []int64{onSlack, onDiscord} {
		if cs := slack.Case(id); !bot.IsForgotten(cs.Customer.ID) || cs.Customer.Name != "" || cs.Question != "" {
			t.Errorf("case %d after forget: customer %+v, question %q", id, cs.Customer, cs.Question)
		}
	}
	if cs := slack.Case(benCase); cs.Customer.ID != "u-ben" {
		t.Errorf("Ben's case changed by Ada's forget: %+v", cs.Customer)
	}
	if ids := identities(t, slack, adaS); len(ids) != 1 {
		t.Errorf("identities after forget: got %v, want no links left", ids)
	}

	// Ada comes back on both platforms: still not asked to share.
	slack.Advance(400 * 24 * time.Hour)
	for _, c := range []struct {
		h   *bottest.Harness
		who bot.Person
	}{{slack, adaS}, {discord, adaD}} {
		id := satisfied(t, c.h, c.who)
		if got := len(c.h.Events(id, bot.KindShareOffered)); got != 0 || !strings.Contains(suppressed(c.h, id), "opted_out") {
			t.Errorf("%s after forget: got %d offers, suppressed %q; want none, opted_out", c.who.Platform, got, suppressed(c.h, id))
		}
	}
}

// Without an opt-out, forget keeps nothing: the person is a stranger after.
func TestForgetWithoutOptOutKeepsNothing(t *testing.T) {
	h := bottest.New(t)
	ada := h.Person("u-ada", "Ada")
	satisfied(t, h, ada) // prompted: a cooldown starts
	err := h.Store.Update(context.Background(), func(tx bot.Tx) error {
		_, err := bot.ForgetPerson(context.Background(), tx, bot.Identity{Platform: ada.Platform, ID: ada.ID})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	again := satisfied(t, h, ada)
	if got := len(h.Events(again, bot.KindShareOffered)); got == 0 {
		t.Errorf("after forget: no prompt (%s); want none of the old cooldown kept", suppressed(h, again))
	}
}

// Staff link and unlink on the dashboard (Core.Link, Core.Unlink); an
// unlinked identity has its own opt-out again.
func TestStaffLinkAndUnlink(t *testing.T) {
	slack := bottest.New(t, bottest.DMs())
	discord := slack.On(bot.Discord, false)
	adaS, adaD := slack.Person("u-ada", "Ada"), discord.Person("9001", "Ada")
	ctx := context.Background()
	s, d := bot.Identity{Platform: bot.Slack, ID: "u-ada"}, bot.Identity{Platform: bot.Discord, ID: "9001"}

	for _, bad := range []struct {
		a, b bot.Identity
	}{
		{s, s},
		{s, bot.Identity{Platform: "irc", ID: "ada"}},
		{s, bot.Identity{Platform: bot.Discord, ID: ""}},
		{s, bot.Identity{Platform: bot.Discord, ID: "90 01"}},
		{s, bot.Identity{Platform: bot.Discord, ID: bot.ForgottenPrefix + "3"}},
	} {
		if err := slack.Core.Link(ctx, bad.a, bad.b, "alice"); !errors.Is(err, bot.ErrInvalidIdentity) {
			t.Errorf("Link(%v, %v): got %v, want ErrInvalidIdentity", bad.a, bad.b, err)
		}
	}
	if err := slack.Core.Link(ctx, s, d, "alice"); err != nil {
		t.Fatalf("Link: %v", err)
	}
	var people [][]bot.LinkedIdentity
	err := slack.Store.View(ctx, func(tx bot.Tx) (err error) {
		people, _, err = tx.LinkedPeople(ctx, 0, 0)
		return err
	})
	if err != nil || len(people) != 1 || len(people[0]) != 2 || people[0][0].Via != bot.LinkViaDashboard+"alice" {
		t.Fatalf("linked people after Link: got %+v, %v; want one person linked via the dashboard by alice", people, err)
	}

	_, private := resolvedCase(t, discord, adaD)
	discord.Click(adaD, discord.WithButton(private, "5"), "5")
	discord.Click(adaD, discord.WithButton(private, "Don't ask me again"), "Don't ask me again")
	if err := slack.Core.Unlink(ctx, d, "alice"); err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	if err := slack.Core.Unlink(ctx, d, "alice"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Unlink again: got %v, want ErrNotFound", err)
	}
	id := satisfied(t, slack, adaS)
	if got := len(slack.Events(id, bot.KindShareOffered)); got == 0 {
		t.Errorf("Slack after unlinking: no prompt (%s); the Discord opt-out is Discord's alone again", suppressed(slack, id))
	}
	if !strings.Contains(slack.Logs.String(), "identities linked") || strings.Contains(slack.Logs.String(), "u-ada") {
		t.Errorf("log: want the link logged without the user IDs")
	}
}

// Wrong link codes are throttled per account and overall, with an answer
// that says how long to wait; right codes do not count, and a throttled
// attempt does not use up the code it carried.
func TestWrongLinkCodesAreThrottled(t *testing.T) {
	slack := bottest.New(t, bottest.DMs())
	discord := slack.On(bot.Discord, false)
	ada, adaD := slack.Person("u-ada", "Ada"), discord.Person("9001", "Ada")
	say := func(h *bottest.Harness, who bot.Person, text string) string {
		t.Helper()
		return h.Command(who, bot.CmdLink, text).Ephemeral
	}

	code := linkCode(t, slack, ada)
	for range 10 { // her own code, where it was given: not a guess
		if got := say(slack, ada, code); !strings.Contains(got, "other account") {
			t.Fatalf("own code: got %q, want told to use the other account", got)
		}
	}
	wrong := []string{"AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"}
	for _, w := range wrong {
		if got := say(discord, adaD, w); !strings.Contains(got, "unknown or has expired") {
			t.Fatalf("wrong code %s: got %q, want unknown", w, got)
		}
	}
	got := say(discord, adaD, code)
	if !strings.Contains(got, "Too many wrong link codes") || !strings.Contains(got, "1 minute") {
		t.Fatalf("the right code after %d wrong ones: got %q, want told to wait a minute", len(wrong), got)
	}
	if n := len(identities(t, slack, ada)); n != 1 {
		t.Errorf("linked while throttled: %d identities", n)
	}
	if !strings.Contains(slack.Logs.String(), "too many wrong codes") {
		t.Error("no log line for the throttled attempt")
	}
	slack.Advance(time.Minute)
	if got := say(discord, adaD, code); !strings.Contains(got, "Linked") {
		t.Errorf("the right code a minute later: got %q, want linked (the throttled try did not use it)", got)
	}

	// Overall: many accounts with a few wrong codes each.
	refused := ""
	for i := range 40 {
		who := discord.Person(fmt.Sprintf("guesser-%d", i), "Guesser")
		for j := range 2 {
			if got := say(discord, who, fmt.Sprintf("%04d-%04d", i, j)); strings.Contains(got, "Too many") {
				refused = got
			}
		}
	}
	if refused == "" {
		t.Error("80 wrong codes from 40 accounts: none refused, want a limit over all accounts")
	}
	for _, c := range append(wrong, code, strings.ReplaceAll(code, "-", "")) {
		if strings.Contains(slack.Logs.String(), c) {
			t.Errorf("link code %s in the log", c)
		}
	}
}
