package bot_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
)

// wording is the experiment of these tests: a quarter of the people get the
// plain prompt, the rest warmer words with X first and no review link.
func wording() bot.Experiment {
	return bot.Experiment{Name: "prompt wording", Variants: []bot.Variant{
		{Name: "plain", Weight: 1},
		{Name: "warm", Weight: 3, Prompt: "{{.Customer}}, would you tell others how {{.Brand}} helped?", Targets: []string{"x", "showcase"}},
	}}
}

// withExperiments runs exps in the harness (and no share cooldown, so that
// one person can be prompted for several cases).
func withExperiments(exps ...bot.Experiment) bottest.Option {
	return bottest.Configure(func(c *bot.Config) {
		c.Share.Experiments = exps
		c.Share.Cooldown = 0
	})
}

// The hash gives fixed people fixed variants, and over many people the
// weights: exactly these, every time, on every machine.
func TestAssignIsAFixedHash(t *testing.T) {
	e := wording()
	for person, want := range map[string]string{
		"slack:u-ada": "warm", "discord:u-ada": "warm", "slack:1003": "plain",
		"discord:U02ADA": "plain", "slack:U02ADA": "warm", "sandbox:u-cy": "plain",
	} {
		for range 3 {
			if got := e.Assign(person).Name; got != want {
				t.Errorf("Assign(%q): got %s, want %s", person, got, want)
			}
		}
	}
	plain := 0
	for i := range 1000 {
		if e.Assign(fmt.Sprint("slack:p", i)).Name == "plain" {
			plain++
		}
	}
	if plain != 261 { // weight 1 of 4: about 250
		t.Errorf("plain among 1000 people: got %d, want 261", plain)
	}
	other := bot.Experiment{Name: "another", Variants: e.Variants}
	moved := 0
	for i := range 1000 {
		p := fmt.Sprint("slack:p", i)
		if e.Assign(p).Name != other.Assign(p).Name {
			moved++
		}
	}
	if moved == 0 {
		t.Error("another experiment's name assigns everyone the same variants: the name is not in the hash")
	}
}

// A person in the running experiment gets their variant's wording, targets
// and order, and every offer records the experiment and variant; the next
// case of the same person gets the same variant.
func TestExperimentVariantShapesThePromptAndIsRecorded(t *testing.T) {
	h := bottest.New(t, withExperiments(wording()))
	cases := map[string]bot.Person{"warm": h.Person("u-ada", "Ada"), "plain": h.Person("u-cy", "Cy")}
	for variant, who := range cases {
		for round := range 2 {
			id := satisfied(t, h, who)
			private := h.Case(id).Private.Channel
			prompt := h.WithButton(private, "No thanks")
			if prompt == nil {
				t.Fatalf("%s, case %d: no share prompt", who.Name, round+1)
			}
			var wantText string
			var wantButtons []string
			if variant == "warm" {
				wantText = "Ada, would you tell others how Acme helped?"
				wantButtons = []string{"Post on X", "Post in #showcase", "No thanks", "Don't ask me again"}
			} else {
				wantText = "Would you like to share your experience?"
				wantButtons = []string{"Post in #showcase", "Post on X", "Review us on Trustpilot", "No thanks", "Don't ask me again"}
			}
			if !strings.Contains(prompt.Msg.Text, wantText) {
				t.Errorf("%s's prompt: got %q, want %q", who.Name, prompt.Msg.Text, wantText)
			}
			if got := buttonLabels(prompt); strings.Join(got, "|") != strings.Join(wantButtons, "|") {
				t.Errorf("%s's prompt buttons: got %v, want %v", who.Name, got, wantButtons)
			}
			for _, o := range h.Offers(id) {
				if o.Experiment != "prompt wording" || o.Variant != variant {
					t.Errorf("%s's offer %s: recorded %q/%q, want prompt wording/%s", who.Name, o.Target, o.Experiment, o.Variant, variant)
				}
			}
			var detail map[string]any
			offered := h.Events(id, bot.KindShareOffered)
			_ = json.Unmarshal(offered[0].Detail, &detail)
			if detail["variant"] != variant || detail["experiment"] != "prompt wording" {
				t.Errorf("%s's share_offered: got %v, want the experiment and variant", who.Name, detail)
			}
		}
	}
}

func buttonLabels(p *bottest.Post) []string {
	var out []string
	for _, b := range p.Msg.Buttons {
		out = append(out, b.Label)
	}
	return out
}

// Linked identities are one person: both get the variant of the identity
// that sorts first (here the Discord one), whatever each would get alone.
func TestLinkedIdentitiesShareTheirVariant(t *testing.T) {
	slack := bottest.New(t, bottest.DMs(), withExperiments(wording()))
	discord := slack.On(bot.Discord, false)
	adaS, adaD := slack.Person("U02ADA", "Ada"), discord.Person("U02ADA", "Ada")

	before := satisfied(t, slack, adaS)
	if v := slack.Offers(before)[0].Variant; v != "warm" {
		t.Fatalf("Ada on Slack alone: variant %s, want warm", v)
	}
	linkBoth(t, slack, adaS, discord, adaD)
	for _, h := range []struct {
		h   *bottest.Harness
		who bot.Person
	}{{discord, adaD}, {slack, adaS}} {
		id := satisfied(t, h.h, h.who)
		for _, o := range h.h.Offers(id) {
			if o.Variant != "plain" {
				t.Errorf("linked Ada on %s: offer %s has variant %s, want plain (the Discord identity's)", h.who.Platform, o.Target, o.Variant)
			}
		}
	}
}

// delayed is an experiment whose variants both wait ten minutes after the
// rating, in different words.
func delayed() bot.Experiment {
	ten := bot.Duration(10 * time.Minute)
	return bot.Experiment{Name: "delay", Variants: []bot.Variant{
		{Name: "later", Weight: 1, Delay: ten, Prompt: "A little later: would you share how it went?"},
		{Name: "later, X only", Weight: 1, Delay: ten, Prompt: "A little later: a post on X?", Targets: []string{"x"}},
	}}
}

// A delayed prompt is a timer: it survives a restart, fires once when due,
// with the variant it was assigned, and is recorded like any prompt.
func TestDelayedPromptFiresOnceAcrossARestart(t *testing.T) {
	h := bottest.New(t, withExperiments(delayed()))
	ada := h.Person("u-ada", "Ada")
	id := satisfied(t, h, ada)
	private := h.Case(id).Private.Channel
	if p := h.WithButton(private, "No thanks"); p != nil || len(h.Offers(id)) != 0 {
		t.Fatalf("a delayed prompt was sent at once: %v, %d offers", p, len(h.Offers(id)))
	}
	ev := h.Events(id, bot.KindShareDelayed)
	if len(ev) != 1 {
		t.Fatalf("share_delayed events: got %d, want 1", len(ev))
	}
	var detail map[string]any
	_ = json.Unmarshal(ev[0].Detail, &detail)
	variant, _ := detail["variant"].(string)
	if detail["experiment"] != "delay" || variant == "" || detail["due_at"] == nil {
		t.Fatalf("share_delayed detail: got %v, want the experiment, variant and due time", detail)
	}

	h.Restart()
	h.Advance(9 * time.Minute)
	if n := len(h.Offers(id)); n != 0 {
		t.Fatalf("after 9 minutes: %d offers, want none yet", n)
	}
	h.Advance(2 * time.Minute)
	prompt := h.WithButton(private, "No thanks")
	if prompt == nil || !strings.Contains(prompt.Msg.Text, "A little later") {
		t.Fatalf("after 11 minutes: prompt %v, want the variant's words", prompt)
	}
	offers := h.Offers(id)
	if len(offers) == 0 {
		t.Fatal("the delayed prompt recorded no offer")
	}
	for _, o := range offers {
		if o.Experiment != "delay" || o.Variant != variant {
			t.Errorf("offer %s: recorded %q/%q, want delay/%s", o.Target, o.Experiment, o.Variant, variant)
		}
	}
	h.Restart()
	h.Advance(time.Hour)
	if n := len(h.Offers(id)); n != len(offers) {
		t.Errorf("after another restart and an hour: %d offers, want %d (the timer fires once)", n, len(offers))
	}
	if n := bottest.Count(h.Kinds(id), bot.KindShareOffered); n != len(offers) {
		t.Errorf("share_offered events: got %d, want %d", n, len(offers))
	}
}

// The opt-out and the cooldown count when a delayed prompt fires, not when
// it was scheduled: Ada's first case waits; the experiment is stopped (a
// restart with the new config), so her second case's prompt comes at once,
// and she answers it. The first case's prompt then fires into that answer.
func TestDelayedPromptChecksOptOutAndCooldownWhenItFires(t *testing.T) {
	for _, tt := range []struct {
		name, click, reason string
		cooldown            time.Duration
	}{
		{"opted out since", "Don't ask me again", "opted_out", 0},
		{"prompted since", "No thanks", "cooldown", 24 * time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := bottest.New(t, withExperiments(delayed()))
			ada := h.Person("u-ada", "Ada")
			first := satisfied(t, h, ada)

			stopped := delayed()
			stopped.Stopped = true
			h.Config.Share.Experiments = []bot.Experiment{stopped}
			h.Config.Share.Cooldown = bot.Duration(tt.cooldown)
			h.Restart()
			second := satisfied(t, h, ada)
			for _, o := range h.Offers(second) {
				if o.Experiment != "" || o.Variant != "" {
					t.Errorf("a stopped experiment assigned offer %s: %q/%q", o.Target, o.Experiment, o.Variant)
				}
			}
			private := h.Case(second).Private.Channel
			h.Click(ada, h.WithButton(private, tt.click), tt.click)

			h.Advance(11 * time.Minute)
			if n := len(h.Offers(first)); n != 0 {
				t.Errorf("the delayed prompt made %d offers, want none", n)
			}
			if got := suppressed(h, first); !strings.Contains(got, tt.reason) {
				t.Errorf("share_suppressed: got %q, want reason %s", got, tt.reason)
			}
			if p := h.WithButton(h.Case(first).Private.Channel, "No thanks"); p != nil {
				t.Errorf("the first case got a prompt: %q", p.Msg.Text)
			}
		})
	}
}

// A stopped experiment's delayed prompt still fires with its variant: the
// offers it makes keep the experiment's name.
func TestStoppedExperimentKeepsScheduledVariant(t *testing.T) {
	h := bottest.New(t, withExperiments(delayed()))
	ada := h.Person("u-ada", "Ada")
	id := satisfied(t, h, ada)
	stopped := delayed()
	stopped.Stopped = true
	h.Config.Share.Experiments = []bot.Experiment{stopped}
	h.Restart()
	h.Advance(11 * time.Minute)
	offers := h.Offers(id)
	if len(offers) == 0 {
		t.Fatal("no offer after the delay")
	}
	for _, o := range offers {
		if o.Experiment != "delay" || o.Variant == "" {
			t.Errorf("offer %s: %q/%q, want the variant scheduled in experiment delay", o.Target, o.Experiment, o.Variant)
		}
	}
}

func TestExperimentConfigErrors(t *testing.T) {
	good := wording()
	tests := []struct {
		name string
		edit func(*bot.Config)
		want string
	}{
		{"one variant", func(c *bot.Config) { c.Share.Experiments = []bot.Experiment{{Name: "e", Variants: good.Variants[:1]}} },
			"share.experiments[0].variants: an experiment needs at least two variants"},
		{"unknown target", func(c *bot.Config) {
			e := wording()
			e.Variants[1].Targets = []string{"tiktok"}
			c.Share.Experiments = []bot.Experiment{e}
		}, `share.experiments[0].variants[1].targets[0]: "tiktok" is not the name of one of share.targets`},
		{"zero weight", func(c *bot.Config) {
			e := wording()
			e.Variants[0].Weight = 0
			c.Share.Experiments = []bot.Experiment{e}
		}, "share.experiments[0].variants[0].weight: 0: want a whole number of 1 or more"},
		{"two running", func(c *bot.Config) {
			other := wording()
			other.Name = "other"
			c.Share.Experiments = []bot.Experiment{wording(), other}
		}, "share.experiments: prompt wording, other are all running"},
		{"bad prompt", func(c *bot.Config) {
			e := wording()
			e.Variants[0].Prompt = "{{.Nope}}"
			c.Share.Experiments = []bot.Experiment{e}
		}, "share.experiments[0].variants[0].prompt:"},
		{"duplicate variant", func(c *bot.Config) {
			e := wording()
			e.Variants[1].Name = "plain"
			c.Share.Experiments = []bot.Experiment{e}
		}, `share.experiments[0].variants[1].name: "plain" is used twice`},
		{"long delay", func(c *bot.Config) {
			e := wording()
			e.Variants[1].Delay = bot.Duration(30 * 24 * time.Hour)
			c.Share.Experiments = []bot.Experiment{e}
		}, "share.experiments[0].variants[1].delay: 720h0m0s is longer than 14 days"},
		{"score for staff", func(c *bot.Config) { c.Texts.UnhappyStaff = "Case {{.Case}} got {{.Score}}" },
			"texts.unhappy_staff: staff never see a case's score in chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := bottest.Config()
			tt.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	cfg := bottest.Config()
	stopped := wording()
	stopped.Stopped = true
	cfg.Share.Experiments = []bot.Experiment{stopped, wording()}
	cfg.Share.Experiments[1].Name = "second"
	if err := cfg.Validate(); err != nil {
		t.Errorf("one stopped and one running experiment: %v", err)
	}
}

// Turning the wall choice on redraws the prompt in the words it was sent
// in: the variant's, not the plain share prompt's.
func TestWallToggleKeepsTheVariantsWords(t *testing.T) {
	h := bottest.New(t, bottest.TextModals(), withExperiments(wording()), bottest.Configure(func(c *bot.Config) { c.Wall.Enabled = true }))
	ada := h.Person("u-ada", "Ada") // warm
	id := satisfied(t, h, ada)
	private := h.Case(id).Private.Channel
	h.Click(ada, h.WithButton(private, "Also show on our website: no"), "Also show on our website: no")
	prompt := h.WithButton(private, "Also show on our website: yes")
	if prompt == nil {
		t.Fatal("the wall choice did not turn on")
	}
	if want := "Ada, would you tell others how Acme helped?"; prompt.Msg.Text != want {
		t.Errorf("the redrawn prompt: got %q, want %q", prompt.Msg.Text, want)
	}
}

// A delayed prompt that comes due while its case is reopened asks nothing:
// the customer is talking to staff again, and the reopen withdrew the round's
// offers.
func TestDelayedPromptWaitsOutAReopen(t *testing.T) {
	h := bottest.New(t, withExperiments(delayed()))
	ada := h.Person("u-ada", "Ada")
	id := satisfied(t, h, ada)
	h.Click(h.Staff(), h.WithButton(h.Case(id).Staff.Channel, "Reopen"), "Reopen")
	h.Advance(11 * time.Minute)
	if n := len(h.Offers(id)); n != 0 {
		t.Errorf("the delayed prompt made %d offers on a reopened case, want none", n)
	}
	if got := suppressed(h, id); !strings.Contains(got, "reopened") {
		t.Errorf("share_suppressed: got %q, want reason reopened", got)
	}
}
