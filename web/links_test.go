package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/web"
)

// newLinkFixture is the dashboard with the people page, on a core that runs
// the sandbox and Discord.
func newLinkFixture(t *testing.T) *fixture {
	t.Helper()
	h := bottest.New(t)
	h.On(bot.Discord, false)
	return newFixtureOn(t, h, func(o *web.Options) { o.Links = h.Core })
}

func (f *fixture) identities(platform, id string) []bot.Identity {
	f.t.Helper()
	var ids []bot.Identity
	err := f.h.Store.View(f.t.Context(), func(tx bot.Tx) (err error) {
		ids, err = tx.Identities(f.t.Context(), bot.Identity{Platform: platform, ID: id})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// peopleCSRF reads the people page as c and returns its form token.
func (f *fixture) peopleCSRF(c *http.Client) string {
	f.t.Helper()
	resp, body := f.do(c, "GET", "/dashboard/people", nil)
	m := csrfToken(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		f.t.Fatalf("people page: got %d, want 200 with forms:\n%s", resp.StatusCode, body)
	}
	return m[1]
}

func TestStaffLinkAndUnlinkOnThePeoplePage(t *testing.T) {
	f := newLinkFixture(t)
	admin := f.signedIn(adminName, adminPassword)
	csrf := f.peopleCSRF(admin)
	link := url.Values{"csrf": {csrf}, "platform": {bot.Sandbox}, "id": {"u-ada"}, "platform2": {bot.Discord}, "id2": {"9001"}}

	// Without the form's token nothing happens.
	noToken := url.Values{}
	for k, v := range link {
		if k != "csrf" {
			noToken[k] = v
		}
	}
	if resp, _ := f.do(admin, "POST", "/dashboard/people/link", noToken); resp.StatusCode != http.StatusForbidden {
		t.Errorf("link without the CSRF token: got %d, want 403", resp.StatusCode)
	}
	if ids := f.identities(bot.Sandbox, "u-ada"); len(ids) != 1 {
		t.Fatalf("linked without a CSRF token: %v", ids)
	}

	resp, _ := f.do(admin, "POST", "/dashboard/people/link", link)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/people?done=linked" {
		t.Fatalf("link: got %d to %q, want 303 to the people page", resp.StatusCode, resp.Header.Get("Location"))
	}
	want := []bot.Identity{{Platform: bot.Discord, ID: "9001"}, {Platform: bot.Sandbox, ID: "u-ada"}}
	if got := f.identities(bot.Sandbox, "u-ada"); !slices.Equal(got, want) {
		t.Errorf("identities after linking: got %v, want %v", got, want)
	}
	_, body := f.do(admin, "GET", "/dashboard/people?done=linked", nil)
	for _, s := range []string{"Linked: they are one person now.", "1 person with linked identities", "9001", "u-ada",
		"on the dashboard, by " + adminName, `href="/dashboard/people" aria-current="page"`} {
		if !strings.Contains(body, s) {
			t.Errorf("people page lacks %q", s)
		}
	}
	_, body = f.do(admin, "GET", "/dashboard/people?platform=discord&id=9001", nil)
	if !strings.Contains(body, "discord:9001 is one person with sandbox:u-ada.") {
		t.Errorf("look-up of discord:9001: the page does not say who it is linked with:\n%s", body)
	}

	// Bad identities are refused with the reason, and nothing changes.
	for name, v := range map[string]url.Values{
		"unknown platform": {"csrf": {csrf}, "platform": {"irc"}, "id": {"ada"}, "platform2": {bot.Discord}, "id2": {"9002"}},
		"itself":           {"csrf": {csrf}, "platform": {bot.Discord}, "id": {"9002"}, "platform2": {bot.Discord}, "id2": {"9002"}},
		"empty ID":         {"csrf": {csrf}, "platform": {bot.Discord}, "id": {""}, "platform2": {bot.Sandbox}, "id2": {"u-ben"}},
	} {
		resp, body := f.do(admin, "POST", "/dashboard/people/link", v)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "invalid identity") {
			t.Errorf("%s: got %d, want 400 saying why", name, resp.StatusCode)
		}
	}
	if got := f.identities(bot.Discord, "9002"); len(got) != 1 {
		t.Errorf("a refused link linked %v", got)
	}

	unlink := url.Values{"csrf": {csrf}, "platform": {bot.Discord}, "id": {"9001"}}
	resp, _ = f.do(admin, "POST", "/dashboard/people/unlink", unlink)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/people?done=unlinked" {
		t.Fatalf("unlink: got %d to %q, want 303", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := f.identities(bot.Sandbox, "u-ada"); len(got) != 1 {
		t.Errorf("identities after unlinking: got %v, want none linked", got)
	}
	resp, body = f.do(admin, "POST", "/dashboard/people/unlink", unlink)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not linked with anyone") {
		t.Errorf("unlink again: got %d, want 404 saying it is not linked", resp.StatusCode)
	}
	if logs := f.logs.String(); strings.Contains(logs, "9001") {
		t.Errorf("the dashboard logged a user ID:\n%s", logs)
	}
}

func TestPeoplePageIsForAdmins(t *testing.T) {
	f := newLinkFixture(t)
	if err := f.h.Core.Link(t.Context(), bot.Identity{Platform: bot.Sandbox, ID: "u-ada"}, bot.Identity{Platform: bot.Discord, ID: "9001"}, "test"); err != nil {
		t.Fatal(err)
	}
	viewer := f.signedIn(viewerName, viewerPassword)
	resp, body := f.do(viewer, "GET", "/dashboard/people", nil)
	if resp.StatusCode != http.StatusForbidden || strings.Contains(body, "9001") {
		t.Errorf("people page for a viewer: got %d, want 403 without the list", resp.StatusCode)
	}
	_, body = f.do(viewer, "GET", "/dashboard/", nil)
	if strings.Contains(body, `href="/dashboard/people"`) {
		t.Errorf("a viewer's navigation links to the people page")
	}
	csrf := csrfToken(body)[1]
	resp, _ = f.do(viewer, "POST", "/dashboard/people/unlink", url.Values{"csrf": {csrf}, "platform": {bot.Discord}, "id": {"9001"}})
	if resp.StatusCode != http.StatusForbidden || len(f.identities(bot.Discord, "9001")) != 2 {
		t.Errorf("unlink by a viewer: got %d, want 403 and the link kept", resp.StatusCode)
	}
	// The read-only token reads the page and changes nothing.
	c := f.client()
	if resp, _ := f.do(c, "GET", "/dashboard/people", nil, "Authorization", "Bearer "+token); resp.StatusCode != http.StatusOK {
		t.Errorf("people page with the token: got %d, want 200", resp.StatusCode)
	}
	resp, _ = f.do(c, "POST", "/dashboard/people/unlink", url.Values{"platform": {bot.Discord}, "id": {"9001"}}, "Authorization", "Bearer "+token)
	if resp.StatusCode != http.StatusForbidden || len(f.identities(bot.Discord, "9001")) != 2 {
		t.Errorf("unlink with the read-only token: got %d, want 403 and the link kept", resp.StatusCode)
	}
}

func TestPeoplePageEscapesIDs(t *testing.T) {
	f := newLinkFixture(t)
	odd := `<b>x</b>"'`
	if err := f.h.Core.Link(t.Context(), bot.Identity{Platform: bot.Sandbox, ID: odd}, bot.Identity{Platform: bot.Discord, ID: "9001"}, "test"); err != nil {
		t.Fatal(err)
	}
	_, body := f.do(f.signedIn(adminName, adminPassword), "GET", "/dashboard/people", nil)
	if strings.Contains(body, "<b>x</b>") || !strings.Contains(body, "&lt;b&gt;x&lt;/b&gt;") {
		t.Errorf("an ID with markup is not escaped on the people page")
	}
}

func TestNoPeoplePageWithoutLinks(t *testing.T) {
	f := newFixture(t)
	admin := f.signedIn(adminName, adminPassword)
	if resp, _ := f.do(admin, "GET", "/dashboard/people", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("people page without Links: got %d, want 404", resp.StatusCode)
	}
	if _, body := f.do(admin, "GET", "/dashboard/", nil); strings.Contains(body, `href="/dashboard/people"`) {
		t.Errorf("navigation links to a people page that is not served")
	}
}

// testLinkOnThePeoplePage links two identities through the form in
// Chromium, sees them listed, and unlinks one with its button.
func testLinkOnThePeoplePage(t *testing.T, browser context.Context) {
	f := newLinkFixture(t)
	ctx := tab(t, browser)
	signIn(t, ctx, f.srv.URL, adminName, adminPassword)
	do(t, ctx, "link two identities",
		chromedp.Click(css(`header nav a[href="/dashboard/people"]`)),
		chromedp.WaitVisible(css(`form[action="/dashboard/people/link"]`)),
		chromedp.SetValue(css(`select[name="platform"]`), bot.Sandbox),
		chromedp.SendKeys(css(`input[name="id"]`), "u-ada"),
		chromedp.SetValue(css(`select[name="platform2"]`), bot.Discord),
		chromedp.SendKeys(css(`input[name="id2"]`), "9001"),
		chromedp.Click(css(`form[action="/dashboard/people/link"] button`)),
		chromedp.WaitVisible(css(`p.done`)),
	)
	rows := get(t, ctx, "the list", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('main table tbody tr')).map(r => Array.from(r.cells).slice(1, 3).map(c => c.textContent).join(':'))`))
	if want := []string{"discord:9001", "sandbox:u-ada"}; !sameElements(rows, want) {
		t.Errorf("linked people on the page: got %v, want %v", rows, want)
	}
	if os.Getenv("ADVOCATE_SCREENSHOTS") == "1" {
		do(t, ctx, "size the page", chromedp.EmulateViewport(1100, 700))
		png := get(t, ctx, "screenshot", chromedp.FullScreenshot(100)) // 100: PNG
		if err := os.WriteFile(filepath.Join("..", "docs", "dashboard-people.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	do(t, ctx, "unlink one",
		chromedp.Click(css(`button[aria-label="Unlink discord:9001"]`)),
		chromedp.WaitVisible(css(`td.empty`)), // "Nobody has linked identities yet."
	)
	if msg := get(t, ctx, "message", chromedp.Text(css(`p.done`))); !strings.HasPrefix(msg, "Unlinked") {
		t.Errorf("after unlinking: got %q", msg)
	}
	if got := f.identities(bot.Sandbox, "u-ada"); len(got) != 1 {
		t.Errorf("identities after unlinking in the browser: got %v, want none linked", got)
	}
}

func sameElements(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
