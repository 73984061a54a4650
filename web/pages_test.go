package web_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// visibleText is a page's text without its markup, for what a person reads.
func visibleText(page string) string {
	page = regexp.MustCompile(`(?s)<head>.*?</head>`).ReplaceAllString(page, "")
	page = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(page), " ")
}

func TestViewersSeeNoStaffMemberOnCasePages(t *testing.T) {
	f := newFixture(t)
	ids := f.play(someStories(3)...)
	caseURL := "/dashboard/cases/" + strconv.FormatInt(ids[0], 10)
	viewer := f.signedIn(viewerName, viewerPassword)
	for _, path := range []string{"/dashboard/cases", caseURL, "/dashboard/cases?format=csv", caseURL + "?format=csv"} {
		resp, body := f.do(viewer, "GET", path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("viewer %s: got %d, want 200", path, resp.StatusCode)
		}
		for _, staff := range []string{"staff1", "Sam"} {
			if strings.Contains(body, staff) {
				t.Errorf("viewer %s shows the staff member %q", path, staff)
			}
		}
		if strings.Contains(strings.ToLower(body), "assignee") {
			t.Errorf("viewer %s has an assignee column or field", path)
		}
	}
	_, page := f.do(viewer, "GET", caseURL, nil)
	if !strings.Contains(visibleText(page), "First staff response by staff") {
		t.Errorf("viewer case page: the first response does not say who in general terms:\n%s", visibleText(page))
	}

	admin := f.signedIn(adminName, adminPassword)
	_, page = f.do(admin, "GET", caseURL, nil)
	if text := visibleText(page); !strings.Contains(text, "Assignee Sam staff1") || !strings.Contains(text, "First staff response by Sam") {
		t.Errorf("admin case page: want the assignee and the responder by name:\n%s", text)
	}
	recs := f.readCSV("/dashboard/cases?format=csv")
	i, j := slices.Index(recs[0], "assignee"), slices.Index(recs[0], "assignee_name")
	if i < 0 || j < 0 || recs[1][i] != "staff1" || recs[1][j] != "Sam" {
		t.Errorf("admin cases CSV: want assignee staff1 and assignee_name Sam, got %q / %q", recs[0], recs[1])
	}
}

func TestStaffShownByName(t *testing.T) {
	f := newFixture(t)
	ids := f.play(someStories(2)...)
	admin := f.signedIn(adminName, adminPassword)
	for path, want := range map[string]string{
		"/dashboard/by/staff": "Sam",
		"/dashboard/cases":    "Sam",
		"/dashboard/cases/" + strconv.FormatInt(ids[0], 10): "First staff response by Sam",
	} {
		_, page := f.do(admin, "GET", path, nil)
		text := visibleText(page)
		if !strings.Contains(text, want) || strings.Contains(text, "staff1") && path != "/dashboard/cases/"+strconv.FormatInt(ids[0], 10) {
			t.Errorf("%s: want %q and no raw staff ID:\n%s", path, want, text)
		}
	}
	recs := f.readCSV("/dashboard/by/staff?format=csv")
	name := slices.Index(recs[0], "staff_name")
	if name < 0 || recs[1][0] != "staff1" || recs[1][name] != "Sam" {
		t.Errorf("staff CSV: want the ID and a staff_name column, got %q / %q", recs[0], recs[1])
	}
}

func TestTimelineDetailsReadForPeople(t *testing.T) {
	f := newFixture(t)
	h := f.h
	who := h.Person("u-ada", "Ada")
	h.Ask(who, "help")
	cs := activeCase(t, h, who)
	h.Advance(19923 * time.Millisecond)
	h.Say(h.Staff(), cs.Staff, "On it")
	h.Say(h.Staff(), cs.Staff, "!note refund already requested")
	h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	h.Click(who, h.WithButton(cs.Private.Channel, "4"), "4")
	_, page := f.do(f.signedIn(adminName, adminPassword), "GET", "/dashboard/cases/"+strconv.FormatInt(cs.ID, 10), nil)
	text := visibleText(page)
	for _, want := range []string{"Asked in public by Ada in #support", "First staff response by Sam after 20 s",
		"Rated by Ada 4 of 5 (CSAT), satisfied", "refund already requested"} {
		if !strings.Contains(text, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, text)
		}
	}
	for _, raw := range []string{"seconds", "19.923", "recovery", "false", "{"} {
		if strings.Contains(text, raw) {
			t.Errorf("the timeline shows raw detail %q:\n%s", raw, text)
		}
	}
}

func TestCountsAreWordedForOne(t *testing.T) {
	f := newFixture(t)
	h := f.h
	f.play(story{score: 5, share: "Great"})
	// One recovery: rated unhappy, reopened, resolved again and rated happy.
	who := h.Person("u-bo", "Bo")
	h.Ask(who, "help")
	cs := activeCase(t, h, who)
	h.Say(h.Staff(), cs.Staff, "On it")
	h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	h.Click(who, h.WithButton(cs.Private.Channel, "1"), "1")
	h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	h.Click(who, h.WithButton(cs.Private.Channel, "5"), "5")
	c := f.signedIn(adminName, adminPassword)
	for path, want := range map[string]string{
		"/dashboard/testimonials":                   "1 testimonial shared",
		"/dashboard/":                               "1 case was rated unhappy",
		"/dashboard/cases?status=closed&period=all": "2 cases opened",
	} {
		_, page := f.do(c, "GET", path, nil)
		if text := visibleText(page); !strings.Contains(text, want) {
			t.Errorf("%s: want %q:\n%s", path, want, text)
		}
	}
}

// TestSatisfiedHasOneMeaning rates one case unhappy and then, reopened,
// happy, and two more happy: three of three rated cases are satisfied, while
// three of the four ratings were 4 or 5. The pages say which is which and
// never call the second figure "satisfied".
func TestSatisfiedHasOneMeaning(t *testing.T) {
	f := newFixture(t)
	h := f.h
	f.play(story{score: 5}, story{score: 5})
	who := h.Person("u-bo", "Bo")
	h.Ask(who, "help")
	cs := activeCase(t, h, who)
	h.Say(h.Staff(), cs.Staff, "On it")
	h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	h.Click(who, h.WithButton(cs.Private.Channel, "1"), "1")
	h.Click(h.Staff(), h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	h.Click(who, h.WithButton(cs.Private.Channel, "5"), "5")

	c := f.signedIn(adminName, adminPassword)
	_, funnel := f.do(c, "GET", "/dashboard/", nil)
	text := visibleText(funnel)
	if !strings.Contains(text, "100.0% of rated cases satisfied") || !strings.Contains(text, "“Satisfied” counts cases") {
		t.Errorf("funnel: want the headline over rated cases, defined on the page:\n%s", text)
	}
	_, trends := f.do(c, "GET", "/dashboard/trends", nil)
	text = visibleText(trends)
	for _, want := range []string{"75.0%", "4 ratings", "Scores count every rating", "3 of 3 rated cases (100.0%)"} {
		if !strings.Contains(text, want) {
			t.Errorf("trends: want %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "75.0% satisfied") {
		t.Errorf("trends calls the share of ratings 4–5 \"satisfied\", which the funnel uses for cases:\n%s", text)
	}
}
