package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/advocate-bot/advocate/bot"
)

// dimension is one breakdown page.
type dimension struct {
	Name    string   // in the URL: platform, channel, staff, target
	Title   string   // page title
	Columns []string // key column headings
	GroupBy []string
	Admin   bool // per-staff results: admins only
}

func dimensions() []dimension {
	return []dimension{
		{"platform", "By platform", []string{"Platform"}, []string{"platform"}, false},
		{"channel", "By channel", []string{"Platform", "Channel"}, []string{"platform", "channel"}, false},
		{"staff", "By staff member", []string{"Staff member"}, []string{"staff"}, true},
		{"target", "By share target", []string{"Target"}, []string{"target"}, false},
	}
}

// breakdownData is a breakdown page.
type breakdownData struct {
	Dim     dimension
	Dims    []dimension
	Groups  []*group
	All     *group
	Targets []targetRow
	SLA     string
}

// targetRow is one share target's offers, clicks and shares (distinct cases).
type targetRow struct {
	Target                   string
	Offered, Clicked, Shared int
}

// ClickRate is clicks per offer.
func (t targetRow) ClickRate() ratio { return ratio{t.Clicked, t.Offered} }

// ShareRate is shares per offer.
func (t targetRow) ShareRate() ratio { return ratio{t.Shared, t.Offered} }

func (s *Server) breakdownPage(w http.ResponseWriter, r *http.Request, a account) {
	var dim dimension
	for _, d := range dimensions() {
		if d.Name == r.PathValue("dim") {
			dim = d
		}
	}
	if dim.Name == "" {
		s.notFound(w, r, a, "There is no such breakdown.")
		return
	}
	if dim.Admin && !a.Admin() {
		s.forbidden(w, r, a)
		return
	}
	ctx := r.Context()
	p, f, err := s.newPage(ctx, r, a, "Breakdown "+lower(dim.Title), "by")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := breakdownData{Dim: dim, Dims: dimensions()}
	if s.sla > 0 {
		d.SLA = human(s.sla)
	}
	if dim.Name == "target" {
		rows, err := s.store.DashboardFunnel(ctx, f.query(dim.GroupBy...))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, row := range rows {
			d.Targets = append(d.Targets, targetRow{Target: row.Keys[0], Offered: count(row.Counts, "offered"),
				Clicked: count(row.Counts, "clicked"), Shared: count(row.Counts, "shared")})
		}
		if wantsCSV(r) {
			header := []string{"target", "offered", "clicked", "shared", "click_rate_pct", "share_rate_pct"}
			c := s.startCSV(w, "by-target", header, header[1:]...)
			for _, t := range d.Targets {
				c.row(t.Target, strconv.Itoa(t.Offered), strconv.Itoa(t.Clicked), strconv.Itoa(t.Shared),
					pctCell(t.ClickRate()), pctCell(t.ShareRate()))
			}
			s.finishCSV(r, c)
			return
		}
		s.render(w, r, http.StatusOK, "breakdown", p, d)
		return
	}
	if d.Groups, err = s.groups(ctx, f.query(dim.GroupBy...)); err != nil {
		s.fail(w, r, err)
		return
	}
	if dim.Name == "staff" {
		if err := s.nameStaff(ctx, a, d.Groups); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	d.All = total(d.Groups)
	if wantsCSV(r) {
		header := append(append([]string{}, dim.GroupBy...), bot.Stages...)
		header = append(header, "recoveries", "csat_pct", "ces_average", "nps",
			"first_response_median_s", "first_response_p90_s", "resolution_median_s", "resolution_p90_s")
		numeric := slices.Clone(header[len(dim.GroupBy):])
		if dim.Name == "staff" {
			header = append(header, "staff_name")
		}
		c := s.startCSV(w, "by-"+dim.Name, header, numeric...)
		for _, g := range d.Groups {
			row := append([]string{}, g.Keys...)
			for _, n := range g.Counts {
				row = append(row, strconv.Itoa(n))
			}
			row = append(row, strconv.Itoa(g.Recoveries))
			row = append(row, scoreCells(&g.Scores)...)
			for _, h := range []histogram{g.First, g.Resolve} {
				row = append(row, quantileCell(h, 0.5), quantileCell(h, 0.9))
			}
			if dim.Name == "staff" {
				row = append(row, g.Labels[0])
			}
			c.row(row...)
		}
		s.finishCSV(r, c)
		return
	}
	s.render(w, r, http.StatusOK, "breakdown", p, d)
}

// nameStaff labels the staff breakdown's groups with the staff members'
// display names; a group with no staff member (cases nobody answered) keeps
// its empty key.
func (s *Server) nameStaff(ctx context.Context, a account, groups []*group) error {
	var ids []string
	for _, g := range groups {
		ids = append(ids, g.Keys[0])
	}
	who, err := s.people(ctx, a, ids...)
	if err != nil {
		return err
	}
	for _, g := range groups {
		g.Labels = []string{who.staff(g.Keys[0])}
	}
	return nil
}

// lower lowers the first letter: "By platform" → "by platform".
func lower(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}
