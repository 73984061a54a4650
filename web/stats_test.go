package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

func TestHistogramQuantile(t *testing.T) {
	bounds := []time.Duration{time.Minute, 10 * time.Minute, time.Hour}
	h := histogram{}
	h.add(bounds, []int{0, 10, 0, 0}) // ten times between 1 and 10 minutes
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5*time.Minute + 30*time.Second}, {0.1, time.Minute + 54*time.Second}, {1, 10 * time.Minute}} {
		got, open, ok := h.Quantile(tt.q)
		if !ok || open || got != tt.want {
			t.Errorf("Quantile(%v): got %v (open %v, ok %v), want %v", tt.q, got, open, ok, tt.want)
		}
	}
	h.add(bounds, []int{0, 0, 0, 10}) // and ten over an hour
	if got, open, _ := h.Quantile(0.9); !open || got != time.Hour {
		t.Errorf("p90 in the open bucket: got %v open %v, want the bound 1h, open", got, open)
	}
	if got := h.P90(); got != "> 1 h" {
		t.Errorf("P90 text: got %q, want %q", got, "> 1 h")
	}
	if got := h.Within(10 * time.Minute); got != (ratio{10, 20}) {
		t.Errorf("Within(10m), a bound: got %v, want 10 of 20", got)
	}
	if got := h.Within(5*time.Minute + 30*time.Second); got != (ratio{5, 20}) {
		t.Errorf("Within(5m30s), inside a bucket: got %v, want 5 of 20", got)
	}
	var empty histogram
	if got := empty.Median(); got != "–" {
		t.Errorf("median of nothing: got %q", got)
	}
}

func TestScores(t *testing.T) {
	var s scores
	for score, n := range map[int]int{5: 6, 4: 2, 3: 1, 1: 1} {
		s.add(bot.CSAT, score, n)
	}
	for score, n := range map[int]int{10: 5, 9: 1, 8: 2, 3: 2} { // 6 promoters, 2 detractors of 10
		s.add(bot.NPS, score, n)
	}
	s.add(bot.CES, 7, 1)
	s.add(bot.CES, 4, 1)
	s.add(bot.CES, 99, 5) // out of the scale: ignored
	got := map[bot.Scale]string{}
	for _, set := range s.List() {
		got[set.Scale] = set.Score()
	}
	want := map[bot.Scale]string{bot.CSAT: "80.0%", bot.NPS: "+40", bot.CES: "5.50 / 7"}
	for sc, w := range want {
		if got[sc] != w {
			t.Errorf("%s score: got %q, want %q", sc, got[sc], w)
		}
	}
	if got, want := s.Summary(), "CSAT 80.0%; CES 5.50 / 7; NPS +40"; got != want {
		t.Errorf("Summary: got %q, want %q", got, want)
	}
	if got := scoreCells(&s); strings.Join(got, ",") != "80.0,5.50,40" {
		t.Errorf("scoreCells: got %v", got)
	}
}

func TestFunnelRows(t *testing.T) {
	rows := funnelRows([]int{10, 8, 8, 4, 4, 2, 1, 0, 0, 0})
	if got := rows[3].Step.Pct(); got != "50.0%" {
		t.Errorf("resolved from first response: got %s, want 50.0%%", got)
	}
	if got := rows[6].Overall.Pct(); got != "10.0%" {
		t.Errorf("satisfied from asked: got %s, want 10.0%%", got)
	}
	if got := rows[8].Step.Pct(); got != "–" {
		t.Errorf("clicked from nothing offered: got %s, want –", got)
	}
}

func TestParseFilter(t *testing.T) {
	now := time.Date(2026, 11, 23, 15, 4, 0, 0, time.UTC)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tt := range []struct {
		query        string
		since, until time.Time
		problems     int
	}{
		{"", day("2026-10-25"), day("2026-11-24"), 0},
		{"period=7d", day("2026-11-17"), day("2026-11-24"), 0},
		{"period=all", time.Time{}, time.Time{}, 0},
		{"since=2026-01-01&until=2026-01-31", day("2026-01-01"), day("2026-02-01"), 0},
		{"period=custom&since=2026-01-01", day("2026-01-01"), time.Time{}, 0},
		{"since=yesterday", time.Time{}, time.Time{}, 1},
		{"since=2026-02-01&until=2026-01-01", time.Time{}, time.Time{}, 1},
		{"period=1y", day("2026-10-25"), day("2026-11-24"), 0},
		{"status=lost", day("2026-10-25"), day("2026-11-24"), 1},
	} {
		q, _ := url.ParseQuery(tt.query)
		f := parseFilter(q, now)
		if !f.since.Equal(tt.since) || !f.until.Equal(tt.until) || len(f.problems) != tt.problems {
			t.Errorf("%q: got [%v, %v) with %v, want [%v, %v) with %d problems",
				tt.query, f.since, f.until, f.problems, tt.since, tt.until, tt.problems)
		}
	}
	f := parseFilter(url.Values{"period": {"7d"}, "channel": {"help"}, "page": {"3"}}, now)
	if got, want := f.link("/dashboard/cases", "page", "4"), "/dashboard/cases?channel=help&page=4&period=7d"; got != want {
		t.Errorf("link: got %q, want %q", got, want)
	}
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/dashboard/cases?page=2":   "/dashboard/cases?page=2",
		"":                          "/dashboard/",
		"https://evil.example/x":    "/dashboard/",
		"//evil.example/dashboard/": "/dashboard/",
		"/dashboard/\\evil":         "/dashboard/",
		"/metrics":                  "/dashboard/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q): got %q, want %q", next, got, want)
		}
	}
}

func TestMessageLink(t *testing.T) {
	for _, tt := range []struct {
		ref   bot.Ref
		slack string
		want  string
	}{
		{bot.Ref{Platform: bot.Discord, Space: "G1", Channel: "C2", Message: "M3"}, "", "https://discord.com/channels/G1/C2/M3"},
		{bot.Ref{Platform: bot.Discord, Channel: "C2", Message: "M3"}, "", ""},
		{bot.Ref{Platform: bot.Slack, Channel: "C2", Message: "1700000000.001200"}, "https://acme.slack.com/",
			"https://acme.slack.com/archives/C2/p1700000000001200"},
		{bot.Ref{Platform: bot.Slack, Channel: "C2", Message: "1700000000.001200"}, "", ""},
		{bot.Ref{Platform: bot.Slack, Channel: "@showcase", Message: "1"}, "https://acme.slack.com", ""},
		{bot.Ref{Platform: bot.Sandbox, Channel: "showcase", Message: "m1"}, "", ""},
	} {
		if got := messageLink(tt.ref, tt.slack); got != tt.want {
			t.Errorf("messageLink(%+v, %q): got %q, want %q", tt.ref, tt.slack, got, tt.want)
		}
	}
}

func TestWeekStart(t *testing.T) {
	for name, want := range map[string]string{"2026-W01": "2025-12-29", "2026-W47": "2026-11-16", "2026-W53": "2026-12-28"} {
		got, err := weekStart(name)
		if err != nil || got.Format(time.DateOnly) != want {
			t.Errorf("weekStart(%s): got %v (%v), want %s", name, got, err, want)
		}
	}
	weeks := fillWeeks([]*group{{Name: "2026-W52"}, {Name: "2027-W02"}})
	var names []string
	for _, g := range weeks {
		names = append(names, g.Name)
	}
	if got, want := strings.Join(names, ","), "2026-W52,2026-W53,2027-W01,2027-W02"; got != want {
		t.Errorf("fillWeeks: got %s, want %s", got, want)
	}
}
