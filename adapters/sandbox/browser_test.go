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
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// stepTimeout bounds each browser step: patience for a slow machine, not a
// speed assertion.
const stepTimeout = 60 * time.Second

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
	cfg := bot.DefaultConfig()
	cfg.Brand = "Acme"
	cfg.Secret = "browser-test-secret-0123456789"
	cfg.KeepText = true // as in the example configuration, the sandbox's demo
	cfg.Wall.Enabled = true
	cfg.Share.Targets = []bot.ShareTarget{
		{Name: "showcase", Kind: bot.TargetCommunityPost, Label: "Post in #showcase", Text: "{{.Brand}} support sorted me out quickly."},
		{Name: "x", Kind: bot.TargetXPost, Label: "Post on X", Text: "Great help from {{.Brand}} support!"},
		{Name: "reviews", Kind: bot.TargetReviewLink, Label: "Review us", URL: "https://reviews.example/acme", Policy: bot.PolicyEveryone},
	}
	return newWorldWith(t, cfg, []string{"Ada", "Ben"}, []string{"Sam"})
}

// newWorldWith starts a world with the given core configuration (the
// sandbox's staff personas are added to it) and personas.
func newWorldWith(t *testing.T, cfg bot.Config, customers, staff []string) *world {
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
		Customers:    customers,
		Staff:        staff,
		Path:         filepath.Join(dir, "sandbox.jsonl"),
		DashboardURL: "/dashboard/",
		Logger:       log,
	})
	if err != nil {
		t.Fatalf("new sandbox: %v", err)
	}
	cfg.Staff.Set(bot.Sandbox, bot.StaffIDs{Users: sb.StaffIDs()})
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
		chromedp.WaitReady(chromedp.CSS(`#status.live`)), // the event stream is open
	)
	do(t, ctx, steps...)
	return ctx
}

// do runs browser steps, each bounded by stepTimeout. A step that fails is
// reported with its number and the text the page shows.
func do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// A person acts in the tab they look at. Chrome lowers the priority of a
	// tab in the background (its renderer runs at nice 5 on Linux) and
	// throttles it, which on a busy machine can hold its updates for longer
	// than a step waits.
	if err := doStep(tab, frontAction); err != nil {
		t.Fatalf("bring the tab to the front: %v", err)
	}
	for i, step := range steps {
		err := doStep(tab, step)
		if err != nil {
			t.Fatalf("browser step %d of %d: %v\npage text:\n%s", i+1, len(steps), err, pageText(tab))
		}
	}
}

// frontAction brings a tab to the front.
func frontAction(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
	_, err := chromedp.Call(ctx, page.BringToFront, cdp.Empty{})
	return chromedp.Void{}, err
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

// eval evaluates a JavaScript expression in the tab (awaiting a promise).
func eval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
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

// say writes a line in the composer, sends it, and waits until the page took
// it (it empties the composer when it sends).
func say(text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		typeIn(chromedp.ID("input"), text),
		chromedp.Click(chromedp.ID("send")),
		void(chromedp.Poll[bool](`document.getElementById('input').value === ''`)),
	)
}

// typeIn enters text in a field at once, as a paste or an input method does.
// Typing it key by key (SendKeys) costs the renderer a round trip per key,
// which on a loaded machine can outlast a step.
func typeIn(sel chromedp.ID, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Focus(sel),
		func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text})
			return chromedp.Void{}, err
		},
	)
}

// void drops an action's result.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
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

// replyIn starts a reply in the thread of the message containing root.
func replyIn(root string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Click(`//div[@id="messages"]/article[.//div[contains(concat(" ", @class, " "), " text ")][contains(., `+xq(root)+`)]]`+
			`/div[contains(concat(" ", @class, " "), " thread ")]/button[contains(concat(" ", @class, " "), " reply ")]`),
		chromedp.WaitVisible(chromedp.CSS(`#replying:not([hidden])`)),
	)
}

// ask plays Ada asking in #support and Sam opening the case's thread in
// #staff, where its staff intro and controls are.
func ask(t *testing.T, ada, sam context.Context, question string) {
	t.Helper()
	do(t, ada,
		say(question),
		chromedp.WaitVisible(shown(question)),
		chromedp.WaitVisible(shown("to a private conversation")), // the bot's thread reply
		chromedp.WaitVisible(channelLink("case-1")),
	)
	do(t, sam,
		openChannel("staff"),
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
		chromedp.WaitVisible(button("My problem is solved")),
	)
	reply := "Sorry about that, I have corrected the invoice"
	staffNote := "refund approved by billing"
	do(t, sam,
		chromedp.Click(button("Claim")),
		chromedp.WaitVisible(shown("Sam is handling case #1")),
		chromedp.WaitVisible(shown("Sam is handling it")), // the controls, redrawn
		replyIn("Case #1: Ada"),
		say("!note "+staffNote),
		chromedp.WaitVisible(shown(staffNote)),
		say(reply),
		chromedp.WaitVisible(shown(reply)),
	)
	screenshot(t, sam, "sandbox-2-staff.png")
	do(t, ada,
		chromedp.WaitVisible(shown("Sam: "+reply)),
	)
	screenshot(t, ada, "sandbox-2-private.png")
	w.customerSeesNoStaffSide(t, ada, staffNote)

	do(t, sam,
		chromedp.Click(button("Resolve")),
		chromedp.WaitVisible(shown("was resolved by Sam")),
		chromedp.WaitVisible(button("Reopen")),
		chromedp.WaitNotPresent(button("Resolve")),
	)
	do(t, ada,
		chromedp.WaitVisible(button("5")),
		chromedp.WaitNotPresent(button("My problem is solved")),
	)
	screenshot(t, ada, "sandbox-3-survey.png")
	comment := "Quick and friendly help"
	do(t, ada,
		chromedp.Click(button("5")),
		chromedp.WaitVisible(shown("Your answer is recorded")),
		chromedp.Click(button("Add a comment")),
		chromedp.WaitVisible(chromedp.CSS(`#modal[open] textarea`)),
		typeIn(chromedp.ID("modal-field-0"), comment),
		chromedp.Click(chromedp.ID("modal-submit")),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
		chromedp.WaitVisible(note("Thanks for your comment")),
		chromedp.WaitNotPresent(button("Add a comment")),
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
	if eval[bool](t, ada, `document.getElementById('modal-field-1').checked`) {
		t.Errorf("the website check box starts ticked")
	}
	testimonial := "Acme fixed my invoice in minutes. Thank you, Sam!"
	do(t, ada,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('modal-field-0').select()`),
		typeIn(chromedp.ID("modal-field-0"), testimonial),
		chromedp.Click(chromedp.ID("modal-field-1")), // also show it on the website
		typeIn(chromedp.ID("modal-field-2"), "Ada L."),
		chromedp.Click(chromedp.ID("modal-submit")),
		chromedp.WaitNotPresent(chromedp.CSS(`#modal[open]`)),
		chromedp.WaitVisible(shown("Your post is live in the community and on our website")),
		chromedp.WaitVisible(button("Withdraw my post")),
		chromedp.WaitNotPresent(button("Post in #showcase")), // the prompt was replaced
		chromedp.WaitNotPresent(button("No thanks")),
	)

	do(t, sam,
		openChannel("showcase"),
		chromedp.WaitVisible(shown(testimonial)),
	)
	screenshot(t, sam, "sandbox-4-showcase.png")
	if got, want := eval[string](t, sam, `[...document.querySelectorAll('#messages .text')].map(e => e.textContent).join('|')`), "💬 “"+testimonial+"” — Ada"; got != want {
		t.Errorf("got #showcase %q, want only the edited testimonial %q", got, want)
	}

	wall, err := w.db.Wall(t.Context(), 0, 0)
	if err != nil || len(wall) != 1 || wall[0].Name != "Ada L." || wall[0].Text != testimonial {
		t.Errorf("the wall: got %+v, %v; want Ada's testimonial under the name she typed", wall, err)
	}

	counts := w.funnel(t, func(_ string, n int) bool { return n >= 1 })
	t.Logf("funnel %v: %v", bot.Stages, counts)
	w.customerSeesNoStaffSide(t, ada, staffNote)
	if strings.Contains(w.logs.String(), "wrong amount") || strings.Contains(w.logs.String(), "fixed my invoice") || strings.Contains(w.logs.String(), staffNote) {
		t.Error("message text leaked into the logs")
	}
}

// customerSeesNoStaffSide checks what the customer's tab shows, in every
// channel it lists: no #staff, no staff intro, no staff control, no note.
func (w *world) customerSeesNoStaffSide(t *testing.T, tab context.Context, notes ...string) {
	t.Helper()
	text := eval[string](t, tab, `(async () => {
		const st = await (await fetch('api/state?as=' + encodeURIComponent(document.body.dataset.persona))).json();
		return JSON.stringify(st.channels);
	})()`)
	for _, leak := range append([]string{"Case #1 from", `"label":"Claim"`, `"label":"Resolve"`, `"label":"Reopen"`, `"name":"staff"`}, notes...) {
		if strings.Contains(text, leak) {
			t.Errorf("the customer's page state contains %s", leak)
		}
	}
	if n := eval[int](t, tab, `document.querySelectorAll('#channels [data-channel="staff"]').length`); n != 0 {
		t.Errorf("the customer sees #staff %d times, want 0", n)
	}
}

func testUnhappyPath(t *testing.T, browser context.Context) {
	w := newWorld(t)
	ada := w.tab(t, browser, "c-ada", false)
	sam := w.tab(t, browser, "s-sam", false)
	ask(t, ada, sam, "I cannot log in")
	do(t, sam,
		openChannel("case-1"), // staff may answer on the customer's side too
		say("Please try again now"),
		chromedp.WaitVisible(shown("Please try again now")),
		openChannel("staff"),
		chromedp.WaitVisible(shown("Sam: Please try again now")), // copied to the staff side
		chromedp.Click(button("Resolve")),
		chromedp.WaitVisible(shown("was resolved by Sam")),
	)
	do(t, ada,
		openChannel("case-1"),
		chromedp.WaitVisible(shown("How satisfied are you")),
		chromedp.Click(button("1")),
		chromedp.WaitVisible(shown("Your answer is recorded")),
		chromedp.WaitVisible(shown("reopened your case")),
		chromedp.WaitNotPresent(button("5")),
	)
	do(t, sam,
		openChannel("staff"),
		chromedp.WaitVisible(shown("Case #1: Ada was not satisfied with the help")),
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
		openChannel("staff"),
		chromedp.WaitVisible(`//div[@id="messages"]//blockquote[contains(., `+xq(payload)+`)]`), // the question quoted in the staff intro
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
