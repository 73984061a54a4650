package bot_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

func TestSampleReadsItsConfigShapes(t *testing.T) {
	for text, want := range map[string]bot.Sample{
		"0.5": {Fraction: 0.5}, "1": {Fraction: 1}, "25%": {Fraction: 0.25}, " 10 % ": {Fraction: 0.1},
		"every 3": {Every: 3}, "every 1": {Every: 1},
	} {
		var got bot.Sample
		if err := got.UnmarshalText([]byte(text)); err != nil || got != want {
			t.Errorf("%q: got %+v, %v, want %+v", text, got, err, want)
		}
	}
	for _, text := range []string{"0", "1.5", "-0.2", "150%", "every 0", "every", "every third", "half", ""} {
		var s bot.Sample
		err := s.UnmarshalText([]byte(text))
		if err == nil || !strings.Contains(err.Error(), "want a fraction of cases such as 0.5") {
			t.Errorf("%q: got %v, want a clear error", text, err)
		}
	}
}

// The fraction is a hash of the case ID: fixed cases are in or out, always,
// and over many cases the fraction holds.
func TestSampleFractionIsAFixedHash(t *testing.T) {
	half := bot.Sample{Fraction: 0.5}
	var in []int64
	for id := int64(1); id <= 12; id++ {
		if half.Surveys(id, 0) {
			in = append(in, id)
		}
	}
	if want := []int64{3, 7, 10}; !slices.Equal(in, want) {
		t.Errorf("cases 1-12 sampled in at 0.5: got %v, want %v", in, want)
	}
	n := 0
	for id := int64(1); id <= 1000; id++ {
		if half.Surveys(id, 0) {
			n++
		}
	}
	if n != 506 {
		t.Errorf("cases 1-1000 sampled in at 0.5: got %d, want 506", n)
	}
	if !(bot.Sample{}).Surveys(1, 0) || !(bot.Sample{Fraction: 1}).Surveys(2, 0) {
		t.Error("the default sample leaves a case out")
	}
}

// skipped is the reason of the case's survey_skipped event, or "".
func skipped(t *testing.T, h *bottest.Harness, id int64) string {
	t.Helper()
	evs := h.Events(id, bot.KindSurveySkipped)
	if len(evs) == 0 {
		return ""
	}
	var d map[string]any
	if err := json.Unmarshal(evs[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	r, _ := d["reason"].(string)
	return r
}

// resolveFor runs a case of who to its resolution and reports whether the
// customer got the survey, checking that a case without one is closed with
// survey_skipped and the customer told it is resolved.
func resolveFor(t *testing.T, h *bottest.Harness, who bot.Person) (int64, bool) {
	t.Helper()
	id, private := resolvedCase(t, h, who)
	if bottest.Count(h.Kinds(id), bot.KindSurveySent) > 0 {
		if r := skipped(t, h, id); r != "" {
			t.Errorf("case %d: surveyed and skipped (%s)", id, r)
		}
		return id, true
	}
	if got := h.Case(id).Status; got != bot.StatusClosed {
		t.Errorf("case %d without a survey: status %s, want closed", id, got)
	}
	if last := h.Last(private); last == nil || last.Msg.Text != "This case has been marked as resolved." || len(last.Msg.Buttons) != 0 {
		t.Errorf("case %d without a survey: the customer's last message is %+v, want that it is resolved", id, last)
	}
	return id, false
}

// survey.sample 0.5: the cases the hash leaves out get no survey, and the
// funnel log says why.
func TestSurveySampleFraction(t *testing.T) {
	h := bottest.New(t, bottest.Configure(func(c *bot.Config) { c.Survey.Sample = bot.Sample{Fraction: 0.5} }))
	var got []int64
	for i := range 8 {
		id, surveyed := resolveFor(t, h, h.Person(fmt.Sprint("u-", i), fmt.Sprint("Customer ", i)))
		if surveyed {
			got = append(got, id)
		} else if r := skipped(t, h, id); r != bot.SkipSampledOut {
			t.Errorf("case %d: skipped for %q, want %s", id, r, bot.SkipSampledOut)
		}
	}
	if want := []int64{3, 7}; !slices.Equal(got, want) {
		t.Errorf("surveyed cases: got %v, want %v (the hash's choice at 0.5)", got, want)
	}
}

// survey.sample "every 2": a person's first case, third, fifth…, counting
// the cases of their linked identities too.
func TestSurveySampleEveryNthCasePerPerson(t *testing.T) {
	slack := bottest.New(t, bottest.DMs(), bottest.Configure(func(c *bot.Config) { c.Survey.Sample = bot.Sample{Every: 2} }))
	discord := slack.On(bot.Discord, false)
	adaS, adaD, ben := slack.Person("u-ada", "Ada"), discord.Person("d-ada", "Ada"), slack.Person("u-ben", "Ben")
	linkBoth(t, slack, adaS, discord, adaD)

	steps := []struct {
		h    *bottest.Harness
		who  bot.Person
		want bool
	}{
		{slack, adaS, true},    // Ada's 1st
		{slack, ben, true},     // Ben's 1st
		{discord, adaD, false}, // Ada's 2nd, on her other account
		{slack, adaS, true},    // Ada's 3rd
		{slack, ben, false},    // Ben's 2nd
		{slack, adaS, false},   // Ada's 4th
	}
	for i, st := range steps {
		slack.Clock.Advance(time.Minute)
		id, surveyed := resolveFor(t, st.h, st.who)
		if surveyed != st.want {
			t.Errorf("step %d (%s on %s): surveyed %v, want %v", i+1, st.who.Name, st.who.Platform, surveyed, st.want)
		}
		if !surveyed {
			if r := skipped(t, st.h, id); r != bot.SkipSampledOut {
				t.Errorf("step %d: skipped for %q, want %s", i+1, r, bot.SkipSampledOut)
			}
		}
	}
}

// survey.cooldown: one survey per person per period, across linked
// identities; a reopened case is surveyed again (that is how an unhappy
// customer is heard), and after the period the person is surveyed again.
func TestSurveyCooldown(t *testing.T) {
	slack := bottest.New(t, bottest.DMs(), bottest.Configure(func(c *bot.Config) { c.Survey.Cooldown = bot.Duration(7 * 24 * time.Hour) }))
	discord := slack.On(bot.Discord, false)
	adaS, adaD := slack.Person("u-ada", "Ada"), discord.Person("d-ada", "Ada")
	linkBoth(t, slack, adaS, discord, adaD)

	id, surveyed := resolveFor(t, slack, adaS)
	if !surveyed {
		t.Fatal("Ada's first case got no survey")
	}
	private := slack.Case(id).Private.Channel
	slack.Click(adaS, slack.WithButton(private, "1"), "1") // unhappy: reopened
	cs := slack.Case(id)
	slack.Click(slack.Staff(), slack.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	if n := bottest.Count(slack.Kinds(id), bot.KindSurveySent); n != 2 {
		t.Errorf("the reopened case was surveyed %d times, want 2: %v", n, slack.Kinds(id))
	}

	slack.Clock.Advance(3 * 24 * time.Hour)
	id2, surveyed := resolveFor(t, discord, adaD)
	if surveyed {
		t.Error("Ada on Discord, 3 days later: surveyed, want the cooldown of her linked Slack account")
	} else if r := skipped(t, discord, id2); r != bot.SkipCooldown {
		t.Errorf("skipped for %q, want %s", r, bot.SkipCooldown)
	}
	slack.Clock.Advance(5 * 24 * time.Hour)
	if _, surveyed := resolveFor(t, discord, adaD); !surveyed {
		t.Error("Ada on Discord, 8 days after her last survey: no survey")
	}
	if _, surveyed := resolveFor(t, slack, adaS); surveyed {
		t.Error("Ada on Slack right after her Discord survey: surveyed, want the cooldown")
	}
}
