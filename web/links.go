package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/advocate-bot/advocate/bot"
)

// Linker links a person's identities on several platforms, for the people
// page. *bot.Core implements it.
type Linker interface {
	// Link makes a and b identities of one person, as staff member by decided.
	Link(ctx context.Context, a, b bot.Identity, by string) error
	// Unlink takes id out of its person; bot.ErrNotFound if it is linked with none.
	Unlink(ctx context.Context, id bot.Identity, by string) error
	// Platforms names the platforms advocate runs, whose identities can be linked.
	Platforms() []string
}

// peoplePerPage is how many people the people page lists at once.
const peoplePerPage = perPage

// peopleData is the people page: the link form, a look-up, the people with
// linked identities, and what the last action did.
type peopleData struct {
	Platforms []string
	Done      string
	Error     string
	// Form holds what was typed into the link form, to show it again after an error.
	Form url.Values
	Find bot.Identity
	// Others are the identities linked with the one looked up, "" for none.
	Others string
	People [][]linkRow
	Pager  pager
}

// linkRow is one linked identity as the page lists it.
type linkRow struct {
	bot.LinkedIdentity
	How string // how it was linked, in words
}

func newLinkRows(people [][]bot.LinkedIdentity) [][]linkRow {
	out := make([][]linkRow, len(people))
	for i, p := range people {
		for _, l := range p {
			how := "by the person, with /link"
			if by, ok := strings.CutPrefix(l.Via, bot.LinkViaDashboard); ok {
				how = "on the dashboard, by " + by
			}
			out[i] = append(out[i], linkRow{LinkedIdentity: l, How: how})
		}
	}
	return out
}

// peoplePage lists the people whose identities are linked, with the forms
// to link two identities and to unlink one. Admins only.
func (s *Server) peoplePage(w http.ResponseWriter, r *http.Request, a account) {
	if !a.Admin() {
		s.adminsOnly(w, r, a)
		return
	}
	d := peopleData{Platforms: s.links.Platforms()}
	switch r.URL.Query().Get("done") {
	case "linked":
		d.Done = "Linked: they are one person now."
	case "unlinked":
		d.Done = "Unlinked: that identity is a person of its own again."
	}
	s.renderPeople(w, r, a, http.StatusOK, d)
}

func (s *Server) renderPeople(w http.ResponseWriter, r *http.Request, a account, status int, d peopleData) {
	ctx := r.Context()
	q := r.URL.Query()
	pageNo, _ := strconv.Atoi(q.Get("page"))
	pageNo = max(pageNo, 1)
	d.Find = bot.Identity{Platform: q.Get("platform"), ID: strings.TrimSpace(q.Get("id"))}
	var total int
	var people [][]bot.LinkedIdentity
	err := s.store.View(ctx, func(tx bot.Tx) (err error) {
		if d.Find.ID != "" {
			ids, err := tx.Identities(ctx, d.Find)
			if err != nil {
				return err
			}
			var others []string
			for _, i := range ids {
				if i != d.Find {
					others = append(others, i.String())
				}
			}
			d.Others = strings.Join(others, ", ")
		}
		people, total, err = tx.LinkedPeople(ctx, (pageNo-1)*peoplePerPage, peoplePerPage)
		return err
	})
	if err != nil {
		s.fail(w, r, fmt.Errorf("linked people: %w", err))
		return
	}
	d.People = newLinkRows(people)
	d.Pager = pager{Page: pageNo, Total: total, Pages: max(1, (total+peoplePerPage-1)/peoplePerPage)}
	if pageNo > 1 {
		d.Pager.Prev = "/dashboard/people?page=" + strconv.Itoa(pageNo-1)
	}
	if pageNo < d.Pager.Pages {
		d.Pager.Next = "/dashboard/people?page=" + strconv.Itoa(pageNo+1)
	}
	s.render(w, r, status, "people", page{Title: "People", Section: "people", Account: a}, d)
}

// linkPost links the two identities of the link form.
func (s *Server) linkPost(w http.ResponseWriter, r *http.Request, a account) {
	if !s.peopleForm(w, r, a) {
		return
	}
	one := bot.Identity{Platform: r.PostFormValue("platform"), ID: strings.TrimSpace(r.PostFormValue("id"))}
	two := bot.Identity{Platform: r.PostFormValue("platform2"), ID: strings.TrimSpace(r.PostFormValue("id2"))}
	err := s.links.Link(r.Context(), one, two, a.Name)
	s.afterPeopleAction(w, r, a, err, "linked")
}

// unlinkPost takes the identity of an unlink button out of its person.
func (s *Server) unlinkPost(w http.ResponseWriter, r *http.Request, a account) {
	if !s.peopleForm(w, r, a) {
		return
	}
	id := bot.Identity{Platform: r.PostFormValue("platform"), ID: r.PostFormValue("id")}
	s.afterPeopleAction(w, r, a, s.links.Unlink(r.Context(), id, a.Name), "unlinked")
}

// peopleForm reads a people page form: an admin's, with its CSRF token.
func (s *Server) peopleForm(w http.ResponseWriter, r *http.Request, a account) bool {
	if !a.Admin() {
		s.adminsOnly(w, r, a)
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
	}
	if !s.checkCSRF(r) {
		s.log.Warn("dashboard: people form refused: CSRF token missing or wrong", "user", a.Name, "remote", remoteIP(r))
		http.Error(w, "This form has expired: reload the page and try again.", http.StatusForbidden)
		return false
	}
	return true
}

// afterPeopleAction sends the browser back to the people page (303, so a
// reload does not post again), or shows the page with what was wrong.
func (s *Server) afterPeopleAction(w http.ResponseWriter, r *http.Request, a account, err error, done string) {
	d := peopleData{Platforms: s.links.Platforms()}
	switch {
	case err == nil:
		http.Redirect(w, r, "/dashboard/people?done="+done, http.StatusSeeOther)
	case errors.Is(err, bot.ErrInvalidIdentity):
		d.Error, d.Form = err.Error(), r.PostForm
		s.renderPeople(w, r, a, http.StatusBadRequest, d)
	case errors.Is(err, bot.ErrNotFound):
		d.Error = "That identity is not linked with anyone (any more)."
		s.renderPeople(w, r, a, http.StatusNotFound, d)
	default:
		s.fail(w, r, err)
	}
}

// adminsOnly answers 403 to a viewer: linking and erasing people is an
// admin's decision.
func (s *Server) adminsOnly(w http.ResponseWriter, r *http.Request, a account) {
	s.render(w, r, http.StatusForbidden, "message", page{Title: "Not for your role", Account: a},
		"Only admins may see and change which identities are one person.")
}
