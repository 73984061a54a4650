package web_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/web"
)

func TestCSVWriterNeutralisesFormulas(t *testing.T) {
	for _, tt := range []struct {
		text, number string // one record: a text cell and a numeric cell
		want         [2]string
	}{
		{"plain", "12", [2]string{"plain", "12"}},
		{`=HYPERLINK("http://evil")`, "-12.5", [2]string{`'=HYPERLINK("http://evil")`, "-12.5"}},
		{"+1", "0", [2]string{"'+1", "0"}},
		{"-1", "", [2]string{"'-1", ""}},
		{"-1+cmd|' /C calc'!A0", "-1+cmd|' /C calc'!A0", [2]string{"'-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"}},
		{"@SUM(A1)", "1e5", [2]string{"'@SUM(A1)", "1e5"}},
		{"\t=1", "+5", [2]string{"'\t=1", "'+5"}},
		{"\r=1", "-", [2]string{"'\r=1", "'-"}},
		{"a=1", "1.", [2]string{"a=1", "1."}},
		{"", ">300", [2]string{"", ">300"}},
	} {
		var b bytes.Buffer
		w, err := web.NewCSVWriter(&b, []string{"text", "number"}, "number")
		if err != nil {
			t.Fatal(err)
		}
		cells := []string{tt.text, tt.number}
		if err := w.Write(cells); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if cells[0] != tt.text || cells[1] != tt.number {
			t.Errorf("Write changed its argument: %q", cells)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := [2]string(recs[1]); got != tt.want {
			t.Errorf("Write(%q, %q): got %q, want %q", tt.text, tt.number, got, tt.want)
		}
	}
	if _, err := web.NewCSVWriter(&bytes.Buffer{}, []string{"a"}, "b"); err == nil {
		t.Error("a numeric column missing from the header: got no error")
	}
}

// checkCSVCells fails for every cell a spreadsheet would run as a formula: a
// cell starting with =, +, -, @, tab or CR, except a plain negative number
// in a column named in numeric.
func checkCSVCells(t *testing.T, what string, recs [][]string, numeric ...string) {
	t.Helper()
	if len(recs) == 0 {
		t.Fatalf("%s: no header", what)
	}
	isNumeric := map[int]bool{}
	for i, h := range recs[0] {
		for _, n := range numeric {
			if h == n {
				isNumeric[i] = true
			}
		}
	}
	for r, rec := range recs {
		for i, cell := range rec {
			if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				continue
			}
			if isNumeric[i] && negativeNumber(cell) {
				continue
			}
			t.Errorf("%s: row %d column %q: %q would run as a formula", what, r, recs[0][i], cell)
		}
	}
}

func negativeNumber(s string) bool {
	s, ok := strings.CutPrefix(s, "-")
	if !ok || s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

func TestEveryCSVDownloadIsNeutralised(t *testing.T) {
	const (
		customerID   = "=1+1"
		customerName = "-1+cmd|' /C calc'!A0"
		channel      = "@SUM(A1)"
		staffID      = "+staff"
		staffName    = "=Sam"
		testimonial  = `=HYPERLINK("http://evil.example","Great")`
	)
	h := bottest.New(t, bottest.Configure(func(c *bot.Config) {
		ids := c.Staff.Of(bot.Sandbox)
		ids.Users = append(ids.Users, staffID)
		c.Staff.Set(bot.Sandbox, ids)
	}))
	f := newFixtureOn(t, h)
	who := h.Person(customerID, customerName)
	staff := h.Person(staffID, staffName)
	h.Handle(bot.Event{Kind: bot.EventMessage, Where: bot.Ref{Channel: channel, Message: "q1"}, Author: who,
		Text: "help", Support: true})
	cs := activeCase(t, h, who)
	h.Advance(time.Minute)
	h.Click(staff, h.WithButton(cs.Staff.Channel, "Claim"), "Claim")
	h.Say(staff, cs.Staff, "On it")
	h.Click(staff, h.WithButton(cs.Staff.Channel, "Resolve"), "Resolve")
	h.Click(who, h.WithButton(cs.Private.Channel, "5"), "5")
	r := h.Click(who, h.WithButton(cs.Private.Channel, "Post in #showcase"), "Post in #showcase")
	h.Submit(who, r.Modal, cs.Private.Conversation(), map[string]string{"text": testimonial})

	stages := append([]string{}, bot.Stages...)
	scoreCols := []string{"recoveries", "csat_pct", "ces_average", "nps", "first_response_median_s",
		"first_response_p90_s", "resolution_median_s", "resolution_p90_s"}
	for _, tt := range []struct {
		path    string
		numeric []string
		want    []string // neutralised cells that must be there
	}{
		{"/dashboard/?format=csv", []string{"cases", "step_pct", "from_asked_pct"}, nil},
		{"/dashboard/trends?format=csv", append(append(stages, scoreCols...), "first_response_within_sla_pct"), nil},
		{"/dashboard/trends?format=csv&table=scores", []string{"score", "ratings"}, nil},
		{"/dashboard/by/platform?format=csv", append(stages, scoreCols...), nil},
		{"/dashboard/by/channel?format=csv", append(stages, scoreCols...), []string{"'" + channel}},
		{"/dashboard/by/staff?format=csv", append(stages, scoreCols...), []string{"'" + staffID}},
		{"/dashboard/by/target?format=csv", []string{"offered", "clicked", "shared", "click_rate_pct", "share_rate_pct"}, nil},
		{"/dashboard/testimonials?format=csv", []string{"case"}, []string{"'" + testimonial}},
		{"/dashboard/cases?format=csv", []string{"case", "round"},
			[]string{"'" + customerID, "'" + customerName, "'" + channel, "'" + staffID}},
		{"/dashboard/cases/" + strconv.FormatInt(cs.ID, 10) + "?format=csv", nil, []string{"'" + customerID, "'" + staffID}},
	} {
		recs := f.readCSV(tt.path)
		checkCSVCells(t, tt.path, recs, tt.numeric...)
		for _, w := range tt.want {
			if !slices.ContainsFunc(recs, func(rec []string) bool { return slices.Contains(rec, w) }) {
				t.Errorf("%s: no cell %q in %q", tt.path, w, recs)
			}
		}
	}
}
