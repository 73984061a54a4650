package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// The public testimonial wall: /wall (a page), /wall.json (its feed, open to
// every origin) and /wall.js (a script that shows the feed on any website).
// No sign-in; each shows only the testimonials whose customers chose the
// wall, with the name they chose ("a customer" without one), the text and
// the day, and nothing else of the database.

//go:embed wall/wall.html wall/wall.css wall/wall.js
var wallAssets embed.FS

// Pages of the wall.
const (
	wallPerPage  = 20
	wallMaxLimit = 50
	// wallMaxPage bounds how far back the wall pages: 10,000 testimonials.
	wallMaxPage = 500
	// anonymous is the name of a customer who chose to show none.
	anonymous = "a customer"
)

// wallItem is one testimonial as the wall shows it: all it shows.
type wallItem struct {
	Name string `json:"name"`
	Text string `json:"text"`
	Date string `json:"date"` // the day it went on the wall, YYYY-MM-DD (UTC)
	Day  string `json:"-"`    // the same day for people: 2 January 2026
}

func newWallItem(e bot.WallEntry) wallItem {
	name := e.Name
	if name == "" {
		name = anonymous
	}
	at := e.At.UTC()
	return wallItem{Name: name, Text: e.Text, Date: at.Format(time.DateOnly), Day: at.Format("2 January 2006")}
}

// wallFeed is /wall.json.
type wallFeed struct {
	Testimonials []wallItem `json:"testimonials"`
	Page         int        `json:"page"`
	// NextPage is the page with older testimonials, 0 when there is none.
	NextPage int `json:"next_page,omitempty"`
}

// wallData is the /wall page.
type wallData struct {
	Title        string
	Items        []wallItem
	Newer, Older string
}

func parseWall() (*template.Template, error) {
	t, err := template.ParseFS(wallAssets, "wall/wall.html")
	if err != nil {
		return nil, fmt.Errorf("web: wall template: %w", err)
	}
	return t, nil
}

// wallRoutes adds the wall to mux.
func (s *Server) wallRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /wall", s.wallPage)
	mux.HandleFunc("GET /wall.json", s.wallJSON)
	mux.HandleFunc("GET /wall.css", s.wallFile("wall/wall.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /wall.js", s.wallFile("wall/wall.js", "text/javascript; charset=utf-8"))
}

// wallEntries reads ?page and ?limit and returns the page's testimonials,
// and whether there are older ones. A page or limit that is not a number in range is
// a 400 with the reason.
func (s *Server) wallEntries(w http.ResponseWriter, r *http.Request) (items []wallItem, page int, more, ok bool) {
	q := r.URL.Query()
	page, err := wallParam(q, "page", 1, wallMaxPage)
	if err != nil {
		s.badWallRequest(w, r, err)
		return nil, 0, false, false
	}
	limit, err := wallParam(q, "limit", wallPerPage, wallMaxLimit)
	if err != nil {
		s.badWallRequest(w, r, err)
		return nil, 0, false, false
	}
	entries, err := s.store.Wall(r.Context(), (page-1)*limit, limit+1)
	if err != nil {
		s.fail(w, r, err)
		return nil, 0, false, false
	}
	more = len(entries) > limit
	items = []wallItem{}
	for _, e := range entries[:min(len(entries), limit)] {
		items = append(items, newWallItem(e))
	}
	return items, page, more, true
}

// wallParam reads a whole number in [1, most] from q, def when absent.
func wallParam(q url.Values, key string, def, most int) (int, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("%s must be a whole number from 1 to %d", key, most)
	}
	return n, nil
}

func (s *Server) badWallRequest(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Info("wall: bad request", "path", r.URL.Path, "err", err)
	http.Error(w, err.Error(), http.StatusBadRequest)
}

func (s *Server) wallPage(w http.ResponseWriter, r *http.Request) {
	items, page, more, ok := s.wallEntries(w, r)
	if !ok {
		return
	}
	if len(items) == 0 && page > 1 {
		http.NotFound(w, r)
		return
	}
	d := wallData{Title: "What our customers say", Items: items}
	if s.brand != "" {
		d.Title += " about " + s.brand
	}
	limit := r.URL.Query().Get("limit")
	if page > 1 {
		d.Newer = wallLink("/wall", page-1, limit)
	}
	if more && page < wallMaxPage {
		d.Older = wallLink("/wall", page+1, limit)
	}
	var b bytes.Buffer
	if err := s.wallTpl.Execute(&b, d); err != nil {
		s.fail(w, r, fmt.Errorf("render wall: %w", err))
		return
	}
	s.serveWall(w, r, "text/html; charset=utf-8", b.Bytes())
}

// wallLink is the address of another page of the wall.
func wallLink(path string, page int, limit string) string {
	q := url.Values{}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if limit != "" {
		q.Set("limit", limit)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func (s *Server) wallJSON(w http.ResponseWriter, r *http.Request) {
	items, page, more, ok := s.wallEntries(w, r)
	if !ok {
		return
	}
	feed := wallFeed{Testimonials: items, Page: page}
	if more && page < wallMaxPage {
		feed.NextPage = page + 1
	}
	b, err := json.Marshal(feed)
	if err != nil {
		s.fail(w, r, fmt.Errorf("wall feed: %w", err))
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	s.serveWall(w, r, "application/json", append(b, '\n'))
}

// serveWall answers with body, or 304 when the client has it already. Caches
// may keep it but must ask again each time (no-cache with an ETag), so a
// testimonial withdrawn is gone from the next request on.
func (s *Server) serveWall(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("Cache-Control", "public, no-cache")
	h.Set("ETag", etag)
	h.Set("Content-Type", ctype)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(body)
}

// wallFile serves one of the wall's static files, cacheable for an hour.
func (s *Server) wallFile(name, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := wallAssets.ReadFile(name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Type", ctype)
		if name == "wall/wall.js" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		_, _ = w.Write(b)
	}
}

// wallSnippet is what an admin pastes into a website to show the wall.
func (s *Server) wallSnippet(r *http.Request) string {
	base := s.publicURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		base = "https://advocate.example.com"
	} else {
		base = u.Scheme + "://" + u.Host + u.EscapedPath()
	}
	return `<div data-advocate-wall data-limit="5"></div>` + "\n" +
		`<script src="` + strings.TrimRight(base, "/") + `/wall.js" defer></script>`
}
