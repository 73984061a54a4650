package bot

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"
)

// Experiments on the share prompt. An operator defines variants of the
// prompt (its wording, which targets and in what order, how long after the
// rating) with weights; each person is assigned one variant of the running
// experiment by a hash of the person and the experiment's name, so the same
// person always gets the same variant. Every offer records its experiment
// and variant, and the dashboard compares the variants' conversion.

// KindShareDelayed is the funnel event of a share prompt scheduled for
// later by its variant's delay (detail: experiment, variant, due_at).
const KindShareDelayed = "share_delayed"

// TimerPromptDelayed is the timer that sends a delayed share prompt.
const TimerPromptDelayed = "prompt_delayed"

// Experiment is one test of the share prompt.
type Experiment struct {
	// Name identifies the experiment in the offers and on the dashboard;
	// renaming it starts a new experiment (and new assignments).
	Name string `yaml:"name"`
	// Stopped ends new assignments: prompts go back to the plain share
	// settings. Offers already made keep their variant, and delayed prompts
	// already scheduled fire with theirs.
	Stopped  bool      `yaml:"stopped"`
	Variants []Variant `yaml:"variants"`
}

// Variant is one way of prompting within an experiment.
type Variant struct {
	Name string `yaml:"name"`
	// Weight is the variant's share of the people assigned: with weights 1
	// and 3, about a quarter of the people get the first.
	Weight int `yaml:"weight"`
	// Prompt is the wording asking a satisfied customer to share (a
	// template like texts.share_prompt, which it replaces); empty keeps
	// texts.share_prompt. Customers who were not satisfied always get
	// texts.review_prompt.
	Prompt string `yaml:"prompt"`
	// Targets names the share.targets offered, in button order; empty offers
	// every target in the order of share.targets. Each target's policy still
	// decides who is offered it.
	Targets []string `yaml:"targets"`
	// Delay is how long after the rating the prompt is sent: 0 at once,
	// 10m, 24h, 1d. A delayed prompt is a timer (a row), so it survives
	// restarts, and the opt-out and the cooldown are checked when it fires.
	Delay Duration `yaml:"delay"`
}

// Running is the experiment that assigns variants now, or nil: the first
// one not stopped (Validate allows at most one).
func (s ShareConfig) Running() *Experiment {
	for i := range s.Experiments {
		if !s.Experiments[i].Stopped {
			return &s.Experiments[i]
		}
	}
	return nil
}

// Experiment returns the experiment named name, or nil.
func (s ShareConfig) Experiment(name string) *Experiment {
	for i := range s.Experiments {
		if s.Experiments[i].Name == name {
			return &s.Experiments[i]
		}
	}
	return nil
}

// Variant returns the variant named name, or nil.
func (e *Experiment) Variant(name string) *Variant {
	if e == nil {
		return nil
	}
	for i := range e.Variants {
		if e.Variants[i].Name == name {
			return &e.Variants[i]
		}
	}
	return nil
}

// Assign returns the variant of person: the variant whose share of the
// weights holds the SHA-256 of the experiment's name and person, read as a
// number. The same inputs always give the same variant; changing the
// weights or the variants moves some people to another one.
func (e *Experiment) Assign(person string) *Variant {
	total := uint64(0)
	for _, v := range e.Variants {
		total += uint64(max(v.Weight, 0))
	}
	if total == 0 {
		return nil
	}
	sum := sha256.Sum256([]byte("advocate experiment\x00" + e.Name + "\x00" + person))
	n := binary.BigEndian.Uint64(sum[:8]) % total
	for i, v := range e.Variants {
		w := uint64(max(v.Weight, 0))
		if n < w {
			return &e.Variants[i]
		}
		n -= w
	}
	return nil
}

// targets are the share targets variant v offers, in its order; all of
// them, in config order, for no variant or one that names none.
func (s ShareConfig) targets(v *Variant) []ShareTarget {
	if v == nil || len(v.Targets) == 0 {
		return s.Targets
	}
	var out []ShareTarget
	for _, name := range v.Targets {
		for _, t := range s.Targets {
			if t.Name == name {
				out = append(out, t)
			}
		}
	}
	return out
}

// validateExperiments checks share.experiments: names, weights, targets that
// exist, prompts that parse, and at most one experiment running.
func (c Config) validateExperiments(bad func(key, format string, args ...any)) {
	names := map[string]bool{}
	var running []string
	for i, e := range c.Share.Experiments {
		key := fmt.Sprintf("share.experiments[%d]", i)
		switch {
		case strings.TrimSpace(e.Name) == "":
			bad(key+".name", "required: the experiment's name, as the dashboard shows it")
		case names[e.Name]:
			bad(key+".name", "%q is used twice", e.Name)
		}
		names[e.Name] = true
		if !e.Stopped {
			running = append(running, e.Name)
		}
		if len(e.Variants) < 2 {
			bad(key+".variants", "an experiment needs at least two variants to compare, it has %d", len(e.Variants))
		}
		vnames := map[string]bool{}
		for j, v := range e.Variants {
			c.validateVariant(fmt.Sprintf("%s.variants[%d]", key, j), v, vnames, bad)
		}
	}
	if len(running) > 1 {
		bad("share.experiments", "%s are all running, but a prompt can be in one experiment at a time: set stopped: true on all but one",
			strings.Join(running, ", "))
	}
}

// maxDelay bounds a variant's delay: a prompt weeks after the rating would
// read as spam, and a typo (240h for 24h) is more likely than the intent.
const maxDelay = 14 * 24 * time.Hour

func (c Config) validateVariant(key string, v Variant, names map[string]bool, bad func(key, format string, args ...any)) {
	switch {
	case strings.TrimSpace(v.Name) == "":
		bad(key+".name", "required: the variant's name, as the dashboard shows it")
	case names[v.Name]:
		bad(key+".name", "%q is used twice in this experiment", v.Name)
	}
	names[v.Name] = true
	if v.Weight < 1 {
		bad(key+".weight", "%d: want a whole number of 1 or more (the variant's share of the people assigned)", v.Weight)
	}
	if v.Delay.D() > maxDelay {
		bad(key+".delay", "%s is longer than 14 days: the prompt would come long after the help", v.Delay.D())
	}
	seen := map[string]bool{}
	for k, name := range v.Targets {
		tkey := fmt.Sprintf("%s.targets[%d]", key, k)
		switch {
		case seen[name]:
			bad(tkey, "%q is named twice", name)
		case !slices.ContainsFunc(c.Share.Targets, func(t ShareTarget) bool { return t.Name == name }):
			bad(tkey, "%q is not the name of one of share.targets", name)
		}
		seen[name] = true
	}
	if tpl, err := template.New("").Option("missingkey=error").Parse(v.Prompt); err != nil {
		bad(key+".prompt", "%v", err)
	} else if err := tpl.Execute(&strings.Builder{}, TextData{}); err != nil {
		bad(key+".prompt", "%v", err)
	}
}

// assignment is the experiment variant a share prompt is made with; the
// zero value is none: the plain share settings.
type assignment struct {
	Experiment string
	Variant    *Variant
}

func (a assignment) name() string {
	if a.Variant == nil {
		return ""
	}
	return a.Variant.Name
}

// targets are the share targets a offers to the rating, in a's order: those
// whose gating policy the rating meets.
func (a assignment) targets(s ShareConfig, rating *Rating) []ShareTarget {
	var out []ShareTarget
	for _, target := range s.targets(a.Variant) {
		if target.EffectivePolicy() == PolicySatisfied && !rating.Satisfied {
			continue
		}
		out = append(out, target)
	}
	return out
}

// describe adds the experiment and variant to an event's detail.
func (a assignment) describe(detail map[string]any) {
	if a.Variant != nil {
		detail["experiment"], detail["variant"] = a.Experiment, a.Variant.Name
	}
}

// assign returns the running experiment's variant for the case's customer,
// as one person across their linked identities: the hash input is the first
// of the person's identities (ordered by platform and ID).
func (t *txn) assign(cs *Case) (assignment, error) {
	e := t.cfg.Share.Running()
	if e == nil {
		return assignment{}, nil
	}
	ids, err := t.tx.Identities(t.ctx, Identity{Platform: cs.Platform, ID: cs.Customer.ID})
	if err != nil {
		return assignment{}, fmt.Errorf("identities: %w", err)
	}
	person := Identity{Platform: cs.Platform, ID: cs.Customer.ID}
	if len(ids) > 0 {
		person = ids[0]
	}
	return assignment{Experiment: e.Name, Variant: e.Assign(person.String())}, nil
}

// promptText is the prompt's wording. Only a satisfied customer is asked to
// share, in the variant's words when it has its own; anyone else is offered
// the review sites (no review gating) in words that do not read as an
// answer to their rating.
func (t *txn) promptText(cs *Case, rating *Rating, a assignment) (string, error) {
	if !rating.Satisfied {
		return t.say("ReviewPrompt", cs, TextData{}), nil
	}
	if a.Variant == nil || a.Variant.Prompt == "" {
		return t.say("SharePrompt", cs, TextData{}), nil
	}
	tpl, err := template.New(a.Variant.Name).Option("missingkey=error").Parse(a.Variant.Prompt)
	if err != nil {
		return "", fmt.Errorf("variant %s prompt: %w", a.Variant.Name, err)
	}
	var b strings.Builder
	d := TextData{Brand: t.cfg.Brand, Customer: NameOf(cs.Customer), Case: cs.ID}
	if err := tpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("variant %s prompt: %w", a.Variant.Name, err)
	}
	return b.String(), nil
}

// promptAfter follows a rating with the share prompt: at once, or, when the
// person's variant has a delay and the rating qualifies for one of its
// targets, by a timer.
func (t *txn) promptAfter(cs *Case, rating *Rating) error {
	a, err := t.assign(cs)
	if err != nil {
		return err
	}
	if a.Variant == nil || a.Variant.Delay == 0 {
		return t.offer(cs, rating, a)
	}
	if len(a.targets(t.cfg.Share, rating)) == 0 {
		return nil
	}
	due := t.tx.Now().Add(a.Variant.Delay.D())
	tm := Timer{CaseID: cs.ID, Kind: TimerPromptDelayed, Round: cs.Round, DueAt: due,
		Experiment: a.Experiment, Variant: a.Variant.Name}
	if err := t.tx.SetTimer(t.ctx, tm); err != nil {
		return fmt.Errorf("set delayed prompt timer: %w", err)
	}
	detail := map[string]any{"round": cs.Round, "due_at": due}
	a.describe(detail)
	return t.record(cs, KindShareDelayed, "", detail)
}

// delayedPrompt sends the prompt a timer held back, with the variant it was
// assigned, unless a later round of the case has been rated since (that
// rating made its own prompt). offer checks the opt-out and the cooldown
// now, at firing, not when the prompt was scheduled.
func (t *txn) delayedPrompt(cs *Case, tm Timer) error {
	if cs.Round != tm.Round || IsForgotten(cs.Customer.ID) {
		return nil
	}
	if cs.Status.Active() { // reopened since the rating: the round is over
		return t.record(cs, KindShareSuppressed, "", map[string]any{"reason": "reopened"})
	}
	ratings, err := t.tx.Ratings(t.ctx, cs.ID)
	if err != nil {
		return fmt.Errorf("ratings: %w", err)
	}
	i := slices.IndexFunc(ratings, func(r Rating) bool { return r.Round == tm.Round })
	if i < 0 {
		return nil
	}
	a := assignment{Experiment: tm.Experiment, Variant: t.cfg.Share.Experiment(tm.Experiment).Variant(tm.Variant)}
	if a.Variant == nil {
		t.log.Warn("delayed prompt's variant is no longer configured: sending the plain prompt",
			"experiment", tm.Experiment, "variant", tm.Variant, "case", cs.ID)
		a = assignment{}
	}
	return t.offer(cs, &ratings[i], a)
}

// VariantCounts is one experiment variant's prompts, for the dashboard: a
// prompt is a case's offers of one round. Offered counts the prompts made,
// Clicked those with a click on any of their buttons, Shared those that led
// to a testimonial (a community post; a click on an X or review link is as
// far as advocate can see).
type VariantCounts struct {
	Experiment, Variant      string
	Offered, Clicked, Shared int
}
