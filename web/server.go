package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/config"
)

// Store is what the dashboard reads. *sqlite.DB implements it; the methods
// beyond bot.Store's are in store/sqlite/dashboard.go, dashboard_access.go
// and health.go. Every query takes the period and filters as a
// bot.FunnelQuery (cases opened in [Since, Until)).
type Store interface {
	// View runs fn in a read-only transaction (cases, case pages, outbox depth).
	View(ctx context.Context, fn func(bot.Tx) error) error
	// Probe proves the store takes a committed write now and that no write
	// failed on storage (a full disk, a read-only or damaged file) lately;
	// its error says which. /readyz calls it.
	Probe(ctx context.Context) error
	// StaffNames returns display names of staff members by platform user ID,
	// leaving out those with none recorded.
	StaffNames(ctx context.Context, ids []string) (map[string]string, error)
	// DashboardFunnel returns what bot.Store.Funnel returns, from roll-ups
	// where it can.
	DashboardFunnel(ctx context.Context, q bot.FunnelQuery) ([]bot.FunnelRow, error)
	// Channels lists the platforms and public channels cases were asked in.
	Channels(ctx context.Context) ([]bot.Ref, error)
	// RatingCounts calls fn with the number of ratings per group, scale and score.
	RatingCounts(ctx context.Context, q bot.FunnelQuery, fn func(keys []string, scale bot.Scale, score, n int) error) error
	// ResponseTimes calls fn per group with histograms of the times from
	// opening to the first staff response and to resolution: counts[i] is the
	// number below bounds[i] (and at or above bounds[i-1]); the last bucket
	// has no upper bound.
	ResponseTimes(ctx context.Context, q bot.FunnelQuery,
		fn func(keys []string, bounds []time.Duration, firstResponse, resolution []int) error) error
	// Testimonials calls fn with the shared events of the period, newest
	// first, each with its offer (the consent record), and returns their total.
	Testimonials(ctx context.Context, q bot.FunnelQuery, offset, limit int, fn func(e bot.CaseEvent, o bot.Offer) error) (int, error)
	// ExportCases calls fn with each case q selects, oldest first.
	ExportCases(ctx context.Context, q bot.FunnelQuery, fn func(bot.Case) error) error
	// Wall lists the testimonials on the public wall, newest first, from
	// offset up to limit of them: the chosen name, the text and the time only.
	Wall(ctx context.Context, offset, limit int) ([]bot.WallEntry, error)
	// ExperimentCounts counts each experiment variant's prompts, clicks and
	// shares on the cases q selects, ordered by experiment and variant.
	ExperimentCounts(ctx context.Context, q bot.FunnelQuery) ([]bot.VariantCounts, error)
	// SurveySkips counts the resolutions of the cases q selects that got no
	// survey (survey_skipped), by reason.
	SurveySkips(ctx context.Context, q bot.FunnelQuery) (map[string]int, error)
}

// Sessions keeps the dashboard's sign-ins, so that a logout holds across
// restarts and instances. Both stores (*sqlite.DB, *postgres.DB) implement it.
type Sessions interface {
	// StartSession records a sign-in of user at now until expires (and may
	// forget the sessions expired by now).
	StartSession(ctx context.Context, id, user string, now, expires time.Time) error
	// Session returns a session's user and expiry, or bot.ErrNotFound once
	// it has ended.
	Session(ctx context.Context, id string) (user string, expires time.Time, err error)
	// EndSession ends a session; ending one that is not there is no error.
	EndSession(ctx context.Context, id string) error
}

// Options configures a Server.
type Options struct {
	// Store is read by every page; *sqlite.DB implements it.
	Store Store
	// Sessions keeps the sign-ins; required with Users.
	Sessions Sessions
	// Users may sign in to the dashboard; PasswordHash is bcrypt, Role admin or viewer.
	Users []config.DashboardUser
	// Token, when set, lets scripts read everything an admin can with
	// "Authorization: Bearer <token>" (read only: GET and HEAD).
	Token string
	// Logger receives failed logins (never the password), errors and
	// sign-ins; message text is never logged. Default: discard.
	Logger *slog.Logger
	// Secure marks cookies Secure: set it when the public URL is https.
	Secure bool
	// Now is the clock for sessions and the default period; time.Now when nil.
	Now func() time.Time
	// Registry is served at /metrics, with the outbox depth added to it. Give
	// the same registry to NewMetrics. Nil: /metrics is not served.
	Registry *prometheus.Registry
	// MetricsToken, when set, is required on /metrics as "Authorization:
	// Bearer <token>" (the dashboard's token does not open it, nor it the
	// dashboard).
	MetricsToken string
	// MetricsOpen serves /metrics without a token when MetricsToken is empty.
	// Set it only for a loopback listen address (config.File.MetricsOpen);
	// otherwise /metrics without a configured token answers 403.
	MetricsOpen bool
	// Ready is checked by /readyz after the store's write check (for example
	// "the adapters are connected"). Nil: only the store is checked.
	Ready func(ctx context.Context) error
	// SLA is the first-response target drawn on the trends page; 0 draws none.
	SLA time.Duration
	// SessionKey signs session cookies and CSRF tokens: a random key kept in
	// the database (the stores' SessionKey), never one derived from a configured
	// secret. At least 32 bytes; required with Users. Without users (the
	// token only, or an open dashboard) it signs only the forms' CSRF
	// tokens, and a random one does.
	SessionKey []byte
	// SessionTTL is how long a sign-in lasts; default 12 hours.
	SessionTTL time.Duration
	// Open serves the dashboard to anyone who reaches it, with no sign-in, as
	// an admin named "local". It is for the local sandbox: set it only when the
	// server listens on the loopback interface and no user or token is
	// configured (config.File.DashboardOpenOnNonLoopback guards the rest).
	// New refuses Open with Users or a Token.
	Open bool
	// Links, when set, serves the people page (admins only): staff link two
	// identities of one person, or unlink one. *bot.Core implements it.
	Links Linker
	// Experiments are the configured share prompt experiments
	// (share.experiments), for the experiments page to show with their
	// weights and status even before any prompt.
	Experiments []bot.Experiment
	// SlackURL is the Slack workspace's address ("https://acme.slack.com"),
	// for links to Slack messages; empty: no links to Slack messages. Discord
	// links need nothing.
	SlackURL string
	// Wall serves the public testimonial wall, with no sign-in: /wall,
	// /wall.json and /wall.js (config wall.enabled). Off: they are 404.
	Wall bool
	// Brand names the community on the wall's page.
	Brand string
	// PublicURL is where the server is reachable (http.public_url), for the
	// wall's embeddable snippet; empty: the address the admin used.
	PublicURL string
}

// Server is the staff dashboard with its login, metrics and health endpoints.
type Server struct {
	store     Store
	users     map[string]user
	dummyHash []byte
	token     string
	log       *slog.Logger
	secure    bool
	now       func() time.Time
	reg       *prometheus.Registry
	metrics   metricsAccess
	ready     func(ctx context.Context) error
	sla       time.Duration
	keys      keys
	ttl       time.Duration
	sessions  Sessions
	failures  loginFailures
	hashes    *hashGate
	compare   func(hash, password []byte) error // bcrypt's; tests slow it down
	tpl       *templates
	slackURL  string
	open      bool
	links     Linker
	wall      bool
	wallTpl   *template.Template
	brand     string
	publicURL string
	// experiments are the configured experiments (Options.Experiments).
	experiments []bot.Experiment
}

// New checks the options and builds a Server. Users with an unknown role or
// a hash that is not bcrypt are refused, so a typo cannot lock staff out
// silently or let anyone in.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("web: no store")
	}
	if opts.Open && (len(opts.Users) > 0 || opts.Token != "") {
		return nil, errors.New("web: an open dashboard cannot also have users or a token")
	}
	if len(opts.Users) > 0 && opts.Sessions == nil {
		return nil, errors.New("web: dashboard users need a session store")
	}
	if len(opts.Users) > 0 && len(opts.SessionKey) < minSessionKey {
		return nil, fmt.Errorf("web: the session key has %d bytes, want at least %d", len(opts.SessionKey), minSessionKey)
	}
	s := &Server{
		store:    opts.Store,
		sessions: opts.Sessions,
		users:    map[string]user{},
		token:    opts.Token,
		log:      opts.Logger,
		secure:   opts.Secure,
		now:      opts.Now,
		reg:      opts.Registry,
		metrics:  metricsAccess{token: opts.MetricsToken, open: opts.MetricsOpen},
		ready:    opts.Ready,
		sla:      opts.SLA,
		ttl:      opts.SessionTTL,
		slackURL: opts.SlackURL,
		open:     opts.Open,
		links:    opts.Links,
		wall:     opts.Wall,
		brand:    opts.Brand,
		hashes:   defaultHashGate(),
		compare:  bcrypt.CompareHashAndPassword,
	}
	s.experiments = opts.Experiments
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "web")
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = 12 * time.Hour
	}
	cost := bcrypt.MinCost // raised to the users' cost, which the dummy hash must match
	for _, u := range opts.Users {
		if u.Role != roleAdmin && u.Role != roleViewer {
			return nil, fmt.Errorf("web: dashboard user %q: role %q is neither %s nor %s", u.Name, u.Role, roleAdmin, roleViewer)
		}
		c, err := bcrypt.Cost([]byte(u.PasswordHash))
		if err != nil {
			return nil, fmt.Errorf("web: dashboard user %q: password_hash is not a bcrypt hash: %w", u.Name, err)
		}
		if _, dup := s.users[u.Name]; dup || u.Name == "" {
			return nil, fmt.Errorf("web: dashboard user %q: empty or repeated name", u.Name)
		}
		s.users[u.Name] = user{hash: []byte(u.PasswordHash), role: u.Role}
		cost = max(cost, c)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.dummyHash = dummy
	key := opts.SessionKey
	if len(key) == 0 { // no users: only the CSRF tokens of the forms
		key = []byte(rand.Text() + rand.Text())
	}
	s.keys = deriveKeys(key)
	if s.tpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	if s.wallTpl, err = parseWall(); err != nil {
		return nil, err
	}
	s.publicURL = opts.PublicURL
	if s.reg != nil {
		if err := s.reg.Register(newOutboxCollector(s.store, s.log)); err != nil {
			return nil, fmt.Errorf("web: register outbox metrics: %w", err)
		}
	}
	return s, nil
}

// Handler serves /dashboard/..., /login, /logout, /metrics, /healthz,
// /readyz and, when on, the wall (/wall, /wall.json, /wall.css, /wall.js).
// Mount it at the root of the server's mux for those paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.reg != nil {
		mux.Handle("GET /metrics", s.metricsGuard(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})))
	}
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.Handle("GET /dashboard/static/", s.static())
	mux.Handle("GET /dashboard", http.RedirectHandler("/dashboard/", http.StatusMovedPermanently))
	mux.Handle("GET /dashboard/{$}", s.page(s.funnelPage))
	mux.Handle("GET /dashboard/trends", s.page(s.trendsPage))
	mux.Handle("GET /dashboard/by/{dim}", s.page(s.breakdownPage)) // refuses viewers the staff breakdown
	mux.Handle("GET /dashboard/testimonials", s.page(s.testimonialsPage))
	mux.Handle("GET /dashboard/experiments", s.page(s.experimentsPage))
	mux.Handle("GET /dashboard/cases", s.page(s.casesPage))
	mux.Handle("GET /dashboard/cases/{id}", s.page(s.casePage))
	if s.wall {
		s.wallRoutes(mux)
	}
	if s.links != nil {
		mux.Handle("GET /dashboard/people", s.page(s.peoplePage))
		mux.Handle("POST /dashboard/people/link", s.page(s.linkPost))
		mux.Handle("POST /dashboard/people/unlink", s.page(s.unlinkPost))
	}
	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders forbids scripts, framing and sniffing on every response:
// the dashboard works without JavaScript, so any script would be an injection.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// handlerFunc is a dashboard page: it gets the signed-in account.
type handlerFunc func(w http.ResponseWriter, r *http.Request, a account)

// page wraps a dashboard handler with authentication. Pages check roles
// themselves (a viewer gets 403 on the staff breakdown).
func (s *Server) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, a)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 when the store takes a committed write and no write
// failed on storage lately (Store.Probe), and the Ready callback agrees; else
// 503 with the reason, which names no file and holds no secret.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	err := s.store.Probe(ctx)
	if err == nil && s.ready != nil {
		err = s.ready(ctx)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		s.log.Error("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		reason, _, _ := strings.Cut(err.Error(), "\n")
		_, _ = fmt.Fprintf(w, "not ready: %s\n", reason)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}
