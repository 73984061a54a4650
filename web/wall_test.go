package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/advocate-bot/advocate/web"
)

// wallOn turns the wall on, for the Acme community.
func wallOn(o *web.Options) { o.Wall, o.Brand = true, "Acme" }

// feed is /wall.json as a client reads it.
type feed struct {
	Testimonials []map[string]any `json:"testimonials"`
	Page         int              `json:"page"`
	NextPage     int              `json:"next_page"`
}

func (f *fixture) feed(path string) (*http.Response, feed) {
	f.t.Helper()
	resp, body := f.do(f.client(), "GET", path, nil)
	var fd feed
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &fd); err != nil {
			f.t.Fatalf("%s: %v\n%s", path, err, body)
		}
	}
	return resp, fd
}

// texts are the testimonials' texts of a feed, in order.
func (fd feed) texts() []string {
	var out []string
	for _, t := range fd.Testimonials {
		out = append(out, fmt.Sprint(t["text"]))
	}
	return out
}

// withdraw has the customer of story i withdraw their post.
func (f *fixture) withdraw(id int64, i int) {
	f.t.Helper()
	who := f.h.Person(fmt.Sprintf("u-%d", i), fmt.Sprintf("Customer %d", i))
	cs := f.h.Case(id)
	f.h.Click(who, f.h.WithButton(cs.Private.Channel, "Withdraw my post"), "Withdraw my post")
}

var wallStories = []story{
	{score: 5, share: "Ana's words: fixed in minutes", wall: true, name: "Ana P."},
	{score: 5, share: "Bo's words: kind and quick", wall: true},
	{score: 5, share: "Cy's words: not for the website", name: "Cy"}, // a name, but not the choice
	{score: 5},
	{score: 1, say: "Dee's private message"},
}

func TestWallShowsOnlyWhatCustomersChose(t *testing.T) {
	f := newFixture(t, wallOn)
	ids := f.play(wallStories...)

	resp, fd := f.feed("/wall.json")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/wall.json without signing in: got %d, want 200", resp.StatusCode)
	}
	if got, want := fd.texts(), []string{"Bo's words: kind and quick", "Ana's words: fixed in minutes"}; !slices.Equal(got, want) {
		t.Errorf("feed texts: got %q, want %q (newest first)", got, want)
	}
	day := f.h.Offers(ids[1])[0].WallAt.UTC().Format("2006-01-02")
	for i, want := range []map[string]any{
		{"name": "a customer", "text": "Bo's words: kind and quick"},
		{"name": "Ana P.", "text": "Ana's words: fixed in minutes"},
	} {
		got := fd.Testimonials[i]
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range got {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, []string{"date", "name", "text"}) {
			t.Errorf("testimonial %d has keys %v, want date, name and text only", i, keys)
		}
		if got["name"] != want["name"] || got["text"] != want["text"] || got["date"] != day {
			t.Errorf("testimonial %d: got %v, want %v on %s", i, got, want, day)
		}
	}
	if fd.Page != 1 || fd.NextPage != 0 {
		t.Errorf("feed pages: got page %d next %d, want 1 and none", fd.Page, fd.NextPage)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("CORS: got %q, want *", got)
	}

	page, body := f.do(f.client(), "GET", "/wall", nil)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/wall: got %d %s", page.StatusCode, page.Header.Get("Content-Type"))
	}
	body = html.UnescapeString(body)
	text := visibleText(body)
	for _, want := range []string{"What our customers say about Acme", "Ana's words", "— Ana P.,", "Bo's words", "— a customer,"} {
		if !strings.Contains(text, want) {
			t.Errorf("/wall does not show %q:\n%s", want, text)
		}
	}
	f.wantNothingElse(t, ids, body, "/wall")
	_, raw := f.do(f.client(), "GET", "/wall.json", nil)
	f.wantNothingElse(t, ids, raw, "/wall.json")
}

// wantNothingElse fails if a wall response holds anything the database
// knows beside the chosen testimonials: texts not chosen, customers' IDs and
// platform names, channels, message and case IDs, staff.
func (f *fixture) wantNothingElse(t *testing.T, ids []int64, body, what string) {
	t.Helper()
	forbidden := []string{"Cy's words", "Dee's private message", "I need help with my account", "Looking into it",
		"Customer 0", "Customer 1", "u-0", "u-1", "u-2", "staff1", "Sam", "support", "showcase", "case-", "sandbox"}
	for _, id := range ids {
		forbidden = append(forbidden, fmt.Sprintf("#%d", id), fmt.Sprintf("case %d", id))
	}
	var refs []string
	for _, id := range ids {
		cs := f.h.Case(id)
		refs = append(refs, cs.Public.Message, cs.Private.Channel, cs.Staff.Thread)
		for _, o := range f.h.Offers(id) {
			refs = append(refs, o.Post.Message, o.Target, o.Policy)
		}
	}
	for _, r := range refs {
		if r != "" && regexp.MustCompile(`\b`+regexp.QuoteMeta(r)+`\b`).MatchString(body) {
			forbidden = append(forbidden, r)
		}
	}
	for _, s := range forbidden {
		if strings.Contains(body, s) {
			t.Errorf("%s shows %q, which is not the customers' to show:\n%s", what, s, body)
		}
	}
}

func TestWallChoiceOnTheTimeline(t *testing.T) {
	f := newFixture(t, wallOn)
	ids := f.play(wallStories[:3]...)
	admin := f.signedIn(adminName, adminPassword)
	for i, want := range []string{"Wall choice by Customer 0 also on the website, as “Ana P.”",
		"Wall choice by Customer 1 also on the website, as “a customer”", "Wall choice by Customer 2 not on the website"} {
		_, page := f.do(admin, "GET", fmt.Sprintf("/dashboard/cases/%d", ids[i]), nil)
		if text := html.UnescapeString(visibleText(page)); !strings.Contains(text, want) {
			t.Errorf("case %d's timeline lacks %q:\n%s", ids[i], want, text)
		}
	}
}

func TestWallWithdrawalIsAtOnce(t *testing.T) {
	f := newFixture(t, wallOn)
	ids := f.play(wallStories[:2]...)
	first, _ := f.do(f.client(), "GET", "/wall.json", nil)
	etag := first.Header.Get("ETag")
	if etag == "" || first.Header.Get("Cache-Control") != "public, no-cache" {
		t.Fatalf("wall cache headers: ETag %q, Cache-Control %q; want an ETag and public, no-cache",
			etag, first.Header.Get("Cache-Control"))
	}
	same, body := f.do(f.client(), "GET", "/wall.json", nil, "If-None-Match", etag)
	if same.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("unchanged wall with its ETag: got %d %q, want 304 and no body", same.StatusCode, body)
	}

	f.withdraw(ids[0], 0)
	after, fd := f.feed("/wall.json")
	if got := fd.texts(); !slices.Equal(got, []string{"Bo's words: kind and quick"}) {
		t.Errorf("feed after Ana withdrew: got %q, want Bo's only", got)
	}
	revalidated, _ := f.do(f.client(), "GET", "/wall.json", nil, "If-None-Match", etag)
	if revalidated.StatusCode != http.StatusOK || after.Header.Get("ETag") == etag {
		t.Errorf("a cache revalidating after the withdrawal: got %d, ETag unchanged %v; want 200 and a new ETag",
			revalidated.StatusCode, after.Header.Get("ETag") == etag)
	}
	_, page := f.do(f.client(), "GET", "/wall", nil)
	if strings.Contains(page, "Ana") {
		t.Errorf("/wall still shows Ana's testimonial after she withdrew it")
	}
}

func TestWallPages(t *testing.T) {
	f := newFixture(t, wallOn)
	f.play(wallStories[:2]...)
	_, first := f.feed("/wall.json?limit=1")
	_, second := f.feed("/wall.json?limit=1&page=2")
	if first.NextPage != 2 || len(first.Testimonials) != 1 || second.NextPage != 0 || len(second.Testimonials) != 1 ||
		first.texts()[0] == second.texts()[0] {
		t.Errorf("pages of one: got %+v then %+v, want one each and a next page only on the first", first, second)
	}
	_, html := f.do(f.client(), "GET", "/wall?limit=1", nil)
	if !strings.Contains(html, `href="/wall?limit=1&amp;page=2"`) {
		t.Errorf("/wall?limit=1 has no link to the older page:\n%s", html)
	}
	if resp, _ := f.do(f.client(), "GET", "/wall?page=3", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/wall past the last page: got %d, want 404", resp.StatusCode)
	}
	for _, q := range []string{"page=0", "page=x", "page=501", "limit=0", "limit=51", "limit=-3"} {
		resp, body := f.do(f.client(), "GET", "/wall.json?"+q, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "whole number") {
			t.Errorf("/wall.json?%s: got %d %q, want 400 saying why", q, resp.StatusCode, body)
		}
	}
	if !strings.Contains(f.logs.String(), "wall: bad request") {
		t.Errorf("bad wall requests were not logged")
	}
}

func TestWallOffIsNotFound(t *testing.T) {
	f := newFixture(t)
	f.play(wallStories[:1]...)
	for _, path := range []string{"/wall", "/wall.json", "/wall.js", "/wall.css"} {
		if resp, _ := f.do(f.client(), "GET", path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s with the wall off: got %d, want 404", path, resp.StatusCode)
		}
	}
	c := f.signedIn(adminName, adminPassword)
	if _, body := f.do(c, "GET", "/dashboard/testimonials", nil); strings.Contains(body, "wall.js") {
		t.Errorf("the testimonials page offers the wall's snippet while the wall is off")
	}
}

func TestWallSnippetForAdmins(t *testing.T) {
	f := newFixture(t, wallOn, func(o *web.Options) { o.PublicURL = "https://advocate.acme.example/" })
	f.play(wallStories[:3]...)
	admin := f.signedIn(adminName, adminPassword)
	_, body := f.do(admin, "GET", "/dashboard/testimonials", nil)
	want := `&lt;script src=&#34;https://advocate.acme.example/wall.js&#34; defer&gt;&lt;/script&gt;`
	if !strings.Contains(body, want) {
		t.Errorf("the admin's testimonials page has no snippet %s:\n%s", want, body)
	}
	text := visibleText(body)
	if n := strings.Count(text, "On the wall yes"); n != 2 {
		t.Errorf("testimonials marked on the wall: got %d, want 2:\n%s", n, text)
	}
	viewer := f.signedIn(viewerName, viewerPassword)
	if _, body := f.do(viewer, "GET", "/dashboard/testimonials", nil); strings.Contains(body, "wall.js") {
		t.Errorf("a viewer is shown the snippet")
	}
	js, script := f.do(f.client(), "GET", "/wall.js", nil)
	if js.StatusCode != http.StatusOK || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(script, "/wall.json") || strings.Contains(script, "innerHTML") {
		t.Errorf("/wall.js: got %d %s, want the script that reads /wall.json as text", js.StatusCode, js.Header.Get("Content-Type"))
	}
}

// testWallInTheBrowser reads the wall in Chromium: the page shows the
// testimonial its customer chose to show and not the other, and the
// snippet on a website of another origin shows it too (through CORS), as
// text, until the customer withdraws it.
func testWallInTheBrowser(t *testing.T, browser context.Context) {
	f := newFixture(t, wallOn)
	const chosen = `Fixed in minutes, <b>really</b>`
	ids := f.play(
		story{score: 5, share: chosen, wall: true, name: "Ana P."},
		story{score: 5, share: "Not for the website"},
	)
	ctx := tab(t, browser)
	do(t, ctx, "open the wall", chromedp.Navigate(f.srv.URL+"/wall"), chromedp.WaitVisible(css(`li.testimonial`)))
	wall := get(t, ctx, "the wall", chromedp.Text(css(`ol.wall`)))
	if !strings.Contains(wall, chosen) || !strings.Contains(wall, "— Ana P.") || strings.Contains(wall, "Not for the website") {
		t.Errorf("/wall: got %q, want Ana's testimonial only, as text", wall)
	}
	if n := get(t, ctx, "items", chromedp.Evaluate[int](`document.querySelectorAll('li.testimonial').length`)); n != 1 {
		t.Errorf("/wall: %d testimonials, want 1", n)
	}

	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Acme</title><h1>Acme</h1>
<div data-advocate-wall data-limit="5"></div>
<script src="%s/wall.js" defer></script>`, f.srv.URL)
	}))
	t.Cleanup(site.Close)
	do(t, ctx, "open a website with the snippet", chromedp.Navigate(site.URL), chromedp.WaitVisible(css(`.advocate-wall-item`)))
	embedded := get(t, ctx, "the embedded wall", chromedp.Text(css(`.advocate-wall`)))
	if !strings.Contains(embedded, chosen) || !strings.Contains(embedded, "— Ana P.") || strings.Contains(embedded, "Not for the website") {
		t.Errorf("the snippet shows %q, want Ana's testimonial only", embedded)
	}
	if n := get(t, ctx, "markup", chromedp.Evaluate[int](`document.querySelectorAll('.advocate-wall b').length`)); n != 0 {
		t.Errorf("the snippet made the testimonial's markup elements (%d)", n)
	}

	f.withdraw(ids[0], 0)
	do(t, ctx, "reload the website", chromedp.Navigate(site.URL), chromedp.WaitReady(css(`ul.advocate-wall`)))
	if n := get(t, ctx, "items", chromedp.Evaluate[int](`document.querySelectorAll('.advocate-wall-item').length`)); n != 0 {
		t.Errorf("the snippet shows %d testimonials after the withdrawal, want none", n)
	}
}
