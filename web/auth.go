package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/config"
)

// Cookie names. The session cookie holds a signed, expiring claim; the CSRF
// cookie a random nonce whose MAC the forms carry.
const (
	sessionCookie = "advocate_session"
	csrfCookie    = "advocate_csrf"
	csrfField     = "csrf"
)

// Roles, as in config.
const (
	roleAdmin  = config.RoleAdmin
	roleViewer = config.RoleViewer
)

// account is a staff member signed in, or the bearer token.
type account struct {
	Name string
	Role string
	Open bool // no sign-in: Options.Open
}

// Admin reports whether the account may see everything, per-staff scores included.
func (a account) Admin() bool { return a.Role == roleAdmin }

type user struct {
	hash []byte
	role string
}

// minSessionKey is the shortest session key accepted, in bytes.
const minSessionKey = 32

// keys signs sessions and CSRF tokens with separate derived keys.
type keys struct {
	session, csrf []byte
}

func deriveKeys(secret []byte) keys {
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("advocate dashboard " + purpose))
		return m.Sum(nil)
	}
	return keys{session: derive("session"), csrf: derive("csrf")}
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// startSession records a new session of name in the session store and
// returns its cookie value: name, expiry, the random session ID and a MAC.
// The role is not in it: it is looked up on every request, so removing a user
// or changing a role takes effect at once.
func (s *Server) startSession(ctx context.Context, name string, now, expires time.Time) (string, error) {
	id := rand.Text()
	if err := s.sessions.StartSession(ctx, id, name, now, expires); err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	exp := strconv.FormatInt(expires.Unix(), 10)
	claim := base64.RawURLEncoding.EncodeToString([]byte(name)) + "." + exp + "." + id
	return claim + "." + base64.RawURLEncoding.EncodeToString(mac(s.keys.session, claim)), nil
}

// session checks the session cookie: signature, expiry, that the session
// store still has it (it was not logged out) for that user, and that the
// user still exists. err is for a store that could not answer.
func (s *Server) session(r *http.Request) (a account, ok bool, err error) {
	name, id, _, ok := s.sessionClaim(r)
	if !ok || s.sessions == nil {
		return account{}, false, nil
	}
	u, known := s.users[name]
	if !known {
		return account{}, false, nil
	}
	user, expires, err := s.sessions.Session(r.Context(), id)
	if errors.Is(err, bot.ErrNotFound) || (err == nil && (user != name || !s.now().Before(expires))) {
		return account{}, false, nil
	}
	if err != nil {
		return account{}, false, fmt.Errorf("session: %w", err)
	}
	return account{Name: name, Role: u.role}, true, nil
}

// sessionClaim reads a validly signed, unexpired session cookie.
func (s *Server) sessionClaim(r *http.Request) (name, id string, expires time.Time, ok bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", "", time.Time{}, false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 {
		return "", "", time.Time{}, false
	}
	claim := strings.Join(parts[:3], ".")
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, mac(s.keys.session, claim)) {
		return "", "", time.Time{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return "", "", time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", "", time.Time{}, false
	}
	return string(raw), parts[2], time.Unix(exp, 0), true
}

// bearer checks an Authorization: Bearer header against the configured token.
// present is false when there is no such header; valid says whether it matched.
func (s *Server) bearer(r *http.Request) (present, valid bool) {
	tok, present := bearerToken(r)
	return present, present && tokenMatches(tok, s.token)
}

// bearerToken reads an Authorization: Bearer header; ok is false without one.
func bearerToken(r *http.Request) (token string, ok bool) {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// tokenMatches compares a presented token with the configured one in
// constant time; nothing matches an unconfigured (empty) token.
func tokenMatches(got, want string) bool {
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// authenticate finds who is asking: the bearer token (admin-level, read only)
// or a session. Without either, a page request is sent to the login form;
// a wrong token is 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (account, bool) {
	if s.open {
		return account{Name: "local", Role: roleAdmin, Open: true}, true
	}
	if present, valid := s.bearer(r); present {
		if !valid {
			s.log.Warn("dashboard: bad bearer token", "remote", remoteIP(r), "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="advocate"`)
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return account{}, false
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "the token is read-only", http.StatusForbidden)
			return account{}, false
		}
		return account{Name: "token", Role: roleAdmin}, true
	}
	a, ok, err := s.session(r)
	if err != nil {
		s.fail(w, r, err)
		return account{}, false
	}
	if ok {
		return a, true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return account{}, false
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return account{}, false
}

// csrfToken returns the form token for r, setting a new CSRF cookie when r
// has none. The token is the cookie's MAC: a page on another site can neither
// read the cookie nor compute the MAC.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	nonce := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 22 {
		nonce = c.Value
	} else {
		nonce = rand.Text()
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: nonce, Path: "/", HttpOnly: true,
			Secure: s.secure, SameSite: http.SameSiteStrictMode})
	}
	return base64.RawURLEncoding.EncodeToString(mac(s.keys.csrf, nonce))
}

// checkCSRF verifies a POST's form token against its CSRF cookie.
func (s *Server) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	got, err := base64.RawURLEncoding.Strict().DecodeString(r.PostFormValue(csrfField))
	return err == nil && hmac.Equal(got, mac(s.keys.csrf, c.Value))
}

// constError is an error that can be a constant.
type constError string

func (e constError) Error() string { return string(e) }

// errBadLogin is the only thing a failed login says, whatever was wrong.
const errBadLogin = constError("wrong name or password")

// checkPassword verifies name and password against the configured bcrypt
// hashes, in about the same time whether or not the name exists.
func (s *Server) checkPassword(name, password string) (account, error) {
	u, ok := s.users[name]
	hash := u.hash
	if !ok {
		hash = s.dummyHash // as slow as a real comparison: names cannot be probed by timing
	}
	if err := s.compare(hash, []byte(password)); err != nil || !ok {
		return account{}, errBadLogin
	}
	return account{Name: name, Role: u.role}, nil
}

// loginPage serves the login form (an open dashboard has none).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.open {
		http.Redirect(w, r, "/dashboard/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, "", http.StatusOK)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, msg string, status int) {
	data := map[string]any{
		"CSRF":  s.csrfToken(w, r),
		"Next":  safeNext(r.FormValue("next")),
		"Error": msg,
		"Name":  r.PostFormValue("name"),
	}
	s.render(w, r, status, "login", page{Title: "Sign in"}, data)
}

// login checks the form and starts a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if !s.checkCSRF(r) {
		s.log.Warn("dashboard: login refused: CSRF token missing or wrong", "remote", remoteIP(r))
		http.Error(w, "This form has expired: reload the page and try again.", http.StatusForbidden)
		return
	}
	name := r.PostFormValue("name")
	try, wait := s.failures.begin(remoteIP(r), name, s.now())
	if try == nil {
		s.log.Warn("dashboard: login refused: too many failed attempts", "remote", remoteIP(r), "retry_after", retryAfter(wait))
		s.tooMany(w, r, wait, "Too many failed attempts. Wait a minute and try again.")
		return
	}
	if !s.hashes.enter(r.Context()) {
		try.Forgive(s.now()) // not this address's fault: its tokens back
		s.log.Warn("dashboard: login refused: too many sign-ins at once", "remote", remoteIP(r))
		s.tooMany(w, r, time.Second, "Too many sign-ins at once. Try again in a moment.")
		return
	}
	a, err := s.checkPassword(name, r.PostFormValue("password"))
	s.hashes.leave()
	if err != nil {
		_, known := s.users[name]
		attrs := []any{"remote", remoteIP(r), "known_user", known}
		if known {
			attrs = append(attrs, "user", name) // an unknown name may be a mistyped password: not logged
		}
		s.log.Warn("dashboard: login failed", attrs...)
		s.renderLogin(w, r, "Wrong name or password.", http.StatusUnauthorized)
		return
	}
	try.Forgive(s.now())
	now := s.now()
	cookie, err := s.startSession(r.Context(), a.Name, now, now.Add(s.ttl))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("dashboard: signed in", "user", a.Name, "role", a.Role, "remote", remoteIP(r))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie,
		Path: "/", MaxAge: int(s.ttl.Seconds()), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// tooMany answers 429 with Retry-After and the login form saying msg.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
	s.renderLogin(w, r, msg, http.StatusTooManyRequests)
}

// logout ends the session (a POST with the CSRF token, so a link cannot).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		http.Error(w, "This form has expired: reload the page and try again.", http.StatusForbidden)
		return
	}
	if name, id, _, ok := s.sessionClaim(r); ok && s.sessions != nil {
		if err := s.sessions.EndSession(r.Context(), id); err != nil {
			s.fail(w, r, err) // the session goes on: say so rather than pretend
			return
		}
		s.log.Info("dashboard: signed out", "user", name, "remote", remoteIP(r))
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site's dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/dashboard/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/dashboard/"
	}
	return next
}

// remoteIP is the client's address without the port, for logs.
func remoteIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}
