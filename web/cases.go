package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// perPage is how many lines a list page shows.
const perPage = 50

// pager is a list's page links.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string
}

func newPager(f filter, path string, total, per int) pager {
	p := pager{Page: f.Page, Total: total, Pages: max(1, (total+per-1)/per)}
	if p.Page > 1 {
		p.Prev = f.link(path, "page", strconv.Itoa(p.Page-1))
	}
	if p.Page < p.Pages {
		p.Next = f.link(path, "page", strconv.Itoa(p.Page+1))
	}
	return p
}

// testimonial is one shared post and its consent record.
type testimonial struct {
	CaseID      int64
	Platform    string
	Target      string
	Kind        string
	Text        string // the exact text consented to, as logged
	ConsentedAt string // as logged
	SharedAt    time.Time
	Channel     string
	Message     string
	Link        string // the public post, when it can be derived
	Withdrawn   bool
	Erased      bool // the text was purged or forgotten
	// OnWall: the customer chose the public wall and it shows the
	// testimonial now, as WallName ("a customer" without one).
	OnWall   bool
	WallName string
}

// sharedDetail is what the shared event's detail holds (bot/share.go).
type sharedDetail struct {
	Offer       int64  `json:"offer"`
	Target      string `json:"target"`
	Kind        string `json:"kind"`
	Text        string `json:"text"`
	Channel     string `json:"channel"`
	Message     string `json:"message"`
	ConsentedAt string `json:"consented_at"`
}

func newTestimonial(e bot.CaseEvent, o bot.Offer, slackURL string) testimonial {
	var d sharedDetail
	_ = json.Unmarshal(e.Detail, &d) // a malformed detail shows as empty fields
	t := testimonial{CaseID: e.CaseID, Platform: e.Platform, Target: d.Target, Kind: d.Kind, Text: d.Text,
		ConsentedAt: d.ConsentedAt, SharedAt: e.At, Channel: d.Channel, Message: d.Message,
		Withdrawn: o.State == bot.OfferWithdrawn}
	if t.Target == "" {
		t.Target = o.Target
	}
	t.Erased = t.Text == ""
	post := o.Post
	if post.IsZero() {
		post = bot.Ref{Platform: e.Platform, Channel: d.Channel, Message: d.Message}
	}
	if post.Platform == "" {
		post.Platform = e.Platform
	}
	if !t.Withdrawn {
		t.Link = messageLink(post, slackURL)
	}
	t.OnWall = o.Wall && !o.WallAt.IsZero() && o.State == bot.OfferShared && o.Text != ""
	if t.WallName = o.WallName; t.WallName == "" {
		t.WallName = anonymous
	}
	return t
}

// messageLink is the web address of a posted message, when the ref says
// enough: Discord needs the guild; Slack needs the workspace's address.
func messageLink(r bot.Ref, slackURL string) string {
	if r.Channel == "" || r.Message == "" || strings.HasPrefix(r.Channel, "@") {
		return ""
	}
	switch r.Platform {
	case bot.Discord:
		if r.Space == "" {
			return ""
		}
		return "https://discord.com/channels/" + url.PathEscape(r.Space) + "/" + url.PathEscape(r.Channel) + "/" + url.PathEscape(r.Message)
	case bot.Slack:
		if slackURL == "" {
			return ""
		}
		return strings.TrimSuffix(slackURL, "/") + "/archives/" + url.PathEscape(r.Channel) + "/p" +
			url.PathEscape(strings.ReplaceAll(r.Message, ".", ""))
	}
	return ""
}

// testimonialsData is the testimonials page.
type testimonialsData struct {
	Items []testimonial
	Pager pager
	// Wall is on: each testimonial says whether it is on the wall, and
	// admins get Snippet, the HTML that shows the wall on a website.
	Wall    bool
	Snippet string
}

func (s *Server) testimonialsPage(w http.ResponseWriter, r *http.Request, a account) {
	ctx := r.Context()
	p, f, err := s.newPage(ctx, r, a, "Testimonials", "testimonials")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if wantsCSV(r) {
		c := s.startCSV(w, "testimonials", []string{"shared_at", "case", "platform", "target", "kind", "text",
			"consented_at", "channel", "message", "link", "withdrawn"}, "case")
		_, err := s.store.Testimonials(ctx, f.query(), 0, 0, func(e bot.CaseEvent, o bot.Offer) error {
			t := newTestimonial(e, o, s.slackURL)
			c.row(t.SharedAt.UTC().Format(time.RFC3339), strconv.FormatInt(t.CaseID, 10), t.Platform, t.Target,
				t.Kind, t.Text, t.ConsentedAt, t.Channel, t.Message, t.Link, strconv.FormatBool(t.Withdrawn))
			return c.err
		})
		if err != nil {
			s.log.Error("dashboard: testimonials export failed", "err", err)
		}
		s.finishCSV(r, c)
		return
	}
	per := perPage / 2
	d := testimonialsData{Wall: s.wall}
	if s.wall && a.Admin() {
		d.Snippet = s.wallSnippet(r)
	}
	total, err := s.store.Testimonials(ctx, f.query(), (f.Page-1)*per, per, func(e bot.CaseEvent, o bot.Offer) error {
		d.Items = append(d.Items, newTestimonial(e, o, s.slackURL))
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Pager = newPager(f, r.URL.Path, total, per)
	s.render(w, r, http.StatusOK, "testimonials", p, d)
}

// casesData is the cases list. Assignees are shown to admins only.
type casesData struct {
	Cases     []caseRow
	Assignees bool
	Pager     pager
}

// caseRow is a case with its assignee named for people.
type caseRow struct {
	*bot.Case
	Assignee string
}

func (s *Server) casesPage(w http.ResponseWriter, r *http.Request, a account) {
	ctx := r.Context()
	p, f, err := s.newPage(ctx, r, a, "Cases", "cases")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Filter.Statuses = []option{{"", "Any status", f.Status == ""}}
	for _, st := range statuses() {
		p.Filter.Statuses = append(p.Filter.Statuses, option{string(st), statusLabel(st), f.Status == string(st)})
	}
	if wantsCSV(r) {
		s.casesCSV(w, r, f, a.Admin())
		return
	}
	cf := bot.CaseFilter{Platform: f.Platform, Channel: f.Channel, Since: f.since, Until: f.until,
		Offset: (f.Page - 1) * perPage, Limit: perPage}
	if f.Status != "" {
		cf.Statuses = []bot.Status{bot.Status(f.Status)}
	}
	d := casesData{Assignees: a.Admin()}
	var cases []*bot.Case
	var total int
	err = s.store.View(ctx, func(tx bot.Tx) error {
		var err error
		cases, total, err = tx.FindCases(ctx, cf)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var ids []string
	for _, cs := range cases {
		ids = append(ids, cs.Assignee)
	}
	who, err := s.people(ctx, a, ids...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, cs := range cases {
		d.Cases = append(d.Cases, caseRow{Case: cs, Assignee: who.staff(cs.Assignee)})
	}
	d.Pager = newPager(f, r.URL.Path, total, perPage)
	s.render(w, r, http.StatusOK, "cases", p, d)
}

// casesCSV downloads the cases f selects. The assignee columns are for
// admins only, as the staff breakdown is; names are those staff members had
// when they last claimed or answered a case.
func (s *Server) casesCSV(w http.ResponseWriter, r *http.Request, f filter, admin bool) {
	header := []string{"case", "platform", "channel", "customer_id", "customer_name", "status",
		"assignee", "assignee_name", "round", "opened_at", "first_response_at", "resolved_at", "closed_at"}
	if !admin {
		header = slices.DeleteFunc(header, func(h string) bool { return strings.HasPrefix(h, "assignee") })
	}
	ctx := r.Context()
	c := s.startCSV(w, "cases", header, "case", "round")
	names := map[string]string{}
	err := s.store.ExportCases(ctx, f.query(), func(cs bot.Case) error {
		if f.Status != "" && string(cs.Status) != f.Status {
			return nil
		}
		row := []string{strconv.FormatInt(cs.ID, 10), cs.Platform, cs.Public.Channel, cs.Customer.ID, cs.Customer.Name,
			string(cs.Status)}
		if admin {
			name, err := s.staffName(ctx, names, cs.Assignee)
			if err != nil {
				return err
			}
			row = append(row, cs.Assignee, name)
		}
		c.row(append(row, strconv.Itoa(cs.Round), timeCell(cs.OpenedAt),
			timeCell(cs.FirstResponseAt), timeCell(cs.ResolvedAt), timeCell(cs.ClosedAt))...)
		return c.err
	})
	if err != nil {
		s.log.Error("dashboard: cases export failed", "err", err)
	}
	s.finishCSV(r, c)
}

// staffName looks up one staff member's name, remembering it in names: a
// download asks once per staff member, not once per case.
func (s *Server) staffName(ctx context.Context, names map[string]string, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if name, ok := names[id]; ok {
		return name, nil
	}
	got, err := s.store.StaffNames(ctx, []string{id})
	if err != nil {
		return "", err
	}
	names[id] = got[id]
	return got[id], nil
}

func timeCell(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// statusLabel names a status for people.
func statusLabel(s bot.Status) string {
	switch s {
	case bot.StatusAwaitingStaff:
		return "awaiting staff"
	case bot.StatusAwaitingCustomer:
		return "awaiting customer"
	}
	return string(s)
}

// timelineItem is one funnel event on the case page.
type timelineItem struct {
	At     time.Time
	Kind   string
	Label  string
	Actor  string // a name for people (see people.actor)
	Detail string // what the detail means, for people (see describe)
}

// transcriptLine is one recorded message.
type transcriptLine struct {
	At               time.Time
	Role, Name, Text string
}

// caseData is the case page.
type caseData struct {
	Case       *bot.Case
	Assignee   string // for people: a name, or "" for a viewer
	Timeline   []timelineItem
	Transcript []transcriptLine
	Ratings    []bot.Rating
	Offers     []*bot.Offer
	PublicLink string
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request, a account) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r, a, "There is no such case.")
		return
	}
	var d caseData
	var events []bot.CaseEvent
	err = s.store.View(ctx, func(tx bot.Tx) error {
		var err error
		if d.Case, err = tx.Case(ctx, id); err != nil {
			return err
		}
		if events, err = tx.CaseEvents(ctx, id); err != nil {
			return err
		}
		if d.Ratings, err = tx.Ratings(ctx, id); err != nil {
			return err
		}
		d.Offers, err = tx.Offers(ctx, id)
		return err
	})
	if errors.Is(err, bot.ErrNotFound) {
		s.notFound(w, r, a, fmt.Sprintf("There is no case %d.", id))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	customer := d.Case.Customer
	ids := []string{d.Case.Assignee}
	for _, e := range events {
		if e.Actor != customer.ID {
			ids = append(ids, e.Actor)
		}
	}
	who, err := s.people(ctx, a, ids...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i, e := range events {
		staffActor := e.Actor != "" && e.Actor != customer.ID
		events[i].Detail = who.redactDetail(e.Detail, staffActor)
	}
	if wantsCSV(r) {
		s.caseCSV(w, r, id, events, who, customer)
		return
	}
	if a.Admin() {
		d.Assignee = who.staff(d.Case.Assignee)
	}
	for _, e := range events {
		if e.Kind == bot.KindMessage {
			var m struct{ Role, Name, Text string }
			_ = json.Unmarshal(e.Detail, &m) // a malformed line shows empty
			if m.Role == "staff" && !a.Admin() {
				m.Name = ""
			}
			d.Transcript = append(d.Transcript, transcriptLine{At: e.At, Role: m.Role, Name: m.Name, Text: m.Text})
			continue
		}
		d.Timeline = append(d.Timeline, timelineItem{At: e.At, Kind: e.Kind, Label: kindLabel(e.Kind),
			Actor: who.actor(e.Actor, customer.ID, customer.Name), Detail: describe(e.Kind, e.Detail)})
	}
	d.PublicLink = messageLink(d.Case.Public, s.slackURL)
	p := page{Title: fmt.Sprintf("Case %d", id), Section: "cases", Account: a, CSV: r.URL.Path + "?format=csv"}
	s.render(w, r, http.StatusOK, "case", p, d)
}

// caseCSV is a case's funnel log: for a viewer, staff show as "staff" and
// their details without names (events already redacted).
func (s *Server) caseCSV(w http.ResponseWriter, r *http.Request, id int64, events []bot.CaseEvent, who people, customer bot.Person) {
	c := s.startCSV(w, "case-"+strconv.FormatInt(id, 10), []string{"at", "kind", "actor", "actor_name", "platform", "detail"})
	for _, e := range events {
		actor, name := e.Actor, who.actor(e.Actor, customer.ID, customer.Name)
		if !who.admin && actor != customer.ID {
			actor = name
		}
		c.row(timeCell(e.At), e.Kind, actor, name, e.Platform, string(e.Detail))
	}
	s.finishCSV(r, c)
}

// kindLabel names a funnel event kind for people.
func kindLabel(kind string) string {
	switch kind {
	case bot.KindAskedPublic:
		return "Asked in public"
	case bot.KindTakenPrivate:
		return "Taken private"
	case bot.KindFirstStaffResponse:
		return "First staff response"
	case bot.KindSurveySent:
		return "Survey sent"
	case bot.KindShareOffered:
		return "Share offered"
	case bot.KindShareClicked:
		return "Share clicked"
	case bot.KindShared:
		return "Shared"
	case bot.KindSLABreached:
		return "SLA breached"
	case bot.KindWallConsent:
		return "Wall choice"
	case bot.KindWallRemoved:
		return "Taken off the wall"
	}
	return strings.ReplaceAll(strings.ToUpper(kind[:min(1, len(kind))])+kind[min(1, len(kind)):], "_", " ")
}
