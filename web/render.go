package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html static/*
var assets embed.FS

// templates holds one parsed set per page, each with the shared layout.
type templates struct {
	pages map[string]*template.Template
}

func parseTemplates() (*templates, error) {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return t.UTC().Format("2 Jan 2006 15:04")
		},
		"date":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"lower":  lower,
		"n":      thousands,
		"plural": plural,
		"add":    func(a, b int) int { return a + b },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		clone, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		if t.pages[name], err = clone.ParseFS(assets, n); err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
	}
	return t, nil
}

// page is what the layout needs: title, navigation, the account and its
// sign-out form, the filter form and the CSV link.
type page struct {
	Title   string
	Section string
	Account account
	CSRF    string
	Filter  *filterForm
	CSV     string
	Notes   []string
	// People shows the people page in the navigation (admins, with Links).
	People bool
}

// view is a page's template data.
type view struct {
	Page page
	D    any
}

// render executes the page template into a buffer, so that a failure is a
// clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page, data any) {
	t := s.tpl.pages[name]
	if t == nil {
		s.fail(w, r, fmt.Errorf("no template %q", name))
		return
	}
	if p.Account.Name != "" && p.CSRF == "" {
		p.CSRF = s.csrfToken(w, r)
	}
	p.People = s.links != nil && p.Account.Admin()
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", view{Page: p, D: data}); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = b.WriteTo(w)
}

// fail logs an internal error and answers 500 without details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("dashboard: request failed", "path", r.URL.Path, "err", err)
	http.Error(w, "Something went wrong; the error is in advocate's log.", http.StatusInternalServerError)
}

// forbidden answers 403 with a page that says why.
func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, a account) {
	s.render(w, r, http.StatusForbidden, "message", page{Title: "Not for your role", Account: a},
		"This page shows individual staff members' results, which only admins may see.")
}

// notFound answers 404 with a page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, a account, what string) {
	s.render(w, r, http.StatusNotFound, "message", page{Title: "Not found", Account: a}, what)
}

// static serves the embedded files (the stylesheet), and nothing else: a
// directory is not listed, it is not found.
func (s *Server) static() http.Handler {
	sub, _ := fs.Sub(assets, "static") // the directory is embedded: this cannot fail
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/dashboard/static/")
		if st, err := fs.Stat(sub, name); err != nil || !st.Mode().IsRegular() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, sub, name)
	})
}

// thousands formats a count for people: 1234567 → "1,234,567".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// wantsCSV reports whether the request asks for the page's table as CSV.
func wantsCSV(r *http.Request) bool { return r.URL.Query().Get("format") == "csv" }

// csvWriter streams a CSV download; the first error stops it.
type csvWriter struct {
	w   *CSVWriter
	err error
}

// startCSV sends the headers of a CSV download named name-<date>.csv and its
// header row; numeric names the columns that hold numbers (see CSVWriter).
func (s *Server) startCSV(w http.ResponseWriter, name string, header []string, numeric ...string) *csvWriter {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="advocate-%s-%s.csv"`,
		name, s.now().UTC().Format("2006-01-02")))
	c := &csvWriter{}
	c.w, c.err = NewCSVWriter(w, header, numeric...)
	return c
}

// row writes one record.
func (c *csvWriter) row(cells ...string) {
	if c.err == nil {
		c.err = c.w.Write(cells)
	}
}

// finish flushes the CSV and returns the first write error.
func (c *csvWriter) finish() error {
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}
