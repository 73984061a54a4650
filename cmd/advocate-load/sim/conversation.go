package sim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
)

// Lag kinds: which bot message, after which acknowledged step.
const (
	LagPublicReply    = "ask → public reply"
	LagIntro          = "ask → private intro"
	LagStaffRoot      = "ask → staff root"
	LagStaffControls  = "ask → staff controls"
	LagRelayed        = "staff reply → relayed to DM"
	LagResolvedPublic = "resolve → public resolved"
	LagSurvey         = "resolve → survey"
	LagPrompt         = "rate → share prompt"
	LagShowcase       = "submit → showcase post"
)

// viewWait is how long a person waits for the preview modal before clicking
// the share button again: a bot that crashed right after acknowledging the
// click never opened it, and its trigger_id lives 3 s.
const viewWait = 6 * time.Second

// Conversation is one simulated customer's case on Slack, driven step by step
// by the customer and the staff member. Each step returns once the bot has
// acknowledged it and, where a person would wait for an answer, once the
// answer is visible.
type Conversation struct {
	s *Slack
	// User, Name and DM are the customer's ID, display name and DM with the bot.
	User, Name, DM string
	// CaseID is the case the bot opened, known after Ask.
	CaseID int64
	// Question is the customer's message in the support channel.
	Question slackfake.Message
	// Controls is the staff message with the case's buttons; its thread is the
	// case's staff thread.
	Controls slackfake.Message
	// Survey and Prompt are the survey and the share prompt in the DM.
	Survey, Prompt slackfake.Message
	// Steps are the acknowledged (or superseded) steps, in order.
	Steps []Sent

	askAcked time.Time
}

// Conversation adds customer number i to the workspace and returns their
// conversation, not started.
func (s *Slack) Conversation(i int) *Conversation {
	user := fmt.Sprintf("U0C%08d", i)
	name := fmt.Sprintf("Cust%05d", i)
	s.Fake.AddUser(user, name)
	return &Conversation{s: s, User: user, Name: name, DM: s.Fake.DMChannel(user)}
}

func (c *Conversation) lag(kind string, m slackfake.Message, after time.Time) {
	if after.IsZero() {
		return
	}
	c.s.Rec.lag(kind, TSTime(m.TS).Sub(after))
}

// botDM returns the bot's messages in the customer's DM.
func (c *Conversation) botDM() []slackfake.Message {
	var out []slackfake.Message
	for _, m := range c.s.Fake.Messages(c.DM) {
		if m.BotID != "" {
			out = append(out, m)
		}
	}
	return out
}

// awaitDM waits for the first bot message in the DM that match accepts.
func (c *Conversation) awaitDM(ctx context.Context, what string, match func(slackfake.Message) bool) (slackfake.Message, error) {
	var found slackfake.Message
	err := c.s.waitFor(ctx, fmt.Sprintf("%s in %s's DM", what, c.Name), func() bool {
		for _, m := range c.botDM() {
			if match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, err
}

func hasButton(label string) func(slackfake.Message) bool {
	return func(m slackfake.Message) bool {
		_, ok := Buttons(m)[label]
		return ok
	}
}

func contains(s string) func(slackfake.Message) bool {
	return func(m slackfake.Message) bool { return strings.Contains(m.Text, s) }
}

// buttonStill reports whether a stored message still has the button: a
// click that was never acknowledged is only repeated while it does.
func (c *Conversation) buttonStill(channel, ts, label string) func() bool {
	return func() bool {
		m, ok := c.s.Fake.Message(channel, ts)
		if !ok {
			return false
		}
		_, has := Buttons(m)[label]
		return has
	}
}

func (c *Conversation) click(ctx context.Context, kind, user string, m slackfake.Message, label string) (Sent, error) {
	id, ok := Buttons(m)[label]
	if !ok {
		return Sent{}, fmt.Errorf("sim: %s: no %q button on %q", kind, label, m.Text)
	}
	st, err := c.s.send(ctx, kind, user, c.CaseID, func() (string, error) {
		return c.s.Fake.ClickButton(user, m.Channel, m.TS, id, "")
	}, c.buttonStill(m.Channel, m.TS, label))
	c.Steps = append(c.Steps, st)
	return st, err
}

// Ask posts the customer's question in the support channel and waits for the
// private conversation: the intro in the DM, which names the case.
func (c *Conversation) Ask(ctx context.Context) error {
	if err := c.PostQuestion(ctx); err != nil {
		return err
	}
	return c.AwaitIntro(ctx)
}

// PostQuestion posts the customer's question in the support channel and
// waits for its acknowledgement only: the case is open (committed), its posts
// may still be queued.
func (c *Conversation) PostQuestion(ctx context.Context) error {
	text := fmt.Sprintf("Question from %s: my widget does not start", c.Name)
	st, err := c.s.send(ctx, "ask", c.User, 0, func() (string, error) {
		p, err := c.s.Fake.UserSays(c.User, SupportChannel, text)
		c.Question = p.Message
		return p.EnvelopeID, err
	}, nil)
	c.Steps = append(c.Steps, st)
	c.askAcked = st.Acked
	return err
}

// AwaitIntro waits for the private conversation's intro in the DM, which
// names the case. Ask calls it; a test that posted the question itself sets
// Question and calls it.
func (c *Conversation) AwaitIntro(ctx context.Context) error {
	intro, err := c.awaitDM(ctx, "the intro", hasButton("My problem is solved"))
	if err != nil {
		return err
	}
	c.CaseID = CaseOfActionID(Buttons(intro)["My problem is solved"])
	for i := range c.Steps {
		if c.Steps[i].Kind == "ask" {
			c.Steps[i].CaseID = c.CaseID
		}
	}
	c.lag(LagIntro, intro, c.askAcked)
	// the public reply comes first in the case's outbox lane
	if r := c.s.reply(c.Question.TS, "taken this to a private conversation"); r != nil {
		c.lag(LagPublicReply, *r, c.askAcked)
	}
	return nil
}

// reply finds the bot's first reply under a support channel message
// containing s.
func (s *Slack) reply(parentTS, text string) *slackfake.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.replies[parentTS] {
		if strings.Contains(m.Text, text) {
			return &m
		}
	}
	return nil
}

// AwaitStaff waits for the case's staff controls (Claim, Resolve, Reopen) in
// the staff channel.
func (c *Conversation) AwaitStaff(ctx context.Context) error {
	err := c.s.waitFor(ctx, fmt.Sprintf("the staff controls of case %d", c.CaseID), func() bool {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		m, ok := c.s.controls[c.CaseID]
		c.Controls = m
		return ok
	})
	if err != nil {
		return err
	}
	c.lag(LagStaffControls, c.Controls, c.askAcked)
	c.s.mu.Lock()
	for _, r := range c.s.roots[c.CaseID] {
		if r.TS == c.Controls.ThreadTS {
			c.lag(LagStaffRoot, r, c.askAcked)
		}
	}
	c.s.mu.Unlock()
	return nil
}

// StaffReply has the staff member answer in the case's thread and waits for
// the answer in the customer's DM.
func (c *Conversation) StaffReply(ctx context.Context) error {
	text := fmt.Sprintf("Fixed case %d for you", c.CaseID)
	st, err := c.s.send(ctx, "staff_reply", StaffUser, c.CaseID, func() (string, error) {
		p, err := c.s.Fake.UserReplies(StaffUser, StaffChannel, c.Controls.ThreadTS, text)
		return p.EnvelopeID, err
	}, nil)
	c.Steps = append(c.Steps, st)
	if err != nil {
		return err
	}
	// attributed to the staff member by name, or by user ID when the bot
	// restarted and lost the name it had looked up
	m, err := c.awaitDM(ctx, "the staff answer", contains(": "+text))
	if err != nil {
		return err
	}
	c.lag(LagRelayed, m, st.Acked)
	return nil
}

// CustomerSays has the customer write in the DM and waits for the message in
// the case's staff thread.
func (c *Conversation) CustomerSays(ctx context.Context, text string) error {
	st, err := c.s.send(ctx, "customer_says", c.User, c.CaseID, func() (string, error) {
		p, err := c.s.Fake.UserSays(c.User, c.DM, text)
		return p.EnvelopeID, err
	}, nil)
	c.Steps = append(c.Steps, st)
	if err != nil {
		return err
	}
	relayed := c.Name + ": " + text
	return c.s.waitFor(ctx, fmt.Sprintf("%q in the staff thread of case %d", relayed, c.CaseID), func() bool {
		for _, m := range c.s.Fake.Thread(StaffChannel, c.Controls.ThreadTS) {
			if m.BotID != "" && strings.Contains(m.Text, relayed) {
				return true
			}
		}
		return false
	})
}

// Resolve has the staff member press Resolve and waits for the survey in the
// customer's DM.
func (c *Conversation) Resolve(ctx context.Context) error {
	st, err := c.click(ctx, "resolve", StaffUser, c.Controls, "Resolve")
	if err != nil {
		return err
	}
	c.Survey, err = c.awaitDM(ctx, "the survey", hasButton("5"))
	if err != nil {
		return err
	}
	c.lag(LagSurvey, c.Survey, st.Acked)
	if r := c.s.reply(c.Question.TS, "Resolved privately"); r != nil {
		c.lag(LagResolvedPublic, *r, st.Acked)
	}
	return nil
}

// Rate has the customer click score on the survey. A satisfied or neutral
// score is followed by a share prompt, which Rate waits for when prompt is true.
func (c *Conversation) Rate(ctx context.Context, score int, prompt bool) error {
	st, err := c.click(ctx, "rate", c.User, c.Survey, strconv.Itoa(score))
	if err != nil || !prompt {
		return err
	}
	c.Prompt, err = c.awaitDM(ctx, "the share prompt", hasButton("No thanks"))
	if err != nil {
		return err
	}
	c.lag(LagPrompt, c.Prompt, st.Acked)
	return nil
}

// Testimonial is the text a customer approves in the preview.
func (c *Conversation) Testimonial() string {
	return fmt.Sprintf("Case %d by %s: sorted in minutes", c.CaseID, c.Name)
}

// Share has the customer click the community post target, confirm the
// preview with Testimonial() and waits for the post in the showcase channel.
func (c *Conversation) Share(ctx context.Context) error {
	var view slackfake.View
	for try := 1; ; try++ {
		c.s.mu.Lock()
		before := len(c.s.views[c.CaseID])
		c.s.mu.Unlock()
		if _, err := c.click(ctx, "share", c.User, c.Prompt, LabelShowcase); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, viewWait)
		err := c.s.waitFor(wctx, "the preview", func() bool {
			c.s.mu.Lock()
			defer c.s.mu.Unlock()
			vs := c.s.views[c.CaseID]
			if len(vs) > before {
				view = vs[len(vs)-1]
				return true
			}
			return false
		})
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil || try >= maxTries {
			return err
		}
	}
	text := c.Testimonial()
	st, err := c.s.send(ctx, "submit", c.User, c.CaseID, func() (string, error) {
		return c.s.Fake.SubmitView(view.ID, map[string]string{"text": text})
	}, func() bool {
		v, ok := c.s.Fake.View(view.ID)
		return ok && v.Open
	})
	c.Steps = append(c.Steps, st)
	if err != nil {
		return err
	}
	var post slackfake.Message
	err = c.s.waitFor(ctx, "the testimonial in the showcase", func() bool {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		for _, m := range c.s.showcase {
			if strings.Contains(m.Text, text) {
				post = m
				return true
			}
		}
		return false
	})
	if err != nil {
		return err
	}
	c.lag(LagShowcase, post, st.Acked)
	return nil
}

// Decline has the customer answer the share prompt with "No thanks" and
// waits for the prompt to say so.
func (c *Conversation) Decline(ctx context.Context) error {
	if _, err := c.click(ctx, "decline", c.User, c.Prompt, "No thanks"); err != nil {
		return err
	}
	return c.s.waitFor(ctx, "the declined prompt", func() bool {
		m, ok := c.s.Fake.Message(c.DM, c.Prompt.TS)
		return ok && strings.Contains(m.Text, "No problem")
	})
}

// AwaitReminder waits for the survey reminder in the DM.
func (c *Conversation) AwaitReminder(ctx context.Context) error {
	_, err := c.awaitDM(ctx, "the survey reminder", contains("A quick reminder"))
	return err
}

// AwaitNudge waits for the staff channel's SLA nudge about the case.
func (c *Conversation) AwaitNudge(ctx context.Context) error {
	return c.s.waitFor(ctx, fmt.Sprintf("the SLA nudge of case %d", c.CaseID), func() bool {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		return c.s.nudges[c.CaseID] > 0
	})
}

// Full runs the whole happy path: ask, staff answer, resolve, a 5, and a
// testimonial in the showcase channel.
func (c *Conversation) Full(ctx context.Context) error {
	steps := []func(context.Context) error{
		c.Ask, c.AwaitStaff, c.StaffReply, c.Resolve,
		func(ctx context.Context) error { return c.Rate(ctx, 5, true) },
		c.Share,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}
