// Package config reads advocate's YAML file: the core's settings, the store, the
// HTTP server, and each platform. Secrets come from the environment through
// ${VAR} expansion.
//
// Load and Parse start from Default, so a key left out keeps its default; they
// reject unknown keys and values of the wrong type, naming the key and its line.
// Validate then checks that the values make sense together. A section with
// enabled: false (say, slack) may reference environment variables that are not
// set: they expand to empty there, so one file serves every deployment.
package config

import (
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
)

// File is the whole configuration file.
type File struct {
	bot.Config `yaml:",inline"`
	// Staff is the staff section as written; Core translates it into the
	// core's configuration, so change it before calling Core.
	Staff     Staff     `yaml:"staff"`
	Store     Store     `yaml:"store"`
	HTTP      HTTP      `yaml:"http"`
	Dashboard Dashboard `yaml:"dashboard"`
	Metrics   Metrics   `yaml:"metrics"`
	Sandbox   Sandbox   `yaml:"sandbox"`
	Slack     Slack     `yaml:"slack"`
	Discord   Discord   `yaml:"discord"`
	Log       Log       `yaml:"log"`
}

// Staff says who is staff on each platform: user IDs, and the roles (Discord)
// or user groups (Slack) whose members are staff.
type Staff struct {
	Slack   bot.StaffIDs `yaml:"slack"`
	Discord bot.StaffIDs `yaml:"discord"`
	Sandbox bot.StaffIDs `yaml:"sandbox"`
	// NotePrefix marks a staff message as an internal note, never shown to the customer.
	NotePrefix string `yaml:"note_prefix"`
}

// Core is the core's configuration: the file's core settings with the staff
// section keyed by platform name.
func (f *File) Core() bot.Config {
	c := f.Config
	c.Staff = bot.StaffConfig{NotePrefix: f.Staff.NotePrefix}
	c.Staff.Set(bot.Slack, f.Staff.Slack)
	c.Staff.Set(bot.Discord, f.Staff.Discord)
	c.Staff.Set(bot.Sandbox, f.Staff.Sandbox)
	return c
}

// Store configures the database: one SQLite file (the default), or a
// PostgreSQL database that several instances share.
type Store struct {
	// Driver is sqlite or postgres.
	Driver string `yaml:"driver"`
	// Path is the SQLite database file.
	Path string `yaml:"path"`
	// URL is the PostgreSQL connection URL (postgres://user:password@host:5432/db),
	// usually ${DATABASE_URL}.
	URL string `yaml:"url"`
	// KeepMessageText stores message text (questions, transcripts, comments).
	// Off by default: only metadata is kept.
	KeepMessageText bool `yaml:"keep_message_text"`
	// Retention purges texts and closed cases' details after this long; 0 keeps them.
	Retention bot.Duration `yaml:"retention"`
}

// HTTP configures advocate's web server (sandbox, dashboard, tracking links,
// Slack HTTP mode, Discord HTTP interactions, metrics).
type HTTP struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
}

// Dashboard configures staff access to the web dashboard.
type Dashboard struct {
	Users []DashboardUser `yaml:"users"`
	// Token is a bearer token for scripts (read-only admin access to exports).
	Token string `yaml:"token"`
}

// Metrics configures the Prometheus endpoint /metrics.
type Metrics struct {
	// Token, when set, is required on /metrics as "Authorization: Bearer
	// <token>". Without it /metrics is served only when http.listen is a
	// loopback address (see File.MetricsOpen).
	Token string `yaml:"token"`
}

// DashboardUser is one staff login.
type DashboardUser struct {
	Name         string `yaml:"name"`
	PasswordHash string `yaml:"password_hash"` // bcrypt
	Role         string `yaml:"role"`          // admin or viewer
}

// Sandbox configures the local simulated community.
type Sandbox struct {
	Enabled   bool     `yaml:"enabled"`
	Customers []string `yaml:"customers"` // persona names
	Staff     []string `yaml:"staff"`
}

// Slack configures the Slack adapter.
type Slack struct {
	Enabled         bool     `yaml:"enabled"`
	BotToken        string   `yaml:"bot_token"`
	AppToken        string   `yaml:"app_token"`
	SigningSecret   string   `yaml:"signing_secret"`
	Mode            string   `yaml:"mode"` // socket (default) or http
	APIURL          string   `yaml:"api_url"`
	SupportChannels []string `yaml:"support_channels"`
	StaffChannel    string   `yaml:"staff_channel"`
	ShowcaseChannel string   `yaml:"showcase_channel"`
	// PostInterval spaces the bot's chat.postMessage calls in each channel.
	// Slack allows about one message per second per channel (short bursts
	// pass, then it answers 429), so the default is 1s; a shorter interval
	// suits Enterprise Grid arrangements or a test against a fake Slack.
	PostInterval bot.Duration `yaml:"post_interval"`
	// HistoryRate is how many conversations.history (and as many
	// conversations.replies) calls a minute the bot may make to look for a
	// post an interrupted attempt may have made. Slack's Tier 3, 50, suits an
	// app made for its own workspace (an internal app) or one in the Slack
	// Marketplace; an app distributed to other workspaces outside the
	// Marketplace is allowed 1 since 2025 (pages of 15 messages).
	HistoryRate int `yaml:"history_rate"`
}

// Discord configures the Discord adapter.
type Discord struct {
	Enabled         bool     `yaml:"enabled"`
	Token           string   `yaml:"token"`
	ApplicationID   string   `yaml:"application_id"`
	PublicKey       string   `yaml:"public_key"`
	APIURL          string   `yaml:"api_url"`
	Guilds          []string `yaml:"guilds"`
	SupportChannels []string `yaml:"support_channels"`
	StaffRole       string   `yaml:"staff_role"`
	// StaffChannel is a channel only staff can see: each case's staff thread
	// (intro, notes, controls, relayed customer messages) and alerts go there.
	StaffChannel    string `yaml:"staff_channel"`
	ShowcaseChannel string `yaml:"showcase_channel"`
	// Interactions is "gateway" (default) or "http" (signed HTTP interactions).
	Interactions string `yaml:"interactions"`
	// ShardID and ShardCount shard the gateway among several instances: each
	// runs with its own shard_id (0 … shard_count-1). shard_count 0 or 1: no
	// sharding.
	ShardID    int `yaml:"shard_id"`
	ShardCount int `yaml:"shard_count"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Slack modes and Discord interaction transports.
const (
	SlackSocket         = "socket"  // Socket Mode: no public URL needed
	SlackHTTP           = "http"    // Events API over HTTP, signed requests
	DiscordGateway      = "gateway" // interactions arrive over the gateway
	DiscordInteractions = "http"    // signed HTTP interactions endpoint
)

// slack.post_interval's default (Slack's own limit of about one message per
// second per channel) and its upper bound: a minute between two posts would
// leave a busy staff channel hours behind, so a longer interval is taken for a
// typo rather than a pace.
const (
	DefaultSlackPostInterval = time.Second
	MaxSlackPostInterval     = time.Minute
)

// slack.history_rate's default (Slack's Tier 3) and its upper bound (Tier 4).
const (
	DefaultSlackHistoryRate = 50
	MaxSlackHistoryRate     = 100
)

// ExampleSecret is the secret config.example.yaml publishes so that the
// sandbox runs as it is. Validate refuses it once Slack or Discord is enabled.
const ExampleSecret = "sandbox-only-secret-change-me"

// MinPlatformSecretLen is the shortest secret, in bytes, accepted with Slack or
// Discord enabled (openssl rand -hex 32 gives 64).
const MinPlatformSecretLen = 32

// DefaultShareTarget is what a file without share.targets offers a satisfied
// customer: a testimonial in the platform's showcase channel, which every
// platform has (Slack and Discord require one), so that a first setup with a
// showcase channel does not silently offer nothing. An explicit empty list
// turns sharing off.
var DefaultShareTarget = bot.ShareTarget{
	Name:  "showcase",
	Kind:  bot.TargetCommunityPost,
	Label: "Share in the community",
	Text:  "{{.Brand}} support sorted out my problem quickly. Thank you!",
}

// Dashboard roles.
const (
	RoleAdmin  = "admin"
	RoleViewer = "viewer"
)

// SlogLevel is the configured level for log/slog; an invalid level (which
// Validate reports) counts as info.
func (l Log) SlogLevel() slog.Level {
	lvl, _ := parseLevel(l.Level)
	return lvl
}

// parseLevel maps log.level to a slog level and says whether it is valid.
func parseLevel(s string) (slog.Level, bool) {
	switch s {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}

// Default is the configuration of a file with no keys: the core's defaults, one
// share target (DefaultShareTarget), a local SQLite file, the web server on the
// loopback interface and the sandbox community, with Slack and Discord off.
// Only secret is missing for it to validate.
func Default() File {
	f := defaults()
	f.derive()
	return f
}

// defaults is Default before derived values are filled in, so that a file that
// sets http.listen gets its public URL derived from that listen address.
func defaults() File {
	core := bot.DefaultConfig()
	core.Share.Targets = []bot.ShareTarget{DefaultShareTarget}
	return File{
		Config: core,
		Staff:  Staff{NotePrefix: core.Staff.NotePrefix},
		Store:  Store{Driver: "sqlite", Path: "advocate.db"},
		HTTP:   HTTP{Listen: "127.0.0.1:8080"},
		Sandbox: Sandbox{
			Enabled:   true,
			Customers: []string{"Ada", "Grace", "Linus"},
			Staff:     []string{"Sam (staff)"},
		},
		Slack: Slack{
			Mode:         SlackSocket,
			APIURL:       "https://slack.com/api/",
			PostInterval: bot.Duration(DefaultSlackPostInterval),
			HistoryRate:  DefaultSlackHistoryRate,
		},
		Discord: Discord{
			APIURL:       "https://discord.com/",
			Interactions: DiscordGateway,
		},
		Log: Log{Level: "info", Format: "text"},
	}
}

// derive fills the values computed from others: http.public_url from
// http.listen when it is empty (without a trailing slash, so links are
// PublicURL + "/path"), and the core's copies of the public URL and of
// store.keep_message_text.
func (f *File) derive() {
	if f.HTTP.PublicURL == "" {
		f.HTTP.PublicURL = LocalURL(f.HTTP.Listen)
	}
	f.HTTP.PublicURL = strings.TrimRight(f.HTTP.PublicURL, "/")
	f.Config.PublicURL = f.HTTP.PublicURL
	f.Config.KeepText = f.Store.KeepMessageText
}

// LocalURL is the URL a browser on this machine reaches a listen address at. A
// wildcard host (":8080", "0.0.0.0:8080", "[::]:8080") becomes localhost, since
// "http://:8080" is no URL.
func LocalURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
