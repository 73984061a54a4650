package sim

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is what WriteConfig puts in the bot's configuration file. Zero
// durations keep advocate's defaults.
type Config struct {
	// StorePath is the SQLite file.
	StorePath string
	// StoreURL, when set, is a PostgreSQL database (store.driver postgres)
	// used instead of the SQLite file: several bots may share it.
	StoreURL string
	// Listen is http.listen; "127.0.0.1:0" (any free port) when empty.
	Listen string
	// Slack turns the Slack adapter on against a (fake) workspace.
	Slack *SlackConfig
	// Discord turns the Discord adapter on against a (fake) community.
	Discord *DiscordConfig
	// SLA is sla.first_response.
	SLA time.Duration
	// RemindAfter and ExpireAfter are survey.remind_after and survey.expire_after.
	RemindAfter, ExpireAfter time.Duration
	// LogLevel is log.level ("info" when empty). The log is JSON.
	LogLevel string
}

// SlackConfig is the slack section and the Slack staff.
type SlackConfig struct {
	BotToken, AppToken, APIURL string
	Support, Staff, Showcase   string
	StaffUsers                 []string
	// PostInterval is slack.post_interval, the bot's own pace per channel;
	// zero keeps advocate's default (one post per second).
	PostInterval time.Duration
	// Mode is slack.mode: "socket" when empty, or "http" (Events API and
	// interactivity on advocate's server, signed with SigningSecret).
	Mode, SigningSecret string
}

// DiscordConfig is the discord section; the staff role is the staff.
type DiscordConfig struct {
	Token, ApplicationID, APIURL               string
	Guild, Support, StaffRole, Staff, Showcase string
	// Interactions is discord.interactions: "gateway" when empty, or "http"
	// (signed POSTs to advocate's server, checked with PublicKey).
	Interactions, PublicKey string
}

// Share target labels the configuration gives the buttons of the share prompt.
const (
	LabelShowcase = "Share in #showcase"
	LabelX        = "Post on X"
	LabelReview   = "Review us on Trustpilot"
)

// YAML renders the configuration file: the sandbox off, the web server on
// the loopback interface, three share targets (a community post, X and a
// review link offered to everyone).
func (c Config) YAML() string {
	var b strings.Builder
	q := strconv.Quote
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	listen := c.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	level := c.LogLevel
	if level == "" {
		level = "info"
	}
	w("brand: %s", q("Acme"))
	w("secret: %s", q("sim-secret-0123456789abcdef0123456789abcdef"))
	w("staff:")
	w("  slack:")
	var staff []string
	if c.Slack != nil {
		for _, u := range c.Slack.StaffUsers {
			staff = append(staff, q(u))
		}
	}
	w("    users: [%s]", strings.Join(staff, ", "))
	if c.Discord != nil {
		w("  discord:")
		w("    roles: [%s]", q(c.Discord.StaffRole))
	}
	if c.SLA > 0 {
		w("sla:")
		w("  first_response: %s", c.SLA)
	}
	w("survey:")
	if c.RemindAfter > 0 {
		w("  remind_after: %s", c.RemindAfter)
	}
	if c.ExpireAfter > 0 {
		w("  expire_after: %s", c.ExpireAfter)
	}
	w("  comment: false")
	w("share:")
	w("  targets:")
	w("    - {name: showcase, kind: community_post, label: %s, text: %s, policy: satisfied}",
		q(LabelShowcase), q("{{.Brand}} support sorted out my problem quickly. Thank you!"))
	w("    - {name: x, kind: x_post, label: %s, text: %s}", q(LabelX), q("Great help from the {{.Brand}} team today!"))
	w("    - {name: trustpilot, kind: review_link, label: %s, url: %s, policy: everyone}",
		q(LabelReview), q("https://www.trustpilot.com/evaluate/example.com"))
	w("store:")
	w("  path: %s", q(c.StorePath))
	if c.StoreURL != "" {
		w("  driver: postgres")
		w("  url: %s", q(c.StoreURL))
	}
	w("http:")
	w("  listen: %s", q(listen))
	w("sandbox:")
	w("  enabled: false")
	if s := c.Slack; s != nil {
		w("slack:")
		w("  enabled: true")
		w("  bot_token: %s", q(s.BotToken))
		w("  app_token: %s", q(s.AppToken))
		if s.Mode == "http" {
			w("  mode: http")
			w("  signing_secret: %s", q(s.SigningSecret))
		} else {
			w("  mode: socket")
		}
		w("  api_url: %s", q(s.APIURL))
		w("  support_channels: [%s]", q(s.Support))
		w("  staff_channel: %s", q(s.Staff))
		w("  showcase_channel: %s", q(s.Showcase))
		if s.PostInterval > 0 {
			w("  post_interval: %s", s.PostInterval)
		}
	}
	if d := c.Discord; d != nil {
		w("discord:")
		w("  enabled: true")
		w("  token: %s", q(d.Token))
		w("  application_id: %s", q(d.ApplicationID))
		w("  api_url: %s", q(d.APIURL))
		w("  guilds: [%s]", q(d.Guild))
		w("  support_channels: [%s]", q(d.Support))
		w("  staff_role: %s", q(d.StaffRole))
		w("  staff_channel: %s", q(d.Staff))
		w("  showcase_channel: %s", q(d.Showcase))
		if d.Interactions == "http" {
			w("  interactions: http")
			w("  public_key: %s", q(d.PublicKey))
		} else {
			w("  interactions: gateway")
		}
	}
	w("log:")
	w("  level: %s", q(level))
	w("  format: json")
	return b.String()
}

// WriteConfig writes c's YAML to path, readable by the owner only (it holds
// tokens).
func WriteConfig(path string, c Config) error {
	if err := os.WriteFile(path, []byte(c.YAML()), 0o600); err != nil {
		return fmt.Errorf("sim: write config: %w", err)
	}
	return nil
}
