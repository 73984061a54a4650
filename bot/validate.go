package bot

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/template"
)

// Validate checks the core's settings and names the YAML key of each problem.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Secret == "" {
		bad("secret", "required: set it to a long random string, e.g. secret: ${ADVOCATE_SECRET}")
	} else if len(c.Secret) < 16 {
		bad("secret", "too short (%d characters): use at least 16", len(c.Secret))
	}
	switch c.Survey.Scale {
	case CSAT, CES, NPS:
	default:
		bad("survey.scale", "%q is not one of csat, ces, nps", c.Survey.Scale)
	}
	sat, unhappy, lo, hi := c.Survey.Thresholds()
	if sat < lo || sat > hi {
		bad("survey.satisfied_at", "%d is outside the scale %d–%d", sat, lo, hi)
	}
	if unhappy < lo || unhappy >= sat {
		bad("survey.unhappy_at", "%d must be at least %d and below satisfied_at (%d)", unhappy, lo, sat)
	}
	if c.Survey.RemindAfter.D() >= c.Survey.ExpireAfter.D() && c.Survey.ExpireAfter != 0 {
		bad("survey.remind_after", "must be shorter than survey.expire_after")
	}
	switch c.Unhappy.Action {
	case "reopen", "escalate":
	default:
		bad("unhappy.action", "%q is not one of reopen, escalate", c.Unhappy.Action)
	}
	names := map[string]bool{}
	for i, t := range c.Share.Targets {
		key := fmt.Sprintf("share.targets[%d]", i)
		if t.Name == "" {
			bad(key+".name", "required")
		} else if names[t.Name] {
			bad(key+".name", "%q is used twice", t.Name)
		}
		names[t.Name] = true
		if t.Label == "" {
			bad(key+".label", "required: the button text")
		}
		switch t.Kind {
		case TargetCommunityPost, TargetXPost:
		case TargetReviewLink:
			if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad(key+".url", "a review_link needs the review page's http(s) URL")
			}
		default:
			bad(key+".kind", "%q is not one of community_post, x_post, review_link", t.Kind)
		}
		switch t.Policy {
		case "", PolicyEveryone:
		case PolicySatisfied:
			if t.Kind == TargetReviewLink && !c.Share.AllowReviewGating {
				bad(key+".policy", "satisfied on a review_link is review gating, which Google's and Trustpilot's policies and the FTC forbid: use everyone (the default), or set share.allow_review_gating: true if you are sure")
			}
		default:
			bad(key+".policy", "%q is not one of satisfied, everyone", t.Policy)
		}
		if tpl, err := template.New("").Option("missingkey=error").Parse(t.Text); err != nil {
			bad(key+".text", "%v", err)
		} else if err := tpl.Execute(io.Discard, TextData{}); err != nil {
			bad(key+".text", "%v", err)
		}
	}
	c.validateExperiments(bad)
	for key, src := range map[string]string{"texts.unhappy_staff": c.Texts.UnhappyStaff, "texts.staff_recovered": c.Texts.StaffRecovered} {
		if strings.Contains(src, ".Score") || strings.Contains(src, ".Max") {
			bad(key, "staff never see a case's score in chat: remove {{.Score}} and {{.Max}} (the scores are on the dashboard)")
		}
	}
	if _, err := parseTexts(c.Texts); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
