package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// option is one choice of a <select>.
type option struct {
	Value, Label string
	Selected     bool
}

// filterForm is the period and filter form at the top of a page.
type filterForm struct {
	filter
	Action    string
	Periods   []option
	Platforms []option
	Channels  []option
	Statuses  []option // the cases page only
}

// newPage starts a page: it reads the filter, fills the form's choices from
// the store and sets the CSV link.
func (s *Server) newPage(ctx context.Context, r *http.Request, a account, title, section string) (page, filter, error) {
	f := parseFilter(r.URL.Query(), s.now())
	form := &filterForm{filter: f, Action: r.URL.Path}
	for _, p := range []struct{ v, l string }{{"7d", "Last 7 days"}, {"30d", "Last 30 days"},
		{"90d", "Last 90 days"}, {"all", "All time"}, {"custom", "Dates below"}} {
		form.Periods = append(form.Periods, option{p.v, p.l, f.Period == p.v})
	}
	refs, err := s.store.Channels(ctx)
	if err != nil {
		return page{}, f, err
	}
	form.Platforms = []option{{"", "All platforms", f.Platform == ""}}
	form.Channels = []option{{"", "All channels", f.Channel == ""}}
	var platforms []string
	for _, ref := range refs {
		if !slices.Contains(platforms, ref.Platform) {
			platforms = append(platforms, ref.Platform)
			form.Platforms = append(form.Platforms, option{ref.Platform, ref.Platform, f.Platform == ref.Platform})
		}
		if ref.Channel != "" && (f.Platform == "" || f.Platform == ref.Platform) &&
			!slices.ContainsFunc(form.Channels, func(o option) bool { return o.Value == ref.Channel }) {
			form.Channels = append(form.Channels, option{ref.Channel, "#" + ref.Channel, f.Channel == ref.Channel})
		}
	}
	p := page{Title: title, Section: section, Account: a, Filter: form, Notes: f.problems,
		CSV: f.link(r.URL.Path, "format", "csv")}
	return p, f, nil
}

// funnelData is the funnel page.
type funnelData struct {
	Rows       []stageRow
	Chart      hbarChart
	Recoveries int
	Resolved   ratio
	Satisfied  ratio
	Shared     ratio
	// Sampled and Cooled count the resolutions not surveyed by
	// survey.sample and by survey.cooldown.
	Sampled, Cooled int
}

func (s *Server) funnelPage(w http.ResponseWriter, r *http.Request, a account) {
	ctx := r.Context()
	p, f, err := s.newPage(ctx, r, a, "Advocacy funnel", "funnel")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.store.DashboardFunnel(ctx, f.query())
	if err == nil && len(rows) != 1 {
		err = fmt.Errorf("funnel: %d rows without grouping, want 1", len(rows))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	skips, err := s.store.SurveySkips(ctx, f.query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counts := rows[0].Counts
	stages := funnelRows(counts)
	if wantsCSV(r) {
		c := s.startCSV(w, "funnel", []string{"stage", "cases", "step_pct", "from_asked_pct"}, "cases", "step_pct", "from_asked_pct")
		for _, st := range stages {
			c.row(st.Stage, strconv.Itoa(st.Count), pctCell(st.Step), pctCell(st.Overall))
		}
		c.row("recoveries", strconv.Itoa(rows[0].Recoveries), "", "")
		c.row("survey_skipped_sampled_out", strconv.Itoa(skips[bot.SkipSampledOut]), "", "")
		c.row("survey_skipped_cooldown", strconv.Itoa(skips[bot.SkipCooldown]), "", "")
		s.finishCSV(r, c)
		return
	}
	s.render(w, r, http.StatusOK, "funnel", p, funnelData{
		Rows: stages, Chart: newFunnelChart(stages), Recoveries: rows[0].Recoveries,
		Resolved:  ratio{count(counts, "resolved"), count(counts, "asked")},
		Satisfied: ratio{count(counts, "satisfied"), count(counts, "rated")},
		Shared:    ratio{count(counts, "shared"), count(counts, "asked")},
		Sampled:   skips[bot.SkipSampledOut], Cooled: skips[bot.SkipCooldown],
	})
}

// pctCell is a ratio as a CSV number (a percentage with one decimal), empty for 0/0.
func pctCell(r ratio) string {
	if r.Whole == 0 {
		return ""
	}
	return strconv.FormatFloat(100*r.Frac(), 'f', 1, 64)
}

func (s *Server) finishCSV(r *http.Request, c *csvWriter) {
	if err := c.finish(); err != nil {
		s.log.Warn("dashboard: CSV download cut short", "path", r.URL.Path, "err", err)
	}
}

// group is one group's figures (a week, a platform, a channel, a staff member).
type group struct {
	Keys       []string
	Labels     []string // Keys for people (staff by name); nil: Keys
	Name       string
	Counts     []int
	Recoveries int
	Scores     scores
	First      histogram
	Resolve    histogram
}

// Resolved is the share of asked cases resolved.
func (g *group) Resolved() ratio { return ratio{count(g.Counts, "resolved"), count(g.Counts, "asked")} }

// Satisfied is the share of rated cases that are satisfied: the dashboard's
// one meaning of "satisfied" (a case counts once any of its ratings met the
// survey's satisfied threshold). Scores count ratings instead.
func (g *group) Satisfied() ratio {
	return ratio{count(g.Counts, "satisfied"), count(g.Counts, "rated")}
}

// Shared is the share of asked cases that ended in a public testimonial.
func (g *group) Shared() ratio { return ratio{count(g.Counts, "shared"), count(g.Counts, "asked")} }

// Shown is the group's keys as the page shows them.
func (g *group) Shown() []string {
	if g.Labels != nil {
		return g.Labels
	}
	return g.Keys
}

// Count is the number of cases at a stage.
func (g *group) Count(stage string) int { return count(g.Counts, stage) }

// groups loads the funnel, ratings and response times of q's groups and
// joins them by keys, in the funnel's order.
func (s *Server) groups(ctx context.Context, q bot.FunnelQuery) ([]*group, error) {
	rows, err := s.store.DashboardFunnel(ctx, q)
	if err != nil {
		return nil, err
	}
	byKey := map[string]*group{}
	var out []*group
	for _, r := range rows {
		g := &group{Keys: r.Keys, Name: strings.Join(r.Keys, " · "), Counts: r.Counts, Recoveries: r.Recoveries}
		byKey[strings.Join(r.Keys, "\x00")] = g
		out = append(out, g)
	}
	find := func(keys []string) *group {
		k := strings.Join(keys, "\x00")
		if g := byKey[k]; g != nil {
			return g
		}
		g := &group{Keys: keys, Name: strings.Join(keys, " · "), Counts: make([]int, len(bot.Stages))}
		byKey[k] = g
		out = append(out, g)
		return g
	}
	if err := s.store.RatingCounts(ctx, q, func(keys []string, scale bot.Scale, score, n int) error {
		find(keys).Scores.add(scale, score, n)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.store.ResponseTimes(ctx, q, func(keys []string, bounds []time.Duration, first, res []int) error {
		g := find(keys)
		g.First.add(bounds, first)
		g.Resolve.add(bounds, res)
		return nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// total adds groups up into one.
func total(gs []*group) *group {
	t := &group{Name: "All", Counts: make([]int, len(bot.Stages))}
	for _, g := range gs {
		for i, n := range g.Counts {
			t.Counts[i] += n
		}
		t.Recoveries += g.Recoveries
		for _, set := range g.Scores.List() {
			for i, n := range set.Counts {
				t.Scores.add(set.Scale, set.Lo+i, n)
			}
		}
		if g.First.Counts != nil {
			t.First.add(g.First.Bounds, g.First.Counts)
		}
		if g.Resolve.Counts != nil {
			t.Resolve.add(g.Resolve.Bounds, g.Resolve.Counts)
		}
	}
	return t
}

// trendsData is the trends page.
type trendsData struct {
	Weeks       []*group
	All         *group
	Cases       seriesChart
	Conversion  seriesChart
	Times       seriesChart
	ScoreCharts []scoreChart
	SLA         time.Duration
	SLAText     string
	WithinSLA   ratio
	ScoresCSV   string
}

// Within is the share of a group's first responses within the SLA.
func (d trendsData) Within(g *group) string {
	if d.SLA <= 0 {
		return "–"
	}
	return g.First.Within(d.SLA).Pct()
}

func (s *Server) trendsPage(w http.ResponseWriter, r *http.Request, a account) {
	ctx := r.Context()
	p, f, err := s.newPage(ctx, r, a, "Trends by week", "trends")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	weeks, err := s.groups(ctx, f.query("week"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	slices.SortFunc(weeks, func(a, b *group) int { return strings.Compare(a.Name, b.Name) })
	weeks = fillWeeks(weeks)
	all := total(weeks)
	d := trendsData{Weeks: weeks, All: all, SLA: s.sla}
	if s.sla > 0 {
		d.SLAText, d.WithinSLA = human(s.sla), all.First.Within(s.sla)
	}
	if wantsCSV(r) {
		if r.URL.Query().Get("table") == "scores" {
			s.scoresCSV(w, r, all)
			return
		}
		s.weeksCSV(w, r, d)
		return
	}
	d.Cases, d.Conversion, d.Times = weekCharts(weeks, s.sla)
	for _, set := range all.Scores.List() {
		d.ScoreCharts = append(d.ScoreCharts, newScoreChart(set))
	}
	d.ScoresCSV = f.link(r.URL.Path, "format", "csv", "table", "scores")
	s.render(w, r, http.StatusOK, "trends", p, d)
}

// fillWeeks adds empty weeks between the first and the last, so that the
// charts' x axis is time.
func fillWeeks(weeks []*group) []*group {
	if len(weeks) < 2 {
		return weeks
	}
	start, err1 := weekStart(weeks[0].Name)
	end, err2 := weekStart(weeks[len(weeks)-1].Name)
	if err1 != nil || err2 != nil || end.Sub(start) > 3*366*day {
		return weeks
	}
	have := map[string]*group{}
	for _, g := range weeks {
		have[g.Name] = g
	}
	var out []*group
	for t := start; !t.After(end); t = t.AddDate(0, 0, 7) {
		y, wk := t.ISOWeek()
		name := strconv.Itoa(y) + "-W" + twoDigits(wk)
		g := have[name]
		if g == nil {
			g = &group{Keys: []string{name}, Name: name, Counts: make([]int, len(bot.Stages))}
		}
		out = append(out, g)
	}
	return out
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// weekStart is the Monday of an ISO week named "2026-W47".
func weekStart(name string) (time.Time, error) {
	y, w, ok := strings.Cut(name, "-W")
	if !ok {
		return time.Time{}, fmt.Errorf("not a week: %q", name)
	}
	year, err := strconv.Atoi(y)
	if err != nil {
		return time.Time{}, err
	}
	week, err := strconv.Atoi(w)
	if err != nil {
		return time.Time{}, err
	}
	// 4 January is always in week 1.
	jan4 := time.Date(year, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(week-1)), nil
}

// weekCharts draws the weekly cases, conversion and response times.
func weekCharts(weeks []*group, sla time.Duration) (cases, conv, times seriesChart) {
	labels := make([]string, len(weeks))
	asked := make([]int, len(weeks))
	var resolved, satisfied, shared, firstMed, firstP90 []*float64
	pct := func(r ratio) *float64 {
		if r.Whole == 0 {
			return nil
		}
		v := 100 * r.Frac()
		return &v
	}
	hours := func(h histogram, q float64) *float64 {
		d, _, ok := h.Quantile(q)
		if !ok {
			return nil
		}
		v := d.Hours()
		return &v
	}
	top := 0.0
	for i, g := range weeks {
		labels[i], asked[i] = g.Name, g.Count("asked")
		resolved = append(resolved, pct(g.Resolved()))
		satisfied = append(satisfied, pct(g.Satisfied()))
		shared = append(shared, pct(g.Shared()))
		firstMed = append(firstMed, hours(g.First, 0.5))
		firstP90 = append(firstP90, hours(g.First, 0.9))
		if v := firstP90[i]; v != nil {
			top = max(top, *v)
		}
	}
	cases = newSeriesChart("Cases asked per week")
	cases.addBars(labels, asked, "bar")
	conv = newSeriesChart("Conversion per week")
	conv.addBars(labels, make([]int, len(weeks)), "bar ghost") // invisible: the week labels only
	percent := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + "%" }
	conv.addLine("Resolved / asked", "l1", resolved, 100, percent)
	conv.addLine("Satisfied / rated", "l2", satisfied, 100, percent)
	conv.addLine("Shared / asked", "l3", shared, 100, percent)
	conv.setTicks(100, percent)
	times = newSeriesChart("First staff response per week")
	times.addBars(labels, make([]int, len(weeks)), "bar ghost") // the week labels only
	if sla > 0 {
		top = max(top, sla.Hours())
	}
	top = max(top*1.1, 1.0/60)
	hoursText := func(v float64) string { return human(time.Duration(v * float64(time.Hour))) }
	times.addLine("Median", "l1", firstMed, top, hoursText)
	times.addLine("90th percentile", "l3", firstP90, top, hoursText)
	times.setTicks(top, hoursText)
	if sla > 0 {
		times.setLimit("SLA "+human(sla), sla.Hours(), top)
	}
	return cases, conv, times
}

func (s *Server) weeksCSV(w http.ResponseWriter, r *http.Request, d trendsData) {
	header := append([]string{"week"}, bot.Stages...)
	header = append(header, "recoveries", "csat_pct", "ces_average", "nps",
		"first_response_median_s", "first_response_p90_s", "resolution_median_s", "resolution_p90_s", "first_response_within_sla_pct")
	c := s.startCSV(w, "trends", header, header[1:]...)
	for _, g := range d.Weeks {
		row := []string{g.Name}
		for _, n := range g.Counts {
			row = append(row, strconv.Itoa(n))
		}
		row = append(row, strconv.Itoa(g.Recoveries))
		row = append(row, scoreCells(&g.Scores)...)
		for _, h := range []histogram{g.First, g.Resolve} {
			row = append(row, quantileCell(h, 0.5), quantileCell(h, 0.9))
		}
		within := ""
		if d.SLA > 0 {
			within = pctCell(g.First.Within(d.SLA))
		}
		c.row(append(row, within)...)
	}
	s.finishCSV(r, c)
}

// scoreCells are a group's CSAT (% of ratings 4–5), CES average and NPS as CSV numbers.
func scoreCells(sc *scores) []string {
	cells := make([]string, 3)
	for _, set := range sc.List() {
		v := strings.TrimSuffix(set.Score(), " / 7")
		switch set.Scale {
		case bot.CSAT:
			cells[0] = strings.TrimSuffix(v, "%")
		case bot.CES:
			cells[1] = v
		case bot.NPS:
			cells[2] = strings.TrimPrefix(v, "+")
		}
	}
	return cells
}

// quantileCell is an estimated quantile in seconds, empty without data.
func quantileCell(h histogram, q float64) string {
	d, open, ok := h.Quantile(q)
	if !ok {
		return ""
	}
	v := strconv.FormatInt(int64(d.Seconds()), 10)
	if open {
		return ">" + v
	}
	return v
}

func (s *Server) scoresCSV(w http.ResponseWriter, r *http.Request, all *group) {
	c := s.startCSV(w, "scores", []string{"scale", "score", "ratings"}, "score", "ratings")
	for _, set := range all.Scores.List() {
		for i, n := range set.Counts {
			c.row(string(set.Scale), strconv.Itoa(set.Lo+i), strconv.Itoa(n))
		}
	}
	s.finishCSV(r, c)
}
