package web_test

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/config"
	"github.com/advocate-bot/advocate/web"
)

func TestLogin(t *testing.T) {
	f := newFixture(t, func(o *web.Options) { o.Secure = true })
	c := f.client()
	resp := f.login(c, adminName, adminPassword)
	if got, want := resp.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("login: got %d, want %d", got, want)
	}
	if got, want := resp.Header.Get("Location"), "/dashboard/"; got != want {
		t.Errorf("login redirect: got %q, want %q", got, want)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "advocate_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie: HttpOnly %v, Secure %v, SameSite %v; want true, true, Lax",
			session.HttpOnly, session.Secure, session.SameSite)
	}
	// The test server is plain HTTP, so the jar keeps no Secure cookie: send it by hand.
	resp, body := f.do(f.client(), "GET", "/dashboard/", nil, "Cookie", session.Name+"="+session.Value)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Advocacy funnel") {
		t.Errorf("dashboard after login: got %d, want 200 with the funnel", resp.StatusCode)
	}
	if !strings.Contains(body, adminName) {
		t.Errorf("dashboard does not name the signed-in user %q", adminName)
	}
}

func TestLoginKeepsNextOnTheDashboard(t *testing.T) {
	f := newFixture(t)
	for next, want := range map[string]string{
		"/dashboard/trends?period=7d": "/dashboard/trends?period=7d",
		"https://evil.example/":       "/dashboard/",
		"//evil.example/dashboard/":   "/dashboard/",
		"/logout":                     "/dashboard/",
	} {
		c := f.client()
		resp, _ := f.do(c, "POST", "/login", url.Values{"csrf": {f.csrf(c)}, "name": {adminName},
			"password": {adminPassword}, "next": {next}})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next %q: got redirect to %q, want %q", next, got, want)
		}
	}
}

func TestBadLogin(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct{ name, password string }{
		{adminName, "wrong password"},
		{"nobody", adminPassword},
		{"", ""},
	} {
		c := f.client()
		resp, body := f.do(c, "POST", "/login", url.Values{"csrf": {f.csrf(c)}, "name": {tt.name}, "password": {tt.password}})
		if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
			t.Errorf("login %q/%q: got %d, want %d", tt.name, tt.password, got, want)
		}
		if !strings.Contains(body, "Wrong name or password.") {
			t.Errorf("login %q/%q: the page does not give the generic error", tt.name, tt.password)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "advocate_session" && ck.Value != "" {
				t.Errorf("login %q/%q: got a session cookie", tt.name, tt.password)
			}
		}
	}
	logs := f.logs.String()
	if got := strings.Count(logs, "login failed"); got != 3 {
		t.Errorf("failed logins logged: got %d, want 3:\n%s", got, logs)
	}
	for _, secret := range []string{"wrong password", adminPassword} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a password %q:\n%s", secret, logs)
		}
	}
	if strings.Contains(logs, "nobody") {
		t.Errorf("the log contains an unknown name, which may be a mistyped password:\n%s", logs)
	}
}

func TestCSRFRefused(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	f.csrf(c) // the cookie, but not the token
	for name, form := range map[string]url.Values{
		"no token":    {"name": {adminName}, "password": {adminPassword}},
		"wrong token": {"csrf": {"AAAA"}, "name": {adminName}, "password": {adminPassword}},
	} {
		resp, _ := f.do(c, "POST", "/login", form)
		if got, want := resp.StatusCode, http.StatusForbidden; got != want {
			t.Errorf("login with %s: got %d, want %d", name, got, want)
		}
	}
	// A token from another browser (another CSRF cookie) does not fit.
	other := f.client()
	resp, _ := f.do(c, "POST", "/login", url.Values{"csrf": {f.csrf(other)}, "name": {adminName}, "password": {adminPassword}})
	if got, want := resp.StatusCode, http.StatusForbidden; got != want {
		t.Errorf("login with another browser's token: got %d, want %d", got, want)
	}
	// Logging out takes the token too, so a link on another site cannot.
	signed := f.signedIn(adminName, adminPassword)
	resp, _ = f.do(signed, "POST", "/logout", url.Values{})
	if got, want := resp.StatusCode, http.StatusForbidden; got != want {
		t.Errorf("logout without token: got %d, want %d", got, want)
	}
	if resp, _ := f.do(signed, "GET", "/dashboard/", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("still signed in after the refused logout: got %d, want 200", resp.StatusCode)
	}
	// A cross-site browser request is refused before the token is even read.
	resp, _ = f.do(f.client(), "POST", "/login", url.Values{}, "Sec-Fetch-Site", "cross-site")
	if got, want := resp.StatusCode, http.StatusForbidden; got != want {
		t.Errorf("cross-site POST: got %d, want %d", got, want)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t)
	c := f.signedIn(adminName, adminPassword)
	_, body := f.do(c, "GET", "/dashboard/", nil)
	m := csrfToken(body)
	if m == nil {
		t.Fatal("no sign-out form with a CSRF token on the dashboard")
	}
	// a copy of the session cookie, as a thief would keep it, and another
	// session of the same user on another device
	u, _ := url.Parse(f.srv.URL)
	var stolen string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "advocate_session" {
			stolen = ck.Value
		}
	}
	if stolen == "" {
		t.Fatal("no session cookie after signing in")
	}
	other := f.signedIn(adminName, adminPassword)

	resp, _ := f.do(c, "POST", "/logout", url.Values{"csrf": {m[1]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: got %d, want 303", resp.StatusCode)
	}
	if resp, _ := f.do(c, "GET", "/dashboard/", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("dashboard after logout: got %d, want 303 to the login form", resp.StatusCode)
	}
	if resp, _ := f.do(f.client(), "GET", "/dashboard/", nil, "Cookie", "advocate_session="+stolen); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("dashboard with a copy of the logged-out session cookie: got %d, want 303 to the login form", resp.StatusCode)
	}
	if resp, _ := f.do(other, "GET", "/dashboard/", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the same user's other session after logout: got %d, want 200", resp.StatusCode)
	}
}

// sessionCookie returns c's session cookie value.
func (f *fixture) sessionCookie(c *http.Client) string {
	f.t.Helper()
	u, _ := url.Parse(f.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "advocate_session" {
			return ck.Value
		}
	}
	f.t.Fatal("no session cookie")
	return ""
}

func TestSessionsSurviveARestartAndLogoutsToo(t *testing.T) {
	f := newFixture(t)
	out := f.signedIn(adminName, adminPassword)
	stolen := f.sessionCookie(out)
	stays := f.sessionCookie(f.signedIn(viewerName, viewerPassword))
	_, body := f.do(out, "GET", "/dashboard/", nil)
	if resp, _ := f.do(out, "POST", "/logout", url.Values{"csrf": {csrfToken(body)[1]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: got %d, want 303", resp.StatusCode)
	}
	// A restart: a new server on the same database.
	g := newFixtureOn(t, f.h)
	get := func(cookie string) int {
		resp, _ := g.do(g.client(), "GET", "/dashboard/", nil, "Cookie", "advocate_session="+cookie)
		return resp.StatusCode
	}
	if got := get(stays); got != http.StatusOK {
		t.Errorf("a live session after the restart: got %d, want 200", got)
	}
	if got := get(stolen); got != http.StatusSeeOther {
		t.Errorf("a copy of a logged-out session's cookie after the restart: got %d, want 303 to the login form", got)
	}
}

func TestUnauthenticatedRedirectedToLogin(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/dashboard/", "/dashboard/trends?period=7d", "/dashboard/cases/1", "/dashboard/by/staff?format=csv"} {
		resp, _ := f.do(f.client(), "GET", path, nil)
		if got, want := resp.StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("%s: got %d, want %d", path, got, want)
			continue
		}
		if got, want := resp.Header.Get("Location"), "/login?next="+url.QueryEscape(path); got != want {
			t.Errorf("%s: redirected to %q, want %q", path, got, want)
		}
	}
}

func TestSessionExpiredOrTamperedRefused(t *testing.T) {
	f := newFixture(t, func(o *web.Options) { o.SessionTTL = time.Hour })
	c := f.client()
	resp := f.login(c, viewerName, viewerPassword)
	var value string
	for _, ck := range resp.Cookies() {
		if ck.Name == "advocate_session" {
			value = ck.Value
		}
	}
	get := func(cookie string) int {
		resp, _ := f.do(f.client(), "GET", "/dashboard/", nil, "Cookie", "advocate_session="+cookie)
		return resp.StatusCode
	}
	if got := get(value); got != http.StatusOK {
		t.Fatalf("fresh session: got %d, want 200", got)
	}
	parts := strings.Split(value, ".") // name, expiry, session ID, signature
	if len(parts) != 4 {
		t.Fatalf("session cookie %q: want four dot-separated parts", value)
	}
	with := func(i int, v string) string {
		p := slices.Clone(parts)
		p[i] = v
		return strings.Join(p, ".")
	}
	forged := with(0, "YWRh") // "ada", the admin, with vic's signature
	later := with(1, strconv.Itoa(int(f.h.Clock.Now().Add(100*time.Hour).Unix())))
	otherID := with(2, "64ECLRWXP7P5VOCARJEYZTKLL7")
	first := "A" // the first character of the signature: six bits of it, no padding
	if parts[3][0] == 'A' {
		first = "B"
	}
	flipped := with(3, first+parts[3][1:])
	threeParts := strings.Join([]string{parts[0], parts[1], parts[3]}, ".") // the old format
	for name, cookie := range map[string]string{"forged user": forged, "extended expiry": later,
		"other session ID": otherID, "flipped signature": flipped, "without session ID": threeParts,
		"garbage": "x.y.z.w", "empty": ""} {
		if got := get(cookie); got != http.StatusSeeOther {
			t.Errorf("%s: got %d, want 303 to the login form", name, got)
		}
	}
	f.h.Clock.Advance(61 * time.Minute)
	if got := get(value); got != http.StatusSeeOther {
		t.Errorf("expired session: got %d, want 303 to the login form", got)
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.play(someStories(2)...)
	for _, path := range []string{"/dashboard/?format=csv", "/dashboard/by/staff?format=csv", "/dashboard/by/staff"} {
		resp, _ := f.do(f.client(), "GET", path, nil, "Authorization", "Bearer "+token)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s with the token: got %d, want 200", path, resp.StatusCode)
		}
	}
	resp, _ := f.do(f.client(), "GET", "/dashboard/", nil, "Authorization", "Bearer wrong")
	if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
		t.Errorf("wrong token: got %d, want %d", got, want)
	}
	if strings.Contains(f.logs.String(), token) {
		t.Error("the token is in the log")
	}
	// Without a configured token, no bearer header is accepted.
	g := newFixture(t, func(o *web.Options) { o.Token = "" })
	resp, _ = g.do(g.client(), "GET", "/dashboard/", nil, "Authorization", "Bearer ")
	if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
		t.Errorf("empty token, none configured: got %d, want %d", got, want)
	}
}

func TestViewerRefusedStaffBreakdown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.play(someStories(2)...)
	viewer := f.signedIn(viewerName, viewerPassword)
	for _, path := range []string{"/dashboard/by/staff", "/dashboard/by/staff?format=csv"} {
		resp, body := f.do(viewer, "GET", path, nil)
		if got, want := resp.StatusCode, http.StatusForbidden; got != want {
			t.Errorf("viewer %s: got %d, want %d", path, got, want)
		}
		if strings.Contains(body, "staff1") || strings.Contains(body, "Sam") {
			t.Errorf("viewer %s: the refusal shows a staff member", path)
		}
	}
	for _, path := range []string{"/dashboard/", "/dashboard/trends", "/dashboard/by/platform", "/dashboard/by/channel",
		"/dashboard/by/target", "/dashboard/testimonials", "/dashboard/cases"} {
		resp, body := f.do(viewer, "GET", path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("viewer %s: got %d, want 200", path, resp.StatusCode)
		}
		if strings.Contains(body, `href="/dashboard/by/staff"`) {
			t.Errorf("viewer %s: links to the staff breakdown", path)
		}
	}
	admin := f.signedIn(adminName, adminPassword)
	resp, body := f.do(admin, "GET", "/dashboard/by/staff", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Sam") {
		t.Errorf("admin staff breakdown: got %d, want 200 naming Sam (staff1)", resp.StatusCode)
	}
}

// readCSV downloads a CSV with the token and returns its records.
func (f *fixture) readCSV(path string) [][]string {
	f.t.Helper()
	resp, body := f.do(f.client(), "GET", path, nil, "Authorization", "Bearer "+token)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		f.t.Fatalf("%s: got %d %s, want a CSV", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		f.t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func TestCSVMatchesStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := f.play(someStories(12)...)
	ctx := t.Context()
	funnel := func(groupBy ...string) []bot.FunnelRow {
		now := f.h.Clock.Now().UTC().Truncate(24 * time.Hour)
		rows, err := f.h.Store.Funnel(ctx, bot.FunnelQuery{Since: now.AddDate(0, 0, -29), Until: now.AddDate(0, 0, 1), GroupBy: groupBy})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}

	recs := f.readCSV("/dashboard/?format=csv")
	want := funnel()[0]
	if got := len(recs); got != len(bot.Stages)+4 {
		t.Fatalf("funnel CSV: got %d records, want header, %d stages, recoveries and two kinds of skipped surveys", got, len(bot.Stages))
	}
	for i, stage := range bot.Stages {
		if got, want := recs[i+1][0]+"="+recs[i+1][1], stage+"="+strconv.Itoa(want.Counts[i]); got != want {
			t.Errorf("funnel CSV row %d: got %s, want %s", i+1, got, want)
		}
	}
	if got, want := recs[len(bot.Stages)+1][0]+"="+recs[len(bot.Stages)+1][1], "recoveries="+strconv.Itoa(want.Recoveries); got != want {
		t.Errorf("funnel CSV recoveries: got %s, want %s", got, want)
	}
	if got := recs[len(recs)-1][0] + "=" + recs[len(recs)-1][1]; got != "survey_skipped_cooldown=0" {
		t.Errorf("funnel CSV's last row: got %s, want survey_skipped_cooldown=0", got)
	}
	if want.Counts[0] != len(ids) || want.Counts[stageIdx("shared")] != 2 {
		t.Errorf("the stories made %d asked and %d shared, want %d and 2", want.Counts[0], want.Counts[stageIdx("shared")], len(ids))
	}

	byStaff := f.readCSV("/dashboard/by/staff?format=csv")
	for i, row := range funnel("staff") {
		line := byStaff[i+1]
		if line[0] != row.Keys[0] || line[1] != strconv.Itoa(row.Counts[0]) || line[1+stageIdx("shared")] != strconv.Itoa(row.Counts[stageIdx("shared")]) {
			t.Errorf("staff CSV row %d: got %v, want keys %v counts %v", i+1, line, row.Keys, row.Counts)
		}
	}

	cases := f.readCSV("/dashboard/cases?format=csv")
	var got []string
	for _, rec := range cases[1:] {
		got = append(got, rec[0])
	}
	var wantIDs []string
	for _, id := range ids {
		wantIDs = append(wantIDs, strconv.FormatInt(id, 10))
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("cases CSV: got cases %v, want %v", got, wantIDs)
	}
	closed := f.readCSV("/dashboard/cases?format=csv&status=closed")
	var total int
	err := f.h.Store.View(ctx, func(tx bot.Tx) (err error) {
		_, total, err = tx.FindCases(ctx, bot.CaseFilter{Statuses: []bot.Status{bot.StatusClosed}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(closed) - 1; got != total || total == 0 {
		t.Errorf("closed cases CSV: got %d rows, want %d (not 0)", got, total)
	}

	testimonials := f.readCSV("/dashboard/testimonials?format=csv")
	if got := len(testimonials) - 1; got != 2 {
		t.Errorf("testimonials CSV: got %d rows, want 2", got)
	}
	for _, rec := range testimonials[1:] {
		if !strings.HasPrefix(rec[5], "Support fixed it in minutes") || rec[3] != "showcase" || rec[6] == "" {
			t.Errorf("testimonial row %v: want the exact text, target showcase and consented_at", rec)
		}
	}
}

func stageIdx(stage string) int { return slices.Index(bot.Stages, stage) }

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	m := f.metrics
	m.Recorded(bot.KindAskedPublic, bot.Slack, map[string]any{"channel": "help"})
	m.Recorded(bot.KindAskedPublic, bot.Slack, nil)
	m.Recorded(bot.KindResolved, bot.Discord, nil)
	m.Recorded(bot.KindRated, bot.Slack, map[string]any{"scale": "csat", "score": float64(5)})
	m.Recorded(bot.KindRated, bot.Slack, map[string]any{"scale": "csat", "score": float64(99)})
	m.Recorded(bot.KindShareOffered, bot.Slack, map[string]any{"target": "showcase"})
	m.Recorded(bot.KindShareClicked, bot.Slack, map[string]any{"target": "x"})
	m.Recorded(bot.KindShared, bot.Slack, map[string]any{"target": "showcase", "text": "secret words"})
	m.Recorded(bot.KindSLABreached, bot.Discord, nil)
	m.Recorded(bot.KindSurveySkipped, bot.Discord, map[string]any{"reason": bot.SkipCooldown, "round": float64(1)})
	m.Acked(bot.Slack, 12*time.Millisecond)
	m.Delivered(bot.Discord, false, false)
	m.Delivered(bot.Discord, true, false)
	m.Delivered(bot.Discord, true, true)
	// One action left pending and one event undecided: the gauges read
	// them from the store.
	err := f.h.Store.Update(t.Context(), func(tx bot.Tx) error {
		in := &bot.Inbound{Event: []byte(`{}`), Owner: "other", Until: f.h.Clock.Now().Add(time.Hour)}
		if err := tx.PutInbound(t.Context(), in); err != nil {
			return err
		}
		return tx.Enqueue(t.Context(), &bot.Action{Platform: bot.Slack, Lane: "l", Kind: bot.ActSend, Place: bot.PlaceRef,
			To: bot.Ref{Channel: "C1"}, NextAt: f.h.Clock.Now().Add(time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := f.do(f.client(), "GET", "/metrics", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: got %d", resp.StatusCode)
	}
	for _, want := range []string{
		`advocate_cases_opened_total{platform="slack"} 2`,
		`advocate_cases_resolved_total{platform="discord"} 1`,
		`advocate_ratings_total{scale="csat",score="5"} 1`,
		`advocate_ratings_total{scale="csat",score="other"} 1`,
		`advocate_share_offers_total{target="showcase"} 1`,
		`advocate_share_clicks_total{target="x"} 1`,
		`advocate_shares_total{target="showcase"} 1`,
		`advocate_sla_breaches_total{platform="discord"} 1`,
		`advocate_surveys_skipped_total{reason="cooldown"} 1`,
		`advocate_event_ack_seconds_count{platform="slack"} 1`,
		`advocate_event_ack_seconds_bucket{platform="slack",le="0.025"} 1`,
		`advocate_event_ack_seconds_bucket{platform="slack",le="0.01"} 0`,
		`advocate_outbox_deliveries_total{platform="discord"} 1`,
		`advocate_outbox_failures_total{platform="discord"} 2`,
		`advocate_outbox_dead_total{platform="discord"} 1`,
		`advocate_outbox_depth{state="pending"} 1`,
		`advocate_outbox_depth{state="dead"} 0`,
		`advocate_inbound_undecided 1`,
		`advocate_store_up 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "secret words") {
		t.Error("/metrics shows message text")
	}
}

func TestMetricsFromTheCore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	core, err := bot.New(bot.Options{Store: f.h.Store, Config: f.h.Config, Now: f.h.Clock.Now, Observer: f.metrics})
	if err != nil {
		t.Fatal(err)
	}
	core.Register(f.h.Platform)
	f.h.Core = core
	f.play(story{score: 5, share: "Great"})
	_, body := f.do(f.client(), "GET", "/metrics", nil)
	for _, want := range []string{
		`advocate_cases_opened_total{platform="sandbox"} 1`,
		`advocate_ratings_total{scale="csat",score="5"} 1`,
		`advocate_shares_total{target="showcase"} 1`,
		`advocate_share_offers_total{target="trustpilot"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics after a conversation lacks %s", want)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	if resp, body := f.do(c, "GET", "/healthz", nil); resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: got %d %q, want 200 ok", resp.StatusCode, body)
	}
	if resp, body := f.do(c, "GET", "/readyz", nil); resp.StatusCode != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz: got %d %q, want 200 ready", resp.StatusCode, body)
	}
	f.ready = errors.New("slack not connected")
	if resp, body := f.do(c, "GET", "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable || body != "not ready: slack not connected\n" {
		t.Errorf("/readyz when Ready fails: got %d %q, want 503 with the reason", resp.StatusCode, body)
	}
	f.ready = nil
	if err := f.h.Store.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, body := f.do(c, "GET", "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready: store: ") {
		t.Errorf("/readyz with the store closed: got %d %q, want 503 with the store's reason", resp.StatusCode, body)
	}
	if resp, _ := f.do(c, "GET", "/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with the store closed: got %d, want 200 (the process is up)", resp.StatusCode)
	}
}

func TestNewRefusesBadUsers(t *testing.T) {
	f := newFixture(t)
	for name, u := range map[string]config.DashboardUser{
		"unknown role": {Name: "x", PasswordHash: hash(t, "pw"), Role: "owner"},
		"plain text":   {Name: "x", PasswordHash: "hunter2", Role: config.RoleAdmin},
		"no name":      {Name: "", PasswordHash: hash(t, "pw"), Role: config.RoleAdmin},
	} {
		_, err := web.New(web.Options{Store: f.h.Store, Users: []config.DashboardUser{u}})
		if err == nil {
			t.Errorf("%s: got no error", name)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the configured value: %v", name, err)
		}
	}
	if _, err := web.New(web.Options{}); err == nil {
		t.Error("no store: got no error")
	}
}

func TestPagesRender(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ids := f.play(someStories(7)...)
	c := f.signedIn(adminName, adminPassword)
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/dashboard/", []string{"Advocacy funnel", "<svg", "Recoveries", "Shared"}},
		{"/dashboard/?period=7d&platform=sandbox", []string{"Advocacy funnel"}},
		{"/dashboard/?period=custom&since=2026-10-01&until=2026-11-30", []string{"1 Oct 2026 – 30 Nov 2026"}},
		{"/dashboard/?since=garbage", []string{"not a date"}},
		{"/dashboard/trends", []string{"Trends by week", "CSAT", "Response times", "SLA 1 h", "2026-W45"}},
		{"/dashboard/by/platform", []string{"sandbox"}},
		{"/dashboard/by/channel", []string{"support"}},
		{"/dashboard/by/target", []string{"showcase", "trustpilot"}},
		{"/dashboard/testimonials", []string{"Support fixed it in minutes", "Consented at"}},
		{"/dashboard/cases?status=closed", []string{"Cases", "closed"}},
		{"/dashboard/cases/" + strconv.FormatInt(ids[0], 10), []string{"Timeline", "Asked in public", "Share offers"}},
	} {
		resp, body := f.do(c, "GET", tt.path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: got %d, want 200", tt.path, resp.StatusCode)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the page lacks %q", tt.path, w)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q does not forbid scripts", tt.path, csp)
		}
	}
	for _, path := range []string{"/dashboard/cases/99999", "/dashboard/cases/x", "/dashboard/by/colour"} {
		if resp, _ := f.do(c, "GET", path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, body := f.do(c, "GET", "/dashboard/static/style.css", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "font") {
		t.Errorf("stylesheet: got %d", resp.StatusCode)
	}
}

func TestReadyWithoutCallback(t *testing.T) {
	f := newFixture(t, func(o *web.Options) { o.Ready = nil; o.Registry = nil })
	if resp, _ := f.do(f.client(), "GET", "/readyz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: got %d, want 200", resp.StatusCode)
	}
	if resp, _ := f.do(f.client(), "GET", "/metrics", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics without a registry: got %d, want 404", resp.StatusCode)
	}
}

func TestOpenDashboard(t *testing.T) {
	f := newFixture(t, func(o *web.Options) { o.Open, o.Users, o.Token = true, nil, "" })
	resp, body := f.do(f.client(), "GET", "/dashboard/by/staff", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "no sign-in") {
		t.Errorf("open dashboard: got %d, want 200 saying there is no sign-in", resp.StatusCode)
	}
	if resp, _ := f.do(f.client(), "GET", "/login", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("open dashboard's login form: got %d, want 303 to the dashboard", resp.StatusCode)
	}
	for name, o := range map[string]web.Options{
		"with users": {Store: f.h.Store, Open: true, Users: []config.DashboardUser{{Name: "x", PasswordHash: hash(t, "pw"), Role: config.RoleAdmin}}},
		"with token": {Store: f.h.Store, Open: true, Token: "t"},
	} {
		if _, err := web.New(o); err == nil {
			t.Errorf("open %s: got no error", name)
		}
	}
}

func TestFailedLoginsAreThrottled(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	for i := range 5 {
		if resp := f.login(c, adminName, "wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed login %d: got %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := f.login(c, adminName, adminPassword)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after 5 failures, right password: got %d, want 429", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After: got %q, want 30 (one more try every 30 s)", got)
	}
	if resp := f.login(c, viewerName, viewerPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another name from the same address: got %d, want 303", resp.StatusCode)
	}
	f.h.Clock.Advance(31 * time.Second)
	if resp := f.login(c, adminName, adminPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login after waiting: got %d, want 303", resp.StatusCode)
	}
	if !strings.Contains(f.logs.String(), "too many failed attempts") {
		t.Errorf("no log line for the throttled login")
	}
}

func TestFailedLoginsThrottledPerAddress(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	for i := range 12 {
		resp := f.login(c, fmt.Sprintf("guess-%d", i), "wrong")
		want := http.StatusUnauthorized
		if i >= 10 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Errorf("name %d of 12 from one address: got %d, want %d", i+1, resp.StatusCode, want)
		}
		if want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "6" {
			t.Errorf("name %d: Retry-After %q, want 6", i+1, resp.Header.Get("Retry-After"))
		}
	}
	if got := f.logs.Count("login failed"); got != 10 {
		t.Errorf("passwords checked: got %d, want 10 (then refused before bcrypt)", got)
	}
	if resp := f.login(c, adminName, adminPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a real user from the throttled address: got %d, want 429", resp.StatusCode)
	}
	f.h.Clock.Advance(7 * time.Second)
	if resp := f.login(c, adminName, adminPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a real user after waiting: got %d, want 303", resp.StatusCode)
	}
	for _, secret := range []string{"wrong", "guess-"} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("the log holds %q: a password or an unknown name", secret)
		}
	}
}

func TestMetricsAccess(t *testing.T) {
	const metricsToken = "metrics-token-0123456789"
	for _, tt := range []struct {
		name   string
		opts   func(*web.Options)
		header string
		want   int
	}{
		{"open, no token", func(o *web.Options) {}, "", http.StatusOK},
		{"not open, no token configured", func(o *web.Options) { o.MetricsOpen = false }, "", http.StatusForbidden},
		{"not open, a token sent anyway", func(o *web.Options) { o.MetricsOpen = false }, "Bearer " + token, http.StatusForbidden},
		{"token configured, none sent", func(o *web.Options) { o.MetricsToken = metricsToken }, "", http.StatusUnauthorized},
		{"token configured, open too", func(o *web.Options) { o.MetricsToken, o.MetricsOpen = metricsToken, true }, "", http.StatusUnauthorized},
		{"token configured, wrong one", func(o *web.Options) { o.MetricsToken = metricsToken }, "Bearer nope", http.StatusUnauthorized},
		{"token configured, the dashboard's", func(o *web.Options) { o.MetricsToken = metricsToken }, "Bearer " + token, http.StatusUnauthorized},
		{"token configured, sent", func(o *web.Options) { o.MetricsToken = metricsToken }, "Bearer " + metricsToken, http.StatusOK},
	} {
		f := newFixture(t, tt.opts)
		var header []string
		if tt.header != "" {
			header = []string{"Authorization", tt.header}
		}
		resp, body := f.do(f.client(), "GET", "/metrics", nil, header...)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
		if tt.want == http.StatusOK && !strings.Contains(body, "advocate_store_up 1") {
			t.Errorf("%s: no metrics in the answer", tt.name)
		}
		if strings.Contains(f.logs.String(), metricsToken) || strings.Contains(f.logs.String(), token) {
			t.Errorf("%s: a token is in the log", tt.name)
		}
	}
	// The metrics token opens nothing else.
	f := newFixture(t, func(o *web.Options) { o.MetricsToken = metricsToken })
	if resp, _ := f.do(f.client(), "GET", "/dashboard/", nil, "Authorization", "Bearer "+metricsToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dashboard with the metrics token: got %d, want 401", resp.StatusCode)
	}
}

func TestStaticDirectoryNotListed(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/dashboard/static/", "/dashboard/static/.", "/dashboard/static/missing.css", "/dashboard/static/../templates/layout.html"} {
		resp, body := f.do(&http.Client{}, "GET", path, nil) // following the mux's redirects to clean paths
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "style.css") {
			t.Errorf("%s: got %d %q, want 404 without a listing", path, resp.StatusCode, body)
		}
	}
	if resp, body := f.do(f.client(), "GET", "/dashboard/static/style.css", nil); resp.StatusCode != http.StatusOK ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, "font") {
		t.Errorf("stylesheet: got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestNewNeedsASessionStoreAndKeyForUsers(t *testing.T) {
	f := newFixture(t)
	users := []config.DashboardUser{{Name: "x", PasswordHash: hash(t, "pw"), Role: config.RoleAdmin}}
	key, err := f.h.Store.SessionKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]web.Options{
		"no session store": {Store: f.h.Store, Users: users, SessionKey: key},
		"no key":           {Store: f.h.Store, Users: users, Sessions: f.h.Store},
		"a short key":      {Store: f.h.Store, Users: users, Sessions: f.h.Store, SessionKey: key[:16]},
	} {
		if _, err := web.New(o); err == nil {
			t.Errorf("users with %s: got no error", name)
		}
	}
	if _, err := web.New(web.Options{Store: f.h.Store, Users: users, Sessions: f.h.Store, SessionKey: key}); err != nil {
		t.Errorf("users with a session store and key: %v", err)
	}
	if _, err := web.New(web.Options{Store: f.h.Store, Token: token}); err != nil {
		t.Errorf("a token alone (no sign-in, no session): %v", err)
	}
}
