package discord

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/bot/bottest"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/sqlite"
	"github.com/advocate-bot/advocate/web"
)

// IDs of the test community.
const (
	guildID    = "810000000000000001"
	supportID  = "810000000000000010"
	staffChID  = "810000000000000011"
	showcaseID = "810000000000000012"
	generalID  = "810000000000000013"
	staffRole  = "810000000000000020"
	customerID = "710000000000000001" // Ada
	staffID    = "710000000000000002" // Sam
	otherID    = "710000000000000003" // Mallory
	benID      = "710000000000000004" // another customer
	leeID      = "710000000000000005" // more staff
)

// waitFor bounds every wait on a condition.
const waitFor = 20 * time.Second

// env is the real core on a real SQLite store, the adapter on a real discordgo
// session, a loopback fake Discord, and advocate's tracking redirect.
type env struct {
	t       *testing.T
	fake    *discordfake.Server
	adapter *Adapter
	core    *bot.Core
	db      *sqlite.DB
	track   *httptest.Server
	logs    *testkit.LogBuffer
}

// envConfig changes an env before it starts.
type envConfig struct {
	adapter func(*Options)
	policy  func(*gatewayPolicy)
	core    func(*bot.Config)
	// handler wraps the core as the adapter's handler.
	handler func(bot.Handler) bot.Handler
	// fake changes the community before the bot connects.
	fake func(*discordfake.Server)
}

// newEnv starts a community: a guild with a support, a staff (only the staff
// role and the bot can see it), a showcase and a general channel; a customer, a staff member (staff role, which may manage
// threads) and another member; then the core and the adapter, and waits until
// the gateway is ready and the commands are registered.
func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	logs := &testkit.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	// The bot has exactly the permissions its invite URL asks for.
	f := discordfake.New(discordfake.Options{Logf: t.Logf, BotPermissions: Permissions})
	t.Cleanup(f.Close) // runs last, after the session is closed
	f.AddGuild(guildID, "Acme")
	f.AddChannel(guildID, supportID, "support")
	f.AddChannel(guildID, staffChID, "staff")
	f.RestrictChannel(staffChID, staffRole, f.BotUserID())
	f.AddChannel(guildID, showcaseID, "showcase")
	f.AddChannel(guildID, generalID, "general")
	f.AddRole(guildID, staffRole, "staff", discordfake.PermManageThreads)
	f.AddMember(guildID, customerID, "Ada")
	f.AddMember(guildID, staffID, "Sam", staffRole)
	f.AddMember(guildID, otherID, "Mallory")
	f.AddMember(guildID, benID, "Ben")
	f.AddMember(guildID, leeID, "Lee", staffRole)
	if cfg.fake != nil {
		cfg.fake(f)
	}

	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "advocate.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })

	// The tracking redirect needs the core and the core's config needs its URL.
	mux := http.NewServeMux()
	track := httptest.NewServer(mux)
	t.Cleanup(track.Close)

	conf := bottest.Config()
	conf.Staff.Set(bot.Discord, bot.StaffIDs{Roles: []string{staffRole}})
	conf.PublicURL = track.URL
	if cfg.core != nil {
		cfg.core(&conf)
	}
	core, err := bot.New(bot.Options{Store: db, Config: conf, Logger: log})
	if err != nil {
		t.Fatalf("new core: %v", err)
	}
	mux.Handle(web.TrackPath, web.Track(core, log))

	opts := Options{
		Token:           f.Token(),
		ApplicationID:   f.ApplicationID(),
		APIURL:          f.URL() + "/",
		Guilds:          []string{guildID},
		SupportChannels: []string{supportID},
		StaffRole:       staffRole,
		StaffChannel:    staffChID,
		ShowcaseChannel: showcaseID,
		PublicURL:       track.URL,
		Logger:          log,
	}
	if cfg.adapter != nil {
		cfg.adapter(&opts)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatalf("new adapter: %v", err)
	}
	a.session.LogLevel = -1
	a.policy.minBackoff = 5 * time.Millisecond
	a.policy.maxBackoff = 50 * time.Millisecond
	if cfg.policy != nil {
		cfg.policy(&a.policy)
	}
	a.budget = rate.NewLimiter(rate.Every(a.policy.identifyEvery), a.policy.identifyBurst)
	core.Register(a)

	runCtx, cancel := context.WithCancel(ctx)
	coreDone := make(chan struct{})
	adapterDone := make(chan error, 1)
	go func() { defer close(coreDone); _ = core.Run(runCtx) }()
	var h bot.Handler = core
	if cfg.handler != nil {
		h = cfg.handler(core)
	}
	go func() { adapterDone <- a.Run(runCtx, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-adapterDone; err != nil {
			t.Errorf("adapter Run: %v", err)
		}
		<-coreDone
	})

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	e := &env{t: t, fake: f, adapter: a, core: core, db: db, track: track, logs: logs}
	e.wait("gateway ready and commands registered", func() bool {
		return f.ReadySessions() > 0 && len(f.Commands(guildID)) == 5
	})
	return e
}

// wait blocks until cond holds; cond is evaluated at every change of the fake.
func (e *env) wait(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := e.fake.WaitUntil(ctx, cond); err != nil {
		e.t.Fatalf("timed out waiting for %s", what)
	}
}

// eventually polls cond, for state outside the fake (the store).
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			e.t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// post writes a message as a user.
func (e *env) post(channel, user, text string) discordfake.Message {
	e.t.Helper()
	m, err := e.fake.PostAsUser(channel, user, text)
	if err != nil {
		e.t.Fatalf("post as %s in %s: %v", user, channel, err)
	}
	return m
}

// botMessages lists the bot's live messages in a channel.
func (e *env) botMessages(channel string) []discordfake.Message {
	var out []discordfake.Message
	for _, m := range e.fake.Messages(channel) {
		if m.Author.ID == e.fake.BotUserID() {
			out = append(out, m)
		}
	}
	return out
}

// botMessage waits for the newest bot message in a channel whose content
// contains s.
func (e *env) botMessage(channel, s string) discordfake.Message {
	e.t.Helper()
	var found discordfake.Message
	e.wait("a bot message containing "+s, func() bool {
		ms := e.botMessages(channel)
		for i := len(ms) - 1; i >= 0; i-- {
			if strings.Contains(ms[i].Content, s) {
				found = ms[i]
				return true
			}
		}
		return false
	})
	return found
}

// withButton waits for the newest bot message in a channel with a button
// labelled label.
func (e *env) withButton(channel, label string) (discordfake.Message, discordfake.Button) {
	e.t.Helper()
	var msg discordfake.Message
	var btn discordfake.Button
	e.wait("a message with a button "+label, func() bool {
		ms := e.botMessages(channel)
		for i := len(ms) - 1; i >= 0; i-- {
			for _, b := range ms[i].Buttons() {
				if b.Label == label {
					msg, btn = ms[i], b
					return true
				}
			}
		}
		return false
	})
	return msg, btn
}

// click presses a button as a user and returns the interaction's initial
// response once the adapter sent it.
func (e *env) click(user string, msg discordfake.Message, label string) (discordfake.Interaction, discordfake.InteractionResponse) {
	e.t.Helper()
	var customID string
	for _, b := range msg.Buttons() {
		if b.Label == label {
			customID = b.CustomID
		}
	}
	if customID == "" {
		e.t.Fatalf("no button %q on message %s", label, msg.ID)
	}
	i, err := e.fake.ClickButton(user, msg.ChannelID, msg.ID, customID)
	if err != nil {
		e.t.Fatalf("click %q as %s: %v", label, user, err)
	}
	return i, e.response(i.ID)
}

// response waits for the first response to an interaction.
func (e *env) response(id string) discordfake.InteractionResponse {
	e.t.Helper()
	e.wait("the response to interaction "+id, func() bool { return len(e.fake.InteractionResponses(id)) > 0 })
	r := e.fake.InteractionResponses(id)[0]
	if r.Status >= 300 {
		e.t.Fatalf("interaction %s response refused: status %d code %d", id, r.Status, r.Code)
	}
	return r
}

// thread waits for the private thread of the n-th case (1-based) in a channel.
func (e *env) thread(parent string, n int) discordfake.Channel {
	e.t.Helper()
	e.wait("a private thread", func() bool { return len(e.fake.Threads(parent)) >= n })
	return e.fake.Threads(parent)[n-1]
}

// caseOf waits for the case whose private conversation is a thread (the
// relay records it once the thread's intro is delivered).
func (e *env) caseOf(thread string) *bot.Case {
	e.t.Helper()
	var cs *bot.Case
	e.eventually("the case of thread "+thread, func() bool {
		err := e.db.View(context.Background(), func(tx bot.Tx) (err error) {
			cs, err = tx.CaseByConversation(context.Background(), bot.Ref{Platform: bot.Discord, Channel: thread})
			return err
		})
		return err == nil
	})
	return cs
}

// member waits until a user is a member of a thread.
func (e *env) member(thread, user string) {
	e.t.Helper()
	e.wait(user+" added to thread "+thread, func() bool { return slices.Contains(e.fake.ThreadMembers(thread), user) })
}

// kinds lists a case's funnel event kinds, oldest first.
func (e *env) kinds(caseID int64) []string {
	e.t.Helper()
	var kinds []string
	err := e.db.View(context.Background(), func(tx bot.Tx) error {
		evs, err := tx.CaseEvents(context.Background(), caseID)
		for _, ev := range evs {
			kinds = append(kinds, ev.Kind)
		}
		return err
	})
	if err != nil {
		e.t.Fatalf("case events: %v", err)
	}
	return kinds
}

// waitKind waits until a case's funnel has kind.
func (e *env) waitKind(caseID int64, kind string) {
	e.t.Helper()
	e.eventually("funnel event "+kind, func() bool { return slices.Contains(e.kinds(caseID), kind) })
}

// openCase asks a question in the support channel and waits for the case's
// private thread with its intro, and the staff controls in the staff thread
// (cs.Staff).
func (e *env) openCase(question string) (asked discordfake.Message, thread discordfake.Channel, cs *bot.Case) {
	e.t.Helper()
	return e.openCaseAs(customerID, question)
}

// openCaseAs is openCase for another customer.
func (e *env) openCaseAs(customer, question string) (asked discordfake.Message, thread discordfake.Channel, cs *bot.Case) {
	e.t.Helper()
	n := len(e.fake.Threads(supportID))
	asked = e.post(supportID, customer, question)
	thread = e.thread(supportID, n+1)
	e.withButton(thread.ID, "My problem is solved")
	cs = e.caseOf(thread.ID)
	e.withButton(cs.Staff.Channel, "Resolve")
	return asked, thread, cs
}

// sees lists the texts a user can read anywhere in the guild.
func (e *env) sees(user string) []string {
	var out []string
	for _, m := range e.fake.VisibleTo(user) {
		out = append(out, m.Content)
	}
	return out
}

// settled waits until the outbox holds nothing to deliver, now or later.
func (e *env) settled() {
	e.t.Helper()
	e.eventually("the outbox delivered", func() bool {
		var n int
		err := e.db.View(context.Background(), func(tx bot.Tx) error {
			as, err := tx.PendingActions(context.Background(), time.Now().Add(24*time.Hour), 10)
			n = len(as)
			return err
		})
		return err == nil && n == 0
	})
}

// rate resolves the case with the customer's own button and rates it.
func (e *env) rate(thread string, score string) {
	e.t.Helper()
	intro, _ := e.withButton(thread, "My problem is solved")
	e.click(customerID, intro, "My problem is solved")
	survey, _ := e.withButton(thread, score)
	e.click(customerID, survey, score)
}

// adapterLogs is what the adapter logged.
func (e *env) adapterLogs() string {
	var b strings.Builder
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, "component=discord") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}
