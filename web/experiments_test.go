package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/web"
)

// wordingExperiment is the experiment the dashboard tests configure.
func wordingExperiment() bot.Experiment {
	return bot.Experiment{Name: "prompt wording", Variants: []bot.Variant{
		{Name: "plain", Weight: 1},
		{Name: "warm", Weight: 3, Prompt: "Would you tell others how {{.Brand}} helped?", Delay: bot.Duration(10 * time.Minute)},
	}}
}

// addPrompts stores n prompts of one variant (a case opened an hour ago with
// one community post offer each), of which clicked were clicked and shared
// of those shared: the numbers a busy community makes, without playing
// each case through the core.
func addPrompts(t *testing.T, h *bottest.Harness, exp, variant string, n, clicked, shared int) {
	t.Helper()
	err := h.Store.Update(t.Context(), func(tx bot.Tx) error {
		ctx := context.Background()
		for i := range n {
			cs := &bot.Case{Platform: bot.Sandbox, Customer: bot.Person{Platform: bot.Sandbox, ID: "bulk"},
				Status: bot.StatusClosed, Public: bot.Ref{Platform: bot.Sandbox, Channel: "support"}, OpenedAt: h.Clock.Now().Add(-time.Hour)}
			if err := tx.CreateCase(ctx, cs); err != nil {
				return err
			}
			o := &bot.Offer{CaseID: cs.ID, Round: 1, Target: "showcase", Kind: bot.TargetCommunityPost, Policy: bot.PolicySatisfied,
				State: bot.OfferOffered, Experiment: exp, Variant: variant}
			switch {
			case i < shared:
				o.State, o.SharedAt = bot.OfferShared, cs.OpenedAt
			case i < clicked:
				o.State = bot.OfferClicked
			}
			if err := tx.CreateOffer(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The page counts what the core recorded: prompts made in the experiment
// through real conversations, per variant; viewers may read it (it names
// no staff member), and the CSV holds the same numbers.
func TestExperimentsPageCountsTheCoresOffers(t *testing.T) {
	exp := wordingExperiment()
	exp.Variants[1].Delay = 0
	h := bottest.New(t, bottest.Configure(func(c *bot.Config) {
		c.Share.Experiments = []bot.Experiment{exp}
		c.Share.Cooldown = 0
	}))
	f := newFixtureOn(t, h, func(o *web.Options) { o.Experiments = []bot.Experiment{exp} })
	f.play(story{score: 5, share: "Quick and kind"}, story{score: 5}, story{score: 4}, story{score: 5, share: "Sorted"})
	want, err := h.Store.ExperimentCounts(t.Context(), bot.FunnelQuery{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, v := range want {
		total += v.Offered
	}
	if total != 4 {
		t.Fatalf("the stories made %d prompts in the experiment, want 4: %+v", total, want)
	}
	viewer := f.signedIn(viewerName, viewerPassword)
	resp, page := f.do(viewer, "GET", "/dashboard/experiments", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("viewer: got %d, want 200", resp.StatusCode)
	}
	text := visibleText(page)
	if !strings.Contains(text, "prompt wording (running)") || !strings.Contains(text, "not enough data yet") {
		t.Errorf("the page does not show the running experiment and its verdict:\n%s", text)
	}
	_, csv := f.do(viewer, "GET", "/dashboard/experiments?format=csv", nil)
	for _, v := range want {
		line := strings.Join([]string{"prompt wording", "running", v.Variant}, ",")
		if !strings.Contains(csv, line) {
			t.Errorf("CSV has no line for variant %s:\n%s", v.Variant, csv)
		}
	}
	if !strings.Contains(page, `href="/dashboard/experiments" aria-current="page"`) {
		t.Error("the navigation does not mark the experiments page")
	}
}

// testExperimentTable reads the experiments page in Chromium: the variants'
// numbers, their 95% intervals, and the sentences saying which difference
// is significant, which not yet, and where there is not enough data.
func testExperimentTable(t *testing.T, browser context.Context) {
	wording := wordingExperiment()
	delay := bot.Experiment{Name: "delay", Stopped: true, Variants: []bot.Variant{
		{Name: "at once", Weight: 1}, {Name: "next day", Weight: 1, Delay: bot.Duration(24 * time.Hour)},
	}}
	targets := bot.Experiment{Name: "targets", Stopped: true, Variants: []bot.Variant{
		{Name: "all", Weight: 1}, {Name: "showcase only", Weight: 1, Targets: []string{"showcase"}},
	}}
	f := newFixture(t, func(o *web.Options) { o.Experiments = []bot.Experiment{wording, delay, targets} })
	addPrompts(t, f.h, "prompt wording", "plain", 200, 60, 20)
	addPrompts(t, f.h, "prompt wording", "warm", 200, 90, 40)
	addPrompts(t, f.h, "delay", "at once", 20, 5, 2)
	addPrompts(t, f.h, "delay", "next day", 20, 6, 3)
	addPrompts(t, f.h, "targets", "all", 100, 30, 10)
	addPrompts(t, f.h, "targets", "showcase only", 100, 30, 12)

	ctx := tab(t, browser)
	signIn(t, ctx, f.srv.URL, viewerName, viewerPassword)
	do(t, ctx, "open the experiments page",
		chromedp.Click(css(`header nav a[href="/dashboard/experiments"]`)),
		chromedp.WaitVisible(css(`section.experiment table`)),
	)
	rows := get(t, ctx, "the tables", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('section.experiment tbody tr')).map(r =>
			r.closest('section').dataset.experiment + '/' + r.dataset.variant + ': ' +
			['offered', 'clicked', 'shared', 'conversion', 'interval'].map(c => r.querySelector('td.' + c).textContent).join(' '))`))
	want := []string{
		"prompt wording/plain: 200 60 20 10.0% 6.6%–14.9%",
		"prompt wording/warm: 200 90 40 20.0% 15.0%–26.1%",
		"delay/at once: 20 5 2 10.0% 2.8%–30.1%",
		"delay/next day: 20 6 3 15.0% 5.2%–36.0%",
		"targets/all: 100 30 10 10.0% 5.5%–17.4%",
		"targets/showcase only: 100 30 12 12.0% 7.0%–19.8%",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("experiment tables:\n got %q\nwant %q", rows, want)
	}
	verdicts := get(t, ctx, "the verdicts", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('section.experiment')).map(s =>
			s.dataset.experiment + ': ' + Array.from(s.querySelectorAll('p.verdict')).map(p => p.textContent).join(' '))`))
	for i, want := range []string{
		"prompt wording: warm converts better than plain (20.0% vs 10.0%): the difference is significant at 95% (p = 0.0051).",
		"delay: next day vs at once: not enough data yet",
		"targets: The difference between showcase only and all (12.0% vs 10.0%) is not yet significant at 95%",
	} {
		if i >= len(verdicts) || !strings.HasPrefix(verdicts[i], want) {
			t.Errorf("verdict %d: got %q, want %q…", i, verdicts, want)
		}
	}
	status := get(t, ctx, "headings", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('section.experiment h2')).map(h => h.textContent)`))
	if want := []string{"prompt wording (running)", "delay (stopped)", "targets (stopped)"}; strings.Join(status, "|") != strings.Join(want, "|") {
		t.Errorf("headings: got %v, want %v", status, want)
	}
	if os.Getenv("ADVOCATE_SCREENSHOTS") == "1" {
		do(t, ctx, "size the page", chromedp.EmulateViewport(1100, 900))
		png := get(t, ctx, "screenshot", chromedp.FullScreenshot(100)) // 100: PNG
		if err := os.WriteFile(filepath.Join("..", "docs", "dashboard-experiments.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The funnel says how many resolutions were left unsurveyed on purpose, so
// "Surveyed" below "Resolved" is not read as surveys lost.
func TestFunnelCountsSkippedSurveys(t *testing.T) {
	h := bottest.New(t, bottest.Configure(func(c *bot.Config) { c.Survey.Sample = bot.Sample{Fraction: 0.5} }))
	f := newFixtureOn(t, h)
	for i := range 6 {
		who := h.Person(fmt.Sprint("u-", i), fmt.Sprint("Customer ", i))
		h.Ask(who, "help")
		cs := activeCase(t, h, who)
		h.Say(h.Staff(), cs.Staff, "Done")
		h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	}
	admin := f.signedIn(adminName, adminPassword)
	_, page := f.do(admin, "GET", "/dashboard/", nil)
	// Cases 1-6 at 0.5: only case 3 is sampled in (bot's TestSampleFractionIsAFixedHash).
	want := "5 resolutions were not surveyed on purpose: 5 left out by survey sampling (survey.sample) and 0 because the customer had been surveyed recently"
	if text := visibleText(page); !strings.Contains(text, want) {
		t.Errorf("the funnel does not count the skipped surveys, want %q:\n%s", want, text)
	}
	_, csv := f.do(admin, "GET", "/dashboard/?format=csv", nil)
	if !strings.Contains(csv, "survey_skipped_sampled_out,5,") {
		t.Errorf("the funnel CSV lacks the skipped surveys:\n%s", csv)
	}
}
