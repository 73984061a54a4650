package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/config"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/seed"
	"github.com/advocate-bot/advocate/store/sqlite"
	"github.com/advocate-bot/advocate/web"
)

// stepTimeout bounds each browser step: patience for a slow machine, not a
// speed assertion.
const stepTimeout = 30 * time.Second

// TestBrowser uses the dashboard in headless Chromium. The subtests share one
// browser, each in its own tab.
func TestBrowser(t *testing.T) {
	browser := testkit.Browser(t)
	t.Run("LoginAndFunnelNumbers", func(t *testing.T) { testLoginAndFunnel(t, browser) })
	t.Run("CustomerTextIsNotHTML", func(t *testing.T) { testCustomerTextIsNotHTML(t, browser) })
	t.Run("CasePageForEachRole", func(t *testing.T) { testCasePageForEachRole(t, browser) })
	t.Run("LinkOnThePeoplePage", func(t *testing.T) { testLinkOnThePeoplePage(t, browser) })
	t.Run("WallAndItsSnippet", func(t *testing.T) { testWallInTheBrowser(t, browser) })
	t.Run("ExperimentTable", func(t *testing.T) { testExperimentTable(t, browser) })
	if os.Getenv("ADVOCATE_SCREENSHOTS") == "1" {
		t.Run("Screenshot", func(t *testing.T) { testScreenshot(t, browser) })
	}
}

// tab opens a new tab of the browser for one test.
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, with no deadline
		t.Fatalf("open tab: %v", err)
	}
	return ctx
}

// do runs browser steps, each with a deadline.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, step := range steps {
		sctx, cancel := context.WithTimeout(ctx, stepTimeout)
		err := chromedp.Do(sctx, step)
		cancel()
		if err != nil {
			t.Fatalf("%s, step %d of %d: %v", what, i+1, len(steps), err)
		}
	}
}

// get runs one browser action that reads a value, with a deadline.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// signIn opens a dashboard page, which sends the browser to the login form,
// and signs in there.
func signIn(t *testing.T, ctx context.Context, base, name, password string) {
	t.Helper()
	do(t, ctx, "open the dashboard",
		chromedp.Navigate(base+"/dashboard/"),
		chromedp.WaitVisible(css(`input[name="name"]`)),
	)
	loginURL := get(t, ctx, "location", chromedp.Location())
	do(t, ctx, "sign in",
		chromedp.SendKeys(css(`input[name="name"]`), name),
		chromedp.SendKeys(css(`input[name="password"]`), password),
		chromedp.Click(css(`form.login button[type="submit"]`)),
		chromedp.WaitVisible(css(`#funnel`)),
	)
	if !strings.Contains(loginURL, "/login?next=") {
		t.Errorf("the dashboard did not send the browser to the login form: at %s", loginURL)
	}
}

func testLoginAndFunnel(t *testing.T, browser context.Context) {
	f := newFixture(t)
	f.play(someStories(24)...)
	ctx := tab(t, browser)

	// A wrong password first: the form says so and stays.
	do(t, ctx, "bad login",
		chromedp.Navigate(f.srv.URL+"/login"),
		chromedp.WaitVisible(css(`input[name="name"]`)),
		chromedp.SendKeys(css(`input[name="name"]`), adminName),
		chromedp.SendKeys(css(`input[name="password"]`), "not the password"),
		chromedp.Click(css(`form.login button[type="submit"]`)),
		chromedp.WaitVisible(css(`p.error`)),
	)
	if msg := get(t, ctx, "error", chromedp.Text(css(`p.error`))); msg != "Wrong name or password." {
		t.Errorf("bad login message: got %q", msg)
	}
	signIn(t, ctx, f.srv.URL, adminName, adminPassword)

	cells := get(t, ctx, "read the funnel", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('#funnel tbody tr')).map(r => r.dataset.stage + '=' + r.querySelector('td.count').textContent.replaceAll(',', ''))`))
	now := f.h.Clock.Now().UTC().Truncate(24 * time.Hour)
	rows, err := f.h.Store.Funnel(t.Context(), bot.FunnelQuery{Since: now.AddDate(0, 0, -29), Until: now.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, s := range bot.Stages {
		want = append(want, s+"="+strconv.Itoa(rows[0].Counts[i]))
	}
	if strings.Join(cells, " ") != strings.Join(want, " ") {
		t.Errorf("funnel on the page:\n got %v\nwant %v (db.Funnel)", cells, want)
	}
	if rows[0].Counts[0] != 24 || rows[0].Counts[len(bot.Stages)-1] == 0 {
		t.Errorf("the stories should fill the funnel: got %v", rows[0].Counts)
	}

	// The filter form: a platform with no case empties the funnel.
	do(t, ctx, "filter by platform",
		chromedp.Navigate(f.srv.URL+"/dashboard/?period=7d&platform=slack"),
		chromedp.WaitVisible(css(`#funnel`)),
	)
	if asked := get(t, ctx, "asked", chromedp.Text(css(`#funnel tbody tr[data-stage="asked"] td.count`))); asked != "0" {
		t.Errorf("asked on slack (the stories are on the sandbox): got %s, want 0", asked)
	}
	// Sign out through the header's form.
	do(t, ctx, "sign out",
		chromedp.Navigate(f.srv.URL+"/dashboard/"),
		chromedp.WaitVisible(css(`form.who button`)),
		chromedp.Click(css(`form.who button`)),
		chromedp.WaitVisible(css(`form.login`)),
	)
	if where := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(where, "/login") {
		t.Errorf("after signing out: at %s, want the login form", where)
	}
}

func testCustomerTextIsNotHTML(t *testing.T, browser context.Context) {
	f := newFixture(t)
	const evil = `<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`
	ids := f.play(story{score: 5, say: "hello " + evil, share: "great " + evil})
	ctx := tab(t, browser)
	signIn(t, ctx, f.srv.URL, adminName, adminPassword)
	for _, p := range []struct{ path, sel string }{
		{"/dashboard/cases/" + strconv.FormatInt(ids[0], 10), "#transcript"},
		{"/dashboard/testimonials", "article.testimonial blockquote"},
	} {
		do(t, ctx, "open "+p.path,
			chromedp.Navigate(f.srv.URL+p.path),
			chromedp.WaitVisible(css(p.sel)),
			chromedp.Sleep(200*time.Millisecond), // give an injected handler its chance to run
		)
		text := get(t, ctx, "text", chromedp.Text(css(p.sel)))
		injected := get(t, ctx, "elements", chromedp.Evaluate[int](`document.querySelectorAll('main script, main img').length`))
		title := get(t, ctx, "title", chromedp.Title())
		if !strings.Contains(text, `<script>document.title="pwned"</script>`) {
			t.Errorf("%s: the customer's text is not shown as text: %q", p.path, text)
		}
		if injected != 0 || title == "pwned" {
			t.Errorf("%s: the customer's markup became elements (%d) or ran (title %q)", p.path, injected, title)
		}
	}
}

// testCasePageForEachRole reads a case page as an admin (staff by name, a
// timeline in sentences) and as a viewer (no staff member at all).
func testCasePageForEachRole(t *testing.T, browser context.Context) {
	f := newFixture(t)
	ids := f.play(someStories(2)...)
	casePath := f.srv.URL + "/dashboard/cases/" + strconv.FormatInt(ids[0], 10)
	ctx := tab(t, browser)
	read := func() (main, timeline string) {
		do(t, ctx, "open the case", chromedp.Navigate(casePath), chromedp.WaitVisible(css(`#timeline`)))
		squash := func(s string) string { return strings.Join(strings.Fields(s), " ") }
		return squash(get(t, ctx, "page", chromedp.Text(css(`main`)))), squash(get(t, ctx, "timeline", chromedp.Text(css(`#timeline`))))
	}
	signOut := func() {
		do(t, ctx, "sign out", chromedp.Click(css(`form.who button`)), chromedp.WaitVisible(css(`form.login`)))
	}

	signIn(t, ctx, f.srv.URL, adminName, adminPassword)
	headline := get(t, ctx, "headline", chromedp.Text(css(`section.tiles`)))
	if !strings.Contains(headline, "of rated cases satisfied") {
		t.Errorf("funnel headline: got %q, want the satisfied share of rated cases", headline)
	}
	page, timeline := read()
	if !strings.Contains(page, "Assignee") || !strings.Contains(timeline, "First staff response by Sam after 5 min") {
		t.Errorf("admin case page: want the assignee and the responder by name:\n%s", page)
	}
	for _, raw := range []string{"seconds", "recovery", "{"} {
		if strings.Contains(timeline, raw) {
			t.Errorf("admin timeline shows raw detail %q:\n%s", raw, timeline)
		}
	}
	signOut()

	signIn(t, ctx, f.srv.URL, viewerName, viewerPassword)
	page, timeline = read()
	if strings.Contains(page, "Sam") || strings.Contains(page, "staff1") || strings.Contains(page, "Assignee") {
		t.Errorf("viewer case page shows a staff member:\n%s", page)
	}
	if !strings.Contains(timeline, "First staff response by staff") {
		t.Errorf("viewer timeline: want staff in general terms:\n%s", timeline)
	}
	signOut()
}

// testScreenshot takes docs/dashboard.png of the funnel page over a
// generated community of 40,000 cases.
func testScreenshot(t *testing.T, browser context.Context) {
	end := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	path, err := seed.Cached(t.Context(), t.TempDir(), seed.Options{Cases: 40000, End: end, Days: 180, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	key, err := db.SessionKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.New(web.Options{Store: db, Sessions: db, SessionKey: key, SLA: time.Hour, Now: func() time.Time { return end.Add(-time.Minute) },
		Users: []config.DashboardUser{{Name: "dana", PasswordHash: hash(t, "pw"), Role: config.RoleAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	ctx := tab(t, browser)
	signIn(t, ctx, srv.URL, "dana", "pw")
	do(t, ctx, "open the funnel",
		chromedp.EmulateViewport(1200, 900),
		chromedp.Navigate(srv.URL+"/dashboard/?period=90d"),
		chromedp.WaitVisible(css(`#funnel`)),
	)
	png := get(t, ctx, "screenshot", chromedp.FullScreenshot(100)) // 100: PNG
	out := filepath.Join("..", "docs", "dashboard.png")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(png))
}
