package sim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
)

// IDs of the simulated Discord community.
const (
	DiscordGuild        = "810000000000000001"
	DiscordSupport      = "810000000000000010"
	DiscordStaffChannel = "810000000000000011"
	DiscordShowcase     = "810000000000000012"
	DiscordStaffRole    = "810000000000000020"
	DiscordStaffUser    = "710000000000000002"
)

// DiscordOptions configure NewDiscord.
type DiscordOptions struct {
	// Fake are the loopback Discord's options (rate limits…).
	Fake discordfake.Options
	// Pulse is as SlackOptions.Pulse.
	Pulse time.Duration
	// Recorder receives measurements; a new one when nil.
	Recorder *Recorder
	// Patience is how long a customer whose question has no answer waits,
	// while the bot posts nothing in the support channel, before asking again
	// (Discord delivers no message again to a bot that was down). Default 15 s.
	Patience time.Duration
}

// Discord is a loopback Discord community (discordfake): a guild with a
// support, a staff (only staff and the bot see it) and a showcase channel, a
// staff role with one member, and an index of what the bot posted, which
// simulated people wait on. On Discord a case has a private thread of the
// support channel for the customer and a thread in the staff channel for
// staff.
type Discord struct {
	// Fake is the loopback Discord the bot talks to.
	Fake *discordfake.Server
	// Rec receives what the simulated people measure.
	Rec *Recorder

	pulseEvery time.Duration
	deadline   time.Duration // the fake's interaction deadline
	patience   time.Duration
	now        func() time.Time // the fake's clock
	stop       context.CancelFunc
	wg         sync.WaitGroup
	queued     atomic.Int64
	askedAgain atomic.Int64

	mu          sync.Mutex
	pulse       chan struct{}
	threads     map[string]discordfake.Channel // private case threads by customer name
	staff       map[string]discordfake.Channel // staff case threads by customer name
	supportSeen int
	lastBotPost time.Time                        // the latest bot message in the support channel
	replies     map[string][]discordfake.Message // bot replies by the ID of the message they answer
	showSeen    int
	showcase    []discordfake.Message
}

// NewDiscord starts the fake Discord and its watcher. Close stops both.
func NewDiscord(opts DiscordOptions) *Discord {
	f := discordfake.New(opts.Fake)
	f.AddGuild(DiscordGuild, "Acme")
	f.AddChannel(DiscordGuild, DiscordSupport, "support")
	f.AddChannel(DiscordGuild, DiscordStaffChannel, "staff")
	f.RestrictChannel(DiscordStaffChannel, DiscordStaffRole, f.BotUserID())
	f.AddChannel(DiscordGuild, DiscordShowcase, "showcase")
	f.AddRole(DiscordGuild, DiscordStaffRole, "staff", discordfake.PermManageThreads)
	f.AddMember(DiscordGuild, DiscordStaffUser, StaffName, DiscordStaffRole)
	d := &Discord{
		Fake:       f,
		Rec:        opts.Recorder,
		pulseEvery: opts.Pulse,
		deadline:   opts.Fake.InteractionDeadline,
		patience:   opts.Patience,
		now:        opts.Fake.Now,
		pulse:      make(chan struct{}),
		threads:    map[string]discordfake.Channel{},
		staff:      map[string]discordfake.Channel{},
		replies:    map[string][]discordfake.Message{},
	}
	if d.Rec == nil {
		d.Rec = NewRecorder()
	}
	if d.pulseEvery <= 0 {
		d.pulseEvery = 20 * time.Millisecond
	}
	if d.deadline <= 0 {
		d.deadline = 3 * time.Second
	}
	if d.patience <= 0 {
		d.patience = defaultPatience
	}
	if d.now == nil {
		d.now = time.Now
	}
	ctx, stop := context.WithCancel(context.Background())
	d.stop = stop
	d.wg.Add(1)
	go d.watch(ctx)
	return d
}

// Close stops the watcher and the fake.
func (d *Discord) Close() {
	d.stop()
	d.wg.Wait()
	d.Fake.Close()
}

// BotConfig is the discord section that points the bot at this community.
func (d *Discord) BotConfig() *DiscordConfig {
	return &DiscordConfig{
		Token: d.Fake.Token(), ApplicationID: d.Fake.ApplicationID(), APIURL: d.Fake.URL() + "/",
		Guild: DiscordGuild, Support: DiscordSupport, StaffRole: DiscordStaffRole,
		Staff: DiscordStaffChannel, Showcase: DiscordShowcase,
	}
}

// WaitConnected waits until the bot's gateway session is ready.
func (d *Discord) WaitConnected(ctx context.Context) error {
	if err := d.Fake.WaitUntil(ctx, func() bool { return d.Fake.ReadySessions() > 0 }); err != nil {
		return fmt.Errorf("sim: the bot never connected to Discord: %w", err)
	}
	return nil
}

// Queued counts the messages and interactions the simulated people sent.
func (d *Discord) Queued() int64 { return d.queued.Load() }

// AskedAgain counts the questions customers posted again, having seen no
// answer to the first.
func (d *Discord) AskedAgain() int64 { return d.askedAgain.Load() }

func (d *Discord) watch(ctx context.Context) {
	defer d.wg.Done()
	for ctx.Err() == nil {
		n := 0
		wctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_ = d.Fake.WaitUntil(wctx, func() bool { n++; return n > 1 })
		cancel()
		t := time.NewTimer(d.pulseEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		d.refresh()
	}
}

// refresh indexes the new case threads, public replies and showcase posts.
func (d *Discord) refresh() {
	threads := d.Fake.Threads(DiscordSupport)
	staff := d.Fake.Threads(DiscordStaffChannel)
	support := d.Fake.Messages(DiscordSupport)
	showcase := d.Fake.Messages(DiscordShowcase)
	bot := d.Fake.BotUserID()

	d.mu.Lock()
	defer d.mu.Unlock()
	// all of them, each time: the fake lists threads by ID, and a thread
	// made while the last list was read can sort before threads already seen
	for _, th := range threads {
		// "Case #12 · Name"
		if _, name, ok := strings.Cut(th.Name, " · "); ok {
			d.threads[name] = th
		}
	}
	// a staff thread's ID is its starter message's: one started late (the
	// bot restarted between the two) sorts among the earlier ones
	for _, th := range staff {
		if _, name, ok := strings.Cut(th.Name, " · "); ok {
			if _, seen := d.staff[name]; !seen {
				d.staff[name] = th
			}
		}
	}
	for _, m := range support[min(d.supportSeen, len(support)):] {
		if m.Author.ID != bot {
			continue
		}
		if m.Timestamp.After(d.lastBotPost) {
			d.lastBotPost = m.Timestamp
		}
		if m.Reference != nil {
			d.replies[m.Reference.MessageID] = append(d.replies[m.Reference.MessageID], m)
		}
	}
	d.supportSeen = len(support)
	for _, m := range showcase[min(d.showSeen, len(showcase)):] {
		if m.Author.ID == bot {
			d.showcase = append(d.showcase, m)
		}
	}
	d.showSeen = len(showcase)
	close(d.pulse)
	d.pulse = make(chan struct{})
}

func (d *Discord) waitFor(ctx context.Context, what string, cond func() bool) error {
	for {
		d.mu.Lock()
		p := d.pulse
		d.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-p:
		case <-ctx.Done():
			return fmt.Errorf("sim: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// DiscordConversation is one simulated customer's case on Discord.
type DiscordConversation struct {
	d *Discord
	// User and Name are the customer's ID and name.
	User, Name string
	// CaseID is the case the bot opened, from its thread's name.
	CaseID int64
	// Question is the customer's message; Thread the case's private thread,
	// StaffThread its thread in the staff channel.
	Question    discordfake.Message
	Thread      discordfake.Channel
	StaffThread discordfake.Channel
	// Controls is the staff message with the case's buttons in StaffThread;
	// Survey and Prompt are the bot's messages in Thread.
	Controls, Survey, Prompt discordfake.Message
	// Steps are the answered (or superseded) interactions, in order;
	// Questions counts the questions posted (more than one when the bot, down,
	// never opened the case for the first).
	Steps     []Sent
	Questions int
	asked     time.Time
	questions []string // the IDs of the questions posted
}

// Conversation adds member number i to the guild and returns their
// conversation, not started.
func (d *Discord) Conversation(i int) *DiscordConversation {
	user := fmt.Sprintf("7200%014d", i)
	name := fmt.Sprintf("Disc%05d", i)
	d.Fake.AddMember(DiscordGuild, user, name)
	return &DiscordConversation{d: d, User: user, Name: name}
}

func (c *DiscordConversation) lag(kind string, m discordfake.Message, after time.Time) {
	c.d.Rec.lag(kind, m.Timestamp.Sub(after))
}

// awaitThread waits for the bot's first message in the case's private
// thread that match accepts.
func (c *DiscordConversation) awaitThread(ctx context.Context, what string, match func(discordfake.Message) bool) (discordfake.Message, error) {
	return c.awaitIn(ctx, c.Thread.ID, what, match)
}

// awaitIn waits for the bot's first message in a channel that match accepts.
func (c *DiscordConversation) awaitIn(ctx context.Context, channel, what string, match func(discordfake.Message) bool) (discordfake.Message, error) {
	var found discordfake.Message
	bot := c.d.Fake.BotUserID()
	err := c.d.waitFor(ctx, fmt.Sprintf("%s in %s's thread", what, c.Name), func() bool {
		for _, m := range c.d.Fake.Messages(channel) {
			if m.Author.ID == bot && match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, err
}

func discordButton(m discordfake.Message, label string) (string, bool) {
	for _, b := range m.Buttons() {
		if b.Label == label {
			return b.CustomID, true
		}
	}
	return "", false
}

func withDiscordButton(label string) func(discordfake.Message) bool {
	return func(m discordfake.Message) bool {
		_, ok := discordButton(m, label)
		return ok
	}
}

// interact sends one interaction with fn and waits for the bot's initial
// response, its acknowledgement on Discord. An interaction nobody answered in
// time (the bot was down, or too slow) fails for the person, who tries again
// while still reports the control is there, as a person clicks again.
func (c *DiscordConversation) interact(ctx context.Context, kind, user string, fn func() (discordfake.Interaction, error), still func() bool) (Sent, discordfake.InteractionResponse, error) {
	st := Sent{Kind: kind, User: user, CaseID: c.CaseID, Queued: time.Now()}
	defer func() { c.Steps = append(c.Steps, st) }()
	for {
		in, err := fn()
		if err != nil && !errors.Is(err, discordfake.ErrNotDelivered) {
			return st, discordfake.InteractionResponse{}, fmt.Errorf("sim: discord %s by %s: %w", kind, user, err)
		}
		c.d.queued.Add(1)
		st.Envelopes = append(st.Envelopes, in.ID)
		resp, ok, err := c.awaitResponse(ctx, in.ID, err == nil)
		if err != nil {
			return st, resp, fmt.Errorf("sim: discord %s by %s: %w", kind, user, err)
		}
		if ok {
			st.Acked = resp.At
			c.d.Rec.sentStep(st)
			return st, resp, nil
		}
		if still != nil && !still() {
			st.Superseded = true
			return st, resp, nil
		}
		if len(st.Envelopes) >= maxTries {
			return st, resp, fmt.Errorf("sim: discord %s by %s: no answer after %d tries", kind, user, maxTries)
		}
	}
}

// awaitResponse waits for the bot's accepted initial response to an
// interaction; ok is false when the interaction failed (not delivered, no
// accepted response within the deadline), and err is set when the bot's
// response was refused as malformed.
func (c *DiscordConversation) awaitResponse(ctx context.Context, id string, delivered bool) (resp discordfake.InteractionResponse, ok bool, err error) {
	if !delivered {
		return resp, false, nil
	}
	wctx, cancel := context.WithTimeout(ctx, c.d.deadline+time.Second)
	defer cancel()
	var bad error
	werr := c.d.waitFor(wctx, "the response to interaction "+id, func() bool {
		for _, r := range c.d.Fake.InteractionResponses(id) {
			switch {
			case r.Status >= 200 && r.Status < 300:
				resp, ok = r, true
				return true
			case r.Status == 0, r.Status >= 500, r.Code == 10062:
				// no answer, a server error, or too late: failed
			default:
				bad = fmt.Errorf("response refused: status %d code %d", r.Status, r.Code)
				return true
			}
		}
		return false
	})
	switch {
	case bad != nil:
		return resp, false, bad
	case ok:
		return resp, true, nil
	case ctx.Err() != nil:
		return resp, false, werr
	}
	return resp, false, nil
}

func (c *DiscordConversation) click(ctx context.Context, kind, user string, m discordfake.Message, label string) (Sent, discordfake.InteractionResponse, error) {
	id, ok := discordButton(m, label)
	if !ok {
		return Sent{}, discordfake.InteractionResponse{}, fmt.Errorf("sim: discord %s: no %q button on %q", kind, label, m.Content)
	}
	still := func() bool {
		now, found := c.d.Fake.FindMessage(m.ID)
		if !found || now.Deleted {
			return false
		}
		_, has := discordButton(now, label)
		return has
	}
	return c.interact(ctx, kind, user, func() (discordfake.Interaction, error) {
		return c.d.Fake.ClickButton(user, m.ChannelID, m.ID, id)
	}, still)
}

// defaultPatience is how long a customer with no answer waits while the
// support channel is silent before asking again.
const defaultPatience = 15 * time.Second

// Ask posts the question in the support channel and waits for the case's
// private thread and the intro in it. Discord has no acknowledgement for a
// message: lags are measured from the post. A customer asks again, as a
// person would, only when nothing says the bot is at work on it (askAgain);
// after maxTries questions with no thread the conversation fails.
func (c *DiscordConversation) Ask(ctx context.Context) error {
	for {
		if err := c.PostQuestion(ctx); err != nil {
			return err
		}
		var opened bool
		err := c.d.waitFor(ctx, fmt.Sprintf("%s's case thread", c.Name), func() bool {
			c.d.mu.Lock()
			th, ok := c.d.threads[c.Name]
			c.d.mu.Unlock()
			c.Thread, opened = th, ok
			return ok || c.askAgain(c.d.now())
		})
		if err != nil {
			return err
		}
		if opened {
			break
		}
		if c.Questions >= maxTries {
			return fmt.Errorf("sim: discord ask by %s: no case thread after %d questions", c.Name, c.Questions)
		}
		c.d.askedAgain.Add(1)
	}
	c.CaseID = caseOfText(c.Thread.Name)
	intro, err := c.awaitThread(ctx, "the intro", withDiscordButton("My problem is solved"))
	if err != nil {
		return err
	}
	c.lag(LagIntro, intro, c.asked)
	c.d.mu.Lock()
	for _, r := range c.d.replies[c.Question.ID] {
		if strings.Contains(r.Content, "private conversation") {
			c.lag(LagPublicReply, r, c.asked)
			break
		}
	}
	c.d.mu.Unlock()
	return nil
}

// Asked is when PostQuestion posted the question (zero before).
func (c *DiscordConversation) Asked() time.Time { return c.asked }

// PostQuestion posts the question in the support channel and returns: a
// Discord message has no acknowledgement to wait for.
func (c *DiscordConversation) PostQuestion(context.Context) error {
	if c.asked.IsZero() {
		c.asked = time.Now()
	}
	m, err := c.d.Fake.PostAsUser(DiscordSupport, c.User, fmt.Sprintf("Question from %s: my widget does not start", c.Name))
	if err != nil {
		return fmt.Errorf("sim: discord ask by %s: %w", c.Name, err)
	}
	c.d.queued.Add(1)
	c.Questions++
	c.Question = m
	c.questions = append(c.questions, m.ID)
	return nil
}

// askAgain reports whether, at now, the customer would post the question
// again: the bot has answered none of their questions, and it has posted
// nothing in the support channel for the patience since their last one. A
// real customer sees the bot answer those who asked before them, at the pace
// the platform's limits allow, and waits while it does; a bot that is down
// (or lost the question and has gone quiet) is asked again.
func (c *DiscordConversation) askAgain(now time.Time) bool {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	for _, id := range c.questions {
		if len(c.d.replies[id]) > 0 {
			return false
		}
	}
	since := c.Question.Timestamp
	if c.d.lastBotPost.After(since) {
		since = c.d.lastBotPost
	}
	return now.Sub(since) >= c.d.patience
}

// AwaitStaff waits for the case's staff thread and the controls in it.
func (c *DiscordConversation) AwaitStaff(ctx context.Context) error {
	err := c.d.waitFor(ctx, fmt.Sprintf("%s's staff thread", c.Name), func() bool {
		c.d.mu.Lock()
		defer c.d.mu.Unlock()
		th, ok := c.d.staff[c.Name]
		c.StaffThread = th
		return ok
	})
	if err != nil {
		return err
	}
	m, err := c.awaitIn(ctx, c.StaffThread.ID, "the staff controls", withDiscordButton("Resolve"))
	c.Controls = m
	if err == nil {
		c.lag(LagStaffControls, m, c.asked)
	}
	return err
}

// StaffReply has the staff member answer in the customer's thread, as staff
// with Manage Threads may: nothing is relayed and there is nothing to wait
// for.
func (c *DiscordConversation) StaffReply(context.Context) error {
	_, err := c.d.Fake.PostAsUser(c.Thread.ID, DiscordStaffUser, fmt.Sprintf("Fixed case %d for you", c.CaseID))
	if err != nil {
		return fmt.Errorf("sim: discord staff reply: %w", err)
	}
	c.d.queued.Add(1)
	return nil
}

// Resolve has the staff member press Resolve and waits for the survey.
func (c *DiscordConversation) Resolve(ctx context.Context) error {
	st, _, err := c.click(ctx, "resolve", DiscordStaffUser, c.Controls, "Resolve")
	if err != nil {
		return err
	}
	c.Survey, err = c.awaitThread(ctx, "the survey", withDiscordButton("5"))
	if err != nil {
		return err
	}
	c.lag(LagSurvey, c.Survey, st.Acked)
	return nil
}

// Rate has the customer click score and waits for the share prompt.
func (c *DiscordConversation) Rate(ctx context.Context, score int) error {
	st, _, err := c.click(ctx, "rate", c.User, c.Survey, strconv.Itoa(score))
	if err != nil {
		return err
	}
	c.Prompt, err = c.awaitThread(ctx, "the share prompt", withDiscordButton("No thanks"))
	if err != nil {
		return err
	}
	c.lag(LagPrompt, c.Prompt, st.Acked)
	return nil
}

// Testimonial is the text the customer approves in the preview.
func (c *DiscordConversation) Testimonial() string {
	return fmt.Sprintf("Case %d by %s: sorted in minutes", c.CaseID, c.Name)
}

// Share clicks the community post target, submits the preview modal and
// waits for the testimonial in the showcase channel.
func (c *DiscordConversation) Share(ctx context.Context) error {
	_, resp, err := c.click(ctx, "share", c.User, c.Prompt, LabelShowcase)
	if err != nil {
		return err
	}
	if resp.Type != 9 {
		return fmt.Errorf("sim: discord share by %s: response type %d, want a modal (9)", c.Name, resp.Type)
	}
	modal, _, ok := c.d.Fake.OpenModal(c.User)
	if !ok {
		return fmt.Errorf("sim: discord share by %s: no open modal", c.Name)
	}
	text := c.Testimonial()
	st, _, err := c.interact(ctx, "submit", c.User, func() (discordfake.Interaction, error) {
		return c.d.Fake.SubmitModal(c.User, modal, map[string]string{"text": text})
	}, func() bool {
		open, _, ok := c.d.Fake.OpenModal(c.User)
		return ok && open == modal
	})
	if err != nil {
		return err
	}
	var post discordfake.Message
	err = c.d.waitFor(ctx, "the testimonial in the showcase", func() bool {
		c.d.mu.Lock()
		defer c.d.mu.Unlock()
		for _, m := range c.d.showcase {
			if strings.Contains(m.Content, text) {
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

// Full runs the happy path, as Conversation.Full does on Slack.
func (c *DiscordConversation) Full(ctx context.Context) error {
	steps := []func(context.Context) error{
		c.Ask, c.AwaitStaff, c.StaffReply, c.Resolve,
		func(ctx context.Context) error { return c.Rate(ctx, 5) },
		c.Share,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Decline answers the share prompt with "No thanks" and waits for the prompt
// to say so.
func (c *DiscordConversation) Decline(ctx context.Context) error {
	if _, _, err := c.click(ctx, "decline", c.User, c.Prompt, "No thanks"); err != nil {
		return err
	}
	return c.d.waitFor(ctx, "the declined prompt", func() bool {
		m, ok := c.d.Fake.FindMessage(c.Prompt.ID)
		return ok && strings.Contains(m.Content, "No problem")
	})
}

// AwaitReminder waits for the survey reminder in the case thread.
func (c *DiscordConversation) AwaitReminder(ctx context.Context) error {
	_, err := c.awaitThread(ctx, "the survey reminder", func(m discordfake.Message) bool {
		return strings.Contains(m.Content, "A quick reminder")
	})
	return err
}

// AwaitNudge waits for the SLA nudge about the case in the staff channel.
func (c *DiscordConversation) AwaitNudge(ctx context.Context) error {
	bot := c.d.Fake.BotUserID()
	want := fmt.Sprintf("Case #%d ", c.CaseID)
	return c.d.waitFor(ctx, fmt.Sprintf("the SLA nudge of case %d", c.CaseID), func() bool {
		for _, m := range c.d.Fake.Messages(DiscordStaffChannel) {
			if m.Author.ID == bot && strings.Contains(m.Content, want) && strings.Contains(m.Content, "has had no staff response") {
				return true
			}
		}
		return false
	})
}
