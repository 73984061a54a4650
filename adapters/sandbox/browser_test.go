package sandbox

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// stepTimeout bounds each browser step: patience for a slow machine, not a
// speed assertion.
const stepTimeout = 20 * time.Second

// TestBrowser plays the sandbox in headless Chromium against the real core and
// SQLite store. The subtests share one browser, each in its own tabs.
func TestBrowser(t *testing.T) {
	browser := testkit.Browser(t)
	t.Run("HappyPath", func(t *testing.T) { testHappyPath(t, browser) })
	t.Run("UnhappyPath", func(t *testing.T) { testUnhappyPath(t, browser) })
	t.Run("MessageTextIsNotHTML", func(t *testing.T) { testMessageTextIsNotHTML(t, browser) })
}

// world is the real thing: store, core, sandbox and its HTTP server.
type world struct {
	db   *sqlite.DB
	sb   *Sandbox
	url  string // the page, ending in /sandbox/
	logs *testkit.LogBuffer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	logs := &testkit.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	db, err := sqlite.Open(ctx, filepath.Join(dir, "advocate.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	sb, err := New(Options{
		Customers:    []string{"Ada", "Ben"},
		Staff:        []string{"Sam"},
		Path:         filepath.Join(dir, "sandbox.jsonl"),
		DashboardURL: "/dashboard/",
		Logger:       log,
	})
	if err != nil {
		t.Fatalf("new sandbox: %v", err)
	}
	cfg := bot.DefaultConfig()
	cfg.Brand = "Acme"
	cfg.Secret = "browser-test-secret-0123456789"
	cfg.Staff.Set(bot.Sandbox, bot.StaffIDs{Users: sb.StaffIDs()})
	cfg.Share.Targets = []bot.ShareTarget{
		{Name: "showcase", Kind: bot.TargetCommunityPost, Label: "Post in #showcase", Text: "{{.Brand}} support sorted me out quickly."},
		{Name: "x", Kind: bot.TargetXPost, Label: "Post on X", Text: "Great help from {{.Brand}} support!"},
		{Name: "reviews", Kind: bot.TargetReviewLink, Label: "Review us", URL: "https://reviews.example/acme", Policy: bot.PolicyEveryone},
	}
	core, err := bot.New(bot.Options{Store: db, Config: cfg, Logger: log})
	if err != nil {
		t.Fatalf("new core: %v", err)
	}
	core.Register(sb)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := core.Run(ctx); err != nil {
			t.Errorf("core: %v", err)
		}
	})
	wg.Go(func() {
		if err := sb.Run(ctx, core); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := httptest.NewUnstartedServer(sb.Handler())
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		cancel() // ends the event streams, so the server can close
		srv.Close()
		wg.Wait()
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	waitFor(t, "the sandbox to run", func() bool { return sb.handler() != nil })
	return &world{db: db, sb: sb, url: srv.URL + "/sandbox/", logs: logs}
}

// tab opens the page as a persona in a new tab of the browser. A mobile tab
// has a phone's viewport.
func (w *world) tab(t *testing.T, browser context.Context, as string, mobile bool) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, with no deadline
		t.Fatalf("open tab: %v", err)
	}
	var steps []chromedp.Action[chromedp.Void]
	if mobile {
		steps = append(steps, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	} else {
		steps = append(steps, chromedp.EmulateViewport(1280, 800))
	}
	steps = append(steps,
		chromedp.Navigate(w.url+"?as="+as),
		chromedp.WaitReady(chromedp.CSS(`body[data-version][data-persona="`+as+`"]`)),
	)
	do(t, ctx, steps...)
	return ctx
}

// do runs browser steps, each bounded by stepTimeout. A step that fails is
// reported with its number and the text the page shows.
func do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, step := range steps {
		err := doStep(tab, step)
		if err != nil {
			t.Fatalf("browser step %d of %d: %v\npage text:\n%s", i+1, len(steps), err, pageText(tab))
		}
	}
}

// doStep runs one step. The page redraws a channel's messages when one
// arrives, so a node a step found can be replaced before the step clicks it;
// Chrome then reports that it cannot find the node, nothing was clicked, and
// the step is run again.
func doStep(tab context.Context, step chromedp.Action[chromedp.Void]) error {
	for range 3 {
		ctx, cancel := context.WithTimeout(tab, stepTimeout)
		err := chromedp.Do(ctx, step)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Could not find node with given id") {
			return err
		}
	}
	return errors.New("the page kept replacing the node")
}

// pageText is what the tab shows, for failure messages.
func pageText(tab context.Context) string {
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return text
}

// eval evaluates a JavaScript expression in the tab.
func eval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// xq quotes s as an XPath string literal.
func xq(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `concat("` + strings.ReplaceAll(s, `"`, `", '"', "`) + `")`
}

// shown is a message text in the open channel containing s.
func shown(s string) string {
	return `//div[@id="messages"]//div[contains(concat(" ", @class, " "), " text ")][contains(., ` + xq(s) + `)]`
}

// note is an ephemeral note in the open channel containing s.
func note(s string) string {
	return `//div[@id="messages"]//div[contains(concat(" ", @class, " "), " note ")][contains(., ` + xq(s) + `)]`
}

// button is an enabled button in the open channel labelled label.
func button(label string) string {
	return `//div[@id="messages"]//button[normalize-space(.)=` + xq(label) + ` and not(@disabled)]`
}

func channelLink(name string) chromedp.CSS {
	return chromedp.CSS(`#channels button[data-channel="` + name + `"]`)
}

// openChannel clicks a channel in the list and waits for it to show.
func openChannel(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Click(channelLink(name)),
		chromedp.WaitVisible(chromedp.CSS(`#channels button.current[data-channel="`+name+`"]`)),
	)
}

// say types a line in the composer and sends it.
func say(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("input"), text),
		chromedp.Click(chromedp.ID("send")),
	)
}

// screenshot saves the tab's viewport to docs/ when ADVOCATE_SCREENSHOTS=1.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	if os.Getenv("ADVOCATE_SCREENSHOTS") != "1" {
		return
	}
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.BringToFront, cdp.Empty{}); err != nil {
		t.Fatalf("bring %s to front: %v", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
}

// funnel polls the store until every stage count satisfies ok.
func (w *world) funnel(t *testing.T, ok func(stage string, n int) bool) []int {
	t.Helper()
	var counts []int
	waitFor(t, "the funnel", func() bool {
		rows, err := w.db.Funnel(context.Background(), bot.FunnelQuery{})
		if err != nil {
			t.Fatalf("funnel: %v", err)
		}
		if len(rows) != 1 {
			t.Fatalf("got %d funnel rows, want 1", len(rows))
		}
		counts = rows[0].Counts
		for i, n := range counts {
			if !ok(bot.Stages[i], n) {
				return false
			}
		}
		return true
	})
	return counts
}

func (w *world) caseStatus(t *testing.T, id int64) bot.Status {
	t.Helper()
	var st bot.Status
	err := w.db.View(context.Background(), func(tx bot.Tx) error {
		cs, err := tx.Case(context.Background(), id)
		if err == nil {
			st = cs.Status
		}
		return err
	})
	if err != nil {
		t.Fatalf("case %d: %v", id, err)
	}
	return st
}

// ask plays Ada asking in #support and Sam opening the private conversation.
func ask(t *testing.T, ada, sam context.Context, question string) {
	t.Helper()
	do(t, ada,
		say(question),
		chromedp.WaitVisible(shown(question)),
		chromedp.WaitVisible(shown("to a private conversation")), // the bot's thread reply
		chromedp.WaitVisible(channelLink("case-1")),
	)
	do(t, sam,
		chromedp.WaitVisible(channelLink("case-1")),
		openChannel("case-1"),
		chromedp.WaitVisible(shown("Case #1 from Ada")),
		chromedp.WaitVisible(button("Claim")),
	)
}

func testHappyPath(t *testing.T, browser context.Context) {
	w := newWorld(t)
	ada := w.tab(t, browser, "c-ada", true)
	sam := w.tab(t, browser, "s-sam", false)

	question := "My invoice shows the wrong amount"
	ask(t, ada, sam, question)
	screenshot(t, ada, "sandbox-1-question.png")

	do(t, ada,
		openChannel("case-1"),
		chromedp.WaitVisible(shown("private conversation with the Acme support team")),
		chromedp.WaitVisible(shown("Case #1 from Ada")),
	)
	if n := eval[int](t, ada, `[...document.querySelectorAll('#messages button')].filter(b => ['Claim','Resolve','Reopen'].includes(b.textContent.trim())).length`); n != 0 {
		t.Errorf("Ada sees %d staff buttons, want 0", n)
	}
	if n := eval[int](t, ada, `document.querySelectorAll('#channels [data-channel="staff"]').length`); n != 0 {
		t.Errorf("Ada sees #staff %d times, want 0", n)
	}

	reply := "Sorry about that, I have corrected the invoice"
	do(t, sam,
		say(reply),
		chromedp.WaitVisible(shown(reply)),
	)
	screenshot(t, sam, "sandbox-2-private.png")
	do(t, sam,
		chromedp.Click(button("Claim")),
		chromedp.WaitVisible(shown("Sam is handling case #1")),
		chromedp.WaitVisible(note("Done.")),
		chromedp.Click(button("Resolve")),
		chromedp.WaitVisible(shown("How satisfied are you")),
	)

	do(t, ada,
		chromedp.WaitVisible(shown(reply)),
		chromedp.WaitVisible(button("5")),
	)
	screenshot(t, ada, "sandbox-3-survey.png")
	comment := "Quick and friendly help"
	do(t, ada,
		chromedp.Click(button("5")),
		chromedp.WaitVisible(shown("You rated 5 out of 5")),
		chromedp.Click(button("Add a comment")),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] textarea`)),
		chromedp.SendKeys(chromedp.ID("modal-field-0"), comment),
		chromedp.Click(chromedp.ID("modal-submit")),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
		chromedp.WaitVisible(note("Thanks for your comment")),
		chromedp.Click(button("Post in #showcase")),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] textarea`)),
	)
	if got := eval[string](t, ada, `document.getElementById('modal-field-0').value`); got != comment {
		t.Errorf("got preview %q, want the comment %q", got, comment)
	}
	if got := eval[int](t, ada, `document.getElementById('modal-field-0').maxLength`); got != 1000 {
		t.Errorf("got maxlength %d, want 1000", got)
	}
	if n := eval[int](t, ada, `document.querySelectorAll('#messages a.btn[target="_blank"][href^="go?"]').length`); n != 2 {
		t.Errorf("got %d link buttons through the counting redirect, want 2 (X and the review)", n)
	}
	testimonial := "Acme fixed my invoice in minutes. Thank you, Sam!"
	do(t, ada,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('modal-field-0').select()`),
		chromedp.SendKeys(chromedp.ID("modal-field-0"), testimonial),
		chromedp.Click(chromedp.ID("modal-submit")),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
		chromedp.WaitVisible(shown("Your post is live")),
		chromedp.WaitVisible(button("Withdraw my post")),
		chromedp.WaitNotPresent(button("Post in #showcase")), // the prompt was replaced
	)

	do(t, sam,
		openChannel("showcase"),
		chromedp.WaitVisible(shown(testimonial)),
	)
	screenshot(t, sam, "sandbox-4-showcase.png")
	if got, want := eval[string](t, sam, `[...document.querySelectorAll('#messages .text')].map(e => e.textContent).join('|')`), "💬 “"+testimonial+"” — Ada"; got != want {
		t.Errorf("got #showcase %q, want only the edited testimonial %q", got, want)
	}

	counts := w.funnel(t, func(_ string, n int) bool { return n >= 1 })
	t.Logf("funnel %v: %v", bot.Stages, counts)
	if strings.Contains(w.logs.String(), "wrong amount") || strings.Contains(w.logs.String(), "fixed my invoice") {
		t.Error("message text leaked into the logs")
	}
}

func testUnhappyPath(t *testing.T, browser context.Context) {
	w := newWorld(t)
	ada := w.tab(t, browser, "c-ada", false)
	sam := w.tab(t, browser, "s-sam", false)
	ask(t, ada, sam, "I cannot log in")
	do(t, sam,
		say("Please try again now"),
		chromedp.Click(button("Resolve")),
		chromedp.WaitVisible(shown("How satisfied are you")),
	)
	do(t, ada,
		openChannel("case-1"),
		chromedp.Click(button("1")),
		chromedp.WaitVisible(shown("You rated 1 out of 5")),
		chromedp.WaitVisible(shown("reopened your case")),
		chromedp.WaitNotPresent(button("5")),
	)
	do(t, sam,
		openChannel("staff"),
		chromedp.WaitVisible(shown("Case #1 was rated 1/5 by Ada")),
	)
	if got, want := w.caseStatus(t, 1), bot.StatusReopened; got != want {
		t.Errorf("got case status %q, want %q", got, want)
	}
	counts := w.funnel(t, func(stage string, n int) bool {
		switch stage {
		case "satisfied", "shared":
			return n == 0
		case "asked", "taken_private", "first_response", "resolved", "surveyed", "rated":
			return n == 1
		}
		return true
	})
	t.Logf("funnel %v: %v", bot.Stages, counts)

	// The persona switcher: Ben sees neither Ada's case nor #staff.
	do(t, ada,
		chromedp.SetValue(chromedp.ID("persona"), "c-ben"), // fires change, like picking it
		chromedp.WaitReady(chromedp.CSS(`body[data-persona="c-ben"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#channels button.current[data-channel="support"]`)),
		chromedp.WaitNotPresent(channelLink("case-1")),
	)
	if n := eval[int](t, ada, `document.querySelectorAll('#channels [data-channel="staff"]').length`); n != 0 {
		t.Errorf("Ben sees #staff %d times, want 0", n)
	}
	if got := eval[string](t, ada, `new URL(location.href).searchParams.get('as')`); got != "c-ben" {
		t.Errorf("got ?as=%s after switching, want c-ben", got)
	}
}

func testMessageTextIsNotHTML(t *testing.T, browser context.Context) {
	w := newWorld(t)
	ada := w.tab(t, browser, "c-ada", false)
	sam := w.tab(t, browser, "s-sam", false)
	payload := `<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>`
	do(t, ada,
		say(payload),
		chromedp.WaitVisible(shown(payload)),
		chromedp.WaitVisible(channelLink("case-1")),
	)
	do(t, sam,
		chromedp.WaitVisible(shown(payload)),
		openChannel("case-1"),
		chromedp.WaitVisible(`//div[@id="messages"]//blockquote[contains(., `+xq(payload)+`)]`), // the question quoted in the intro
	)
	for name, tab := range map[string]context.Context{"Ada": ada, "Sam": sam} {
		if xss := eval[bool](t, tab, `typeof window.__xss !== 'undefined'`); xss {
			t.Errorf("%s: window.__xss is set: the message ran as HTML", name)
		}
		if n := eval[int](t, tab, `document.querySelectorAll('#messages img, #messages script').length`); n != 0 {
			t.Errorf("%s: got %d img or script elements in the messages, want 0", name, n)
		}
	}
	got := eval[string](t, ada, `[...document.querySelectorAll('#messages .text')].map(e => e.textContent).find(s => s.includes('<img')) || ''`)
	if got != payload {
		t.Errorf("got displayed text %q, want exactly %q", got, payload)
	}
	if got := eval[string](t, ada, `document.getElementById('dashboard').getAttribute('href') || ''`); got != "/dashboard/" {
		t.Errorf("got dashboard link %q, want /dashboard/", got)
	}
}
