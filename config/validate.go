package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Validate checks the whole file: the core's settings (bot.Config.Validate) and
// the store, server, dashboard, logging and each enabled platform. Each problem
// names its YAML key and what is wrong; all problems are reported together.
// A disabled platform's section is not checked.
func (f *File) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	core := f.Core() // what bot.New will check again
	if f.validateSecret(bad) {
		core.Secret = strings.Repeat("x", MinPlatformSecretLen) // reported once, here
	}
	if err := core.Validate(); err != nil {
		errs = append(errs, err)
	}

	if !f.Sandbox.Enabled && !f.Slack.Enabled && !f.Discord.Enabled {
		bad("sandbox.enabled, slack.enabled, discord.enabled", "all are false: enable at least one platform")
	}
	f.validateStore(bad)
	if err := checkListen(f.HTTP.Listen); err != nil {
		bad("http.listen", "%v", err)
	}
	if err := checkURL(f.HTTP.PublicURL); err != nil {
		bad("http.public_url", "%v", err)
	}
	if f.DashboardOpenOnNonLoopback() {
		bad("http.listen", "%s is not a loopback address and no dashboard.users or dashboard.token is set: anyone who can reach it could read every report. Add a dashboard user or a token, or listen on 127.0.0.1", f.HTTP.Listen)
	}
	f.validateDashboard(bad)
	if _, ok := parseLevel(f.Log.Level); !ok {
		bad("log.level", "%q is not one of debug, info, warn, error", f.Log.Level)
	}
	switch f.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not one of text, json", f.Log.Format)
	}
	if f.Sandbox.Enabled {
		f.validateSandbox(bad)
	}
	if f.Slack.Enabled {
		f.validateSlack(bad)
	}
	if f.Discord.Enabled {
		f.validateDiscord(bad)
	}
	return errors.Join(errs...)
}

// Notes lists what is valid but likely not meant, for check-config and the
// start-up log to say.
func (f *File) Notes() []string {
	var notes []string
	if len(f.Share.Targets) == 0 {
		notes = append(notes, "sharing is off: share.targets is empty, so a satisfied customer is offered no way to share; leave the key out for a post in the showcase channel")
	}
	return notes
}

// complaint records one problem with a key.
type complaint func(key, format string, args ...any)

// minTokenLen is the shortest dashboard token accepted.
const minTokenLen = 16

// validateSecret checks the secret for the platforms enabled and reports
// whether it found a problem. The secret signs buttons and tracking links and
// keys the dashboard's sessions, so on Slack or Discord, where anyone may
// click, the published example value or a short one would let a stranger forge
// them; the sandbox, on this machine only, may keep the example. A sandbox-only
// secret is left to the core's own check.
func (f *File) validateSecret(bad complaint) bool {
	var real []string
	if f.Slack.Enabled {
		real = append(real, "slack")
	}
	if f.Discord.Enabled {
		real = append(real, "discord")
	}
	if len(real) == 0 {
		return false
	}
	const howTo = "write secret: ${ADVOCATE_SECRET} and set ADVOCATE_SECRET to a random value of 32 bytes or more, e.g. export ADVOCATE_SECRET=$(openssl rand -hex 32)"
	on := strings.Join(real, " and ") + " enabled"
	switch s := f.Secret; {
	case s == ExampleSecret:
		bad("secret", "the published example value, with %s: anyone who has read config.example.yaml could forge buttons and dashboard sessions; %s", on, howTo)
	case s == "":
		bad("secret", "required with %s: %s", on, howTo)
	case len(s) < MinPlatformSecretLen:
		bad("secret", "too short (%d bytes) with %s: use at least %d; %s", len(s), on, MinPlatformSecretLen, howTo)
	default:
		return false
	}
	return true
}

func (f *File) validateDashboard(bad complaint) {
	names := map[string]bool{}
	for i, u := range f.Dashboard.Users {
		key := fmt.Sprintf("dashboard.users[%d]", i)
		switch {
		case u.Name == "":
			bad(key+".name", "required: the login name")
		case names[u.Name]:
			bad(key+".name", "%q is used twice", u.Name)
		}
		names[u.Name] = true
		switch u.Role {
		case RoleAdmin, RoleViewer:
		default:
			bad(key+".role", "%q is not one of admin, viewer", u.Role)
		}
		if !isBcrypt(u.PasswordHash) {
			bad(key+".password_hash", "not a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters), e.g. from htpasswd -nbBC 10 name password")
		}
	}
	if t := f.Dashboard.Token; t != "" && len(t) < minTokenLen {
		bad("dashboard.token", "too short (%d characters): use at least %d", len(t), minTokenLen)
	}
	if t := f.Metrics.Token; t != "" && len(t) < minTokenLen {
		bad("metrics.token", "too short (%d characters): use at least %d", len(t), minTokenLen)
	}
}

func (f *File) validateSandbox(bad complaint) {
	if len(f.Sandbox.Customers) == 0 {
		bad("sandbox.customers", "required when sandbox.enabled is true: at least one customer persona")
	}
	if len(f.Sandbox.Staff) == 0 {
		bad("sandbox.staff", "required when sandbox.enabled is true: at least one staff persona")
	}
	seen := map[string]bool{}
	for _, list := range []struct {
		key   string
		names []string
	}{{"sandbox.customers", f.Sandbox.Customers}, {"sandbox.staff", f.Sandbox.Staff}} {
		for i, name := range list.names {
			key := fmt.Sprintf("%s[%d]", list.key, i)
			switch {
			case strings.TrimSpace(name) == "":
				bad(key, "empty persona name")
			case seen[name]:
				bad(key, "%q is used twice: each persona needs its own name", name)
			}
			seen[name] = true
		}
	}
}

func (f *File) validateSlack(bad complaint) {
	s := f.Slack
	if s.BotToken == "" {
		bad("slack.bot_token", "required when slack.enabled is true: the bot token (xoxb-…), e.g. ${SLACK_BOT_TOKEN}")
	}
	switch s.Mode {
	case SlackSocket:
		if s.AppToken == "" {
			bad("slack.app_token", "required in socket mode: an app-level token (xapp-…) with connections:write, e.g. ${SLACK_APP_TOKEN}")
		}
	case SlackHTTP:
		if s.SigningSecret == "" {
			bad("slack.signing_secret", "required in http mode: the app's signing secret, e.g. ${SLACK_SIGNING_SECRET}")
		}
	default:
		bad("slack.mode", "%q is not one of socket, http", s.Mode)
	}
	if err := checkAPIURL(s.APIURL); err != nil {
		bad("slack.api_url", "%v", err)
	}
	if s.StaffChannel == "" {
		bad("slack.staff_channel", "required when slack.enabled is true: the channel ID where staff get cases")
	}
	if s.ShowcaseChannel == "" {
		bad("slack.showcase_channel", "required when slack.enabled is true: the channel ID where testimonials are posted")
	}
	if d := s.PostInterval.D(); d <= 0 || d > MaxSlackPostInterval {
		bad("slack.post_interval", "%s is out of range: want more than 0 and at most %s (Slack allows about one message per second per channel; the default is %s)",
			d, MaxSlackPostInterval, DefaultSlackPostInterval)
	}
	if r := s.HistoryRate; r < 1 || r > MaxSlackHistoryRate {
		bad("slack.history_rate", "%d is out of range: want 1 to %d calls a minute (%d, Slack's Tier 3, for an internal or Marketplace app; 1 for an app distributed outside the Marketplace)",
			r, MaxSlackHistoryRate, DefaultSlackHistoryRate)
	}
}

func (f *File) validateDiscord(bad complaint) {
	d := f.Discord
	if d.Token == "" {
		bad("discord.token", "required when discord.enabled is true: the bot token, e.g. ${DISCORD_TOKEN}")
	}
	if d.ApplicationID == "" {
		bad("discord.application_id", "required when discord.enabled is true: the application ID from the developer portal")
	}
	switch d.Interactions {
	case DiscordGateway:
	case DiscordInteractions:
		if !isHex(d.PublicKey, 64) {
			bad("discord.public_key", "required in http interactions mode: the application's public key, 64 hex characters")
		}
	default:
		bad("discord.interactions", "%q is not one of gateway, http", d.Interactions)
	}
	if err := checkAPIURL(d.APIURL); err != nil {
		bad("discord.api_url", "%v", err)
	}
	if d.StaffChannel == "" {
		bad("discord.staff_channel", "required when discord.enabled is true: the ID of a channel only staff can see, "+
			"where each case gets a staff thread for the intro, notes and controls (without it they would land in the customer's thread)")
	}
	if d.ShowcaseChannel == "" {
		bad("discord.showcase_channel", "required when discord.enabled is true: the channel ID where testimonials are posted")
	}
	switch {
	case d.ShardCount < 0:
		bad("discord.shard_count", "%d: want 0 or 1 (no sharding) or the number of shards", d.ShardCount)
	case d.ShardCount <= 1 && d.ShardID != 0:
		bad("discord.shard_id", "%d without discord.shard_count above 1", d.ShardID)
	case d.ShardCount > 1 && (d.ShardID < 0 || d.ShardID >= d.ShardCount):
		bad("discord.shard_id", "%d: want 0 to %d (discord.shard_count %d)", d.ShardID, d.ShardCount-1, d.ShardCount)
	}
}

// DashboardOpenOnNonLoopback reports whether the web server would listen beyond
// this machine (a wildcard, a non-loopback address or a host name) with no
// dashboard user and no token: anyone who can reach it could read the reports.
// Validate refuses such a file.
func (f *File) DashboardOpenOnNonLoopback() bool {
	return !isLoopback(f.HTTP.Listen) && len(f.Dashboard.Users) == 0 && f.Dashboard.Token == ""
}

// MetricsOpen reports whether /metrics is served without a token: only when
// no metrics.token is set and http.listen is a loopback address, so that a
// server listening on the network never shows its metrics to anyone who asks.
func (f *File) MetricsOpen() bool {
	return f.Metrics.Token == "" && isLoopback(f.HTTP.Listen)
}

// isLoopback reports whether listen binds only the loopback interface. A host
// name other than localhost might resolve anywhere, so it does not count.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkListen checks a host:port listen address; the host may be empty (every
// interface) and the port 0 (any free port, for tests).
func checkListen(listen string) error {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:8080 or :8080): %w", listen, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", listen, port)
	}
	return nil
}

// checkURL checks an absolute http(s) URL with a host and no query or fragment.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q: no user, query or fragment allowed", s)
	}
	return nil
}

// checkAPIURL checks a platform API base URL: SDKs append paths to it, so it
// must end with a slash.
func checkAPIURL(s string) error {
	if err := checkURL(s); err != nil {
		return err
	}
	if !strings.HasSuffix(s, "/") {
		return fmt.Errorf("%q must end with /", s)
	}
	return nil
}

// isBcrypt reports whether s has the shape of a bcrypt hash: $2a$, $2b$ or
// $2y$, a two-digit cost from 04 to 31, $, then 22 characters of salt and 31 of
// hash in bcrypt's base64 alphabet.
func isBcrypt(s string) bool {
	if len(s) != 60 || !strings.HasPrefix(s, "$2") || s[6] != '$' {
		return false
	}
	if v := s[2]; v != 'a' && v != 'b' && v != 'y' || s[3] != '$' {
		return false
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return false
	}
	if cost := int(s[4]-'0')*10 + int(s[5]-'0'); cost < 4 || cost > 31 {
		return false
	}
	for _, c := range s[7:] {
		if !(c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// isHex reports whether s is exactly n hexadecimal digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// validateStore checks the store's driver and, for it, the SQLite file or the
// PostgreSQL URL, which is parsed as the driver will parse it (a password in
// it is not repeated in the message).
func (f *File) validateStore(bad func(key, format string, args ...any)) {
	switch f.Store.Driver {
	case "sqlite", "":
		if f.Store.Path == "" {
			bad("store.path", "required: the SQLite database file")
		}
	case "postgres":
		if f.Store.URL == "" {
			bad("store.url", "required with store.driver postgres: a connection URL such as postgres://advocate:PASSWORD@db.example.com:5432/advocate, usually ${DATABASE_URL}")
			return
		}
		if _, err := pgconn.ParseConfig(f.Store.URL); err != nil {
			bad("store.url", "not a PostgreSQL connection URL (postgres://user:password@host:5432/database?sslmode=require): %v", err)
		}
	default:
		bad("store.driver", "%q is not one of sqlite, postgres", f.Store.Driver)
	}
}
