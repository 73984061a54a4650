package bot

import (
	"strings"
	"testing"
)

func TestValidateNamesTheKey(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no secret", func(c *Config) { c.Secret = "" }, "secret: required"},
		{"bad scale", func(c *Config) { c.Survey.Scale = "stars" }, "survey.scale"},
		{"review gating", func(c *Config) {
			c.Share.Targets = []ShareTarget{{Name: "tp", Kind: TargetReviewLink, Label: "Review", URL: "https://example.com/r", Policy: PolicySatisfied}}
		}, "share.targets[0].policy: satisfied on a review_link is review gating"},
		{"unknown field in target text", func(c *Config) {
			c.Share.Targets = []ShareTarget{{Name: "x", Kind: TargetXPost, Label: "X", Text: "{{.Nobody}}"}}
		}, "share.targets[0].text"},
		{"bad text template", func(c *Config) { c.Texts.Shared = "{{.Oops" }, "texts.shared"},
		{"unhappy above satisfied", func(c *Config) { c.Survey.UnhappyAt = 4 }, "survey.unhappy_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Secret = "0123456789abcdef"
			tt.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	c := DefaultConfig()
	c.Secret = "0123456789abcdef"
	c.Share.AllowReviewGating = true
	c.Share.Targets = []ShareTarget{{Name: "tp", Kind: TargetReviewLink, Label: "Review", URL: "https://example.com/r", Policy: PolicySatisfied}}
	if err := c.Validate(); err != nil {
		t.Errorf("allow_review_gating: got %v, want no error", err)
	}
}
