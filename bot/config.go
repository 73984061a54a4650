package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the core's part of advocate's YAML configuration: the flow's settings
// and every text a customer or staff member reads. The zero value is not usable;
// start from DefaultConfig.
type Config struct {
	// Brand is the community's name as customers know it.
	Brand string `yaml:"brand"`
	// Secret signs button IDs and tracking links (set it from the environment).
	Secret string `yaml:"secret"`
	// PublicURL is where advocate's HTTP server is reachable, for tracking links.
	PublicURL string `yaml:"-"`
	KeepText  bool   `yaml:"-"` // copied from store.keep_message_text
	// Staff is filled in by the configuration loader (the YAML shape is the
	// loader's: one section per platform).
	Staff   StaffConfig   `yaml:"-"`
	SLA     SLAConfig     `yaml:"sla"`
	Survey  SurveyConfig  `yaml:"survey"`
	Unhappy UnhappyConfig `yaml:"unhappy"`
	Share   ShareConfig   `yaml:"share"`
	Wall    WallConfig    `yaml:"wall"`
	Texts   Texts         `yaml:"texts"`
}

// StaffConfig says who is staff on each platform and how staff mark a note.
type StaffConfig struct {
	// ByPlatform lists each platform's staff, keyed by the platform's name as
	// its adapter's Platform() returns it, so the core needs no list of
	// platforms.
	ByPlatform map[string]StaffIDs
	// NotePrefix marks a staff message as an internal note, never shown to the customer.
	NotePrefix string
}

// Set makes ids the staff of platform.
func (s *StaffConfig) Set(platform string, ids StaffIDs) {
	if s.ByPlatform == nil {
		s.ByPlatform = map[string]StaffIDs{}
	}
	s.ByPlatform[platform] = ids
}

// Of returns the staff of platform (none for a platform not configured).
func (s StaffConfig) Of(platform string) StaffIDs { return s.ByPlatform[platform] }

// StaffIDs lists staff user IDs and the roles or user groups whose members are staff.
type StaffIDs struct {
	Users []string `yaml:"users"`
	Roles []string `yaml:"roles"`
}

// SLAConfig holds the first-response target.
type SLAConfig struct {
	FirstResponse Duration `yaml:"first_response"`
}

// SurveyConfig holds the satisfaction survey's settings.
type SurveyConfig struct {
	Scale       Scale    `yaml:"scale"` // csat, ces or nps
	RemindAfter Duration `yaml:"remind_after"`
	ExpireAfter Duration `yaml:"expire_after"`
	// SatisfiedAt is the lowest satisfied score; UnhappyAt the highest unhappy one.
	// Zero means the scale's default (CSAT 4/2, CES 5/3, NPS 9/6).
	SatisfiedAt int  `yaml:"satisfied_at"`
	UnhappyAt   int  `yaml:"unhappy_at"`
	Comment     bool `yaml:"comment"` // offer an optional comment after rating
	// Sample surveys only some resolved cases (see Sample); the zero value
	// surveys every one.
	Sample Sample `yaml:"sample"`
	// Cooldown surveys a person (across linked identities) at most once in
	// this period; 0 has no limit. A reopened case's next survey is exempt:
	// it is how an unhappy customer is heard again.
	Cooldown Duration `yaml:"cooldown"`
}

// UnhappyConfig says what an unhappy rating does.
type UnhappyConfig struct {
	Action string `yaml:"action"` // "reopen" (default) or "escalate" (notify only)
}

// ShareConfig holds the share prompt's settings.
type ShareConfig struct {
	Cooldown          Duration      `yaml:"cooldown"`
	PromptExpireAfter Duration      `yaml:"prompt_expire_after"`
	AllowReviewGating bool          `yaml:"allow_review_gating"`
	Targets           []ShareTarget `yaml:"targets"`
	// Experiments test variants of the share prompt (experiment.go); at
	// most one runs at a time.
	Experiments []Experiment `yaml:"experiments"`
}

// WallConfig turns on the public testimonial wall (/wall, /wall.json). Off
// by default; when on, the testimonial preview asks the customer whether to
// show their post on the wall too, and under which name.
type WallConfig struct {
	Enabled bool `yaml:"enabled"`
}

// ShareTarget is one way to share: a community post, an X post, a review link.
type ShareTarget struct {
	Name   string `yaml:"name"`
	Kind   string `yaml:"kind"`
	Label  string `yaml:"label"`
	Text   string `yaml:"text"`   // template of the text offered
	URL    string `yaml:"url"`    // review_link: the review page
	Policy string `yaml:"policy"` // satisfied or everyone; default by kind
}

// EffectivePolicy is the target's gating policy, defaulting by kind: review sites
// are offered to everyone (no review gating), the rest to satisfied customers.
func (t ShareTarget) EffectivePolicy() string {
	if t.Policy != "" {
		return t.Policy
	}
	if t.Kind == TargetReviewLink {
		return PolicyEveryone
	}
	return PolicySatisfied
}

// Thresholds returns the lowest satisfied and highest unhappy score and the score
// range of the configured scale.
func (s SurveyConfig) Thresholds() (satisfied, unhappy, min, max int) {
	switch s.Scale {
	case CES:
		satisfied, unhappy, min, max = 5, 3, 1, 7
	case NPS:
		satisfied, unhappy, min, max = 9, 6, 0, 10
	default:
		satisfied, unhappy, min, max = 4, 2, 1, 5
	}
	if s.SatisfiedAt != 0 {
		satisfied = s.SatisfiedAt
	}
	if s.UnhappyAt != 0 {
		unhappy = s.UnhappyAt
	}
	return satisfied, unhappy, min, max
}

// DefaultConfig is a working configuration without share targets: CSAT, a 1 h
// SLA, one survey reminder after a day, expiry after a week, a 30-day cooldown.
func DefaultConfig() Config {
	return Config{
		Brand: "Our community",
		Staff: StaffConfig{NotePrefix: "!note"},
		SLA:   SLAConfig{FirstResponse: Duration(time.Hour)},
		Survey: SurveyConfig{
			Scale:       CSAT,
			RemindAfter: Duration(24 * time.Hour),
			ExpireAfter: Duration(7 * 24 * time.Hour),
			Comment:     true,
		},
		Unhappy: UnhappyConfig{Action: "reopen"},
		Share: ShareConfig{
			Cooldown:          Duration(30 * 24 * time.Hour),
			PromptExpireAfter: Duration(7 * 24 * time.Hour),
		},
		Texts: DefaultTexts(),
	}
}

// Duration is a time.Duration read from YAML as "90m", "24h" or "30d".
type Duration time.Duration

// UnmarshalText accepts Go durations and a whole number of days ("30d").
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return fmt.Errorf("invalid duration %q: want e.g. 30d, 24h or 90m", s)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("invalid duration %q: want e.g. 30d, 24h or 90m", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration in Go's notation.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
