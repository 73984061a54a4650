// Package seed generates large, plausible advocate databases for benchmarks
// and demos: cases spread over a period on Slack and Discord, with the funnel
// stages, ratings, share offers and funnel events a real community produces.
//
// It writes through its own connection with multi-row INSERTs in large
// transactions, with syncing, triggers and secondary indexes off, into a file
// that sqlite.Open has migrated, and sums the dashboard's roll-ups in Go: a
// million cases take under a minute on two cores, not the hours the core's
// one-event-at-a-time path would. The result is a normal store file.
package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// Version names the generator's output. Bump it whenever Generate changes what
// it writes, so that cached databases made by an older generator are not reused.
const Version = 6

// Options say what to generate. The zero value of each field has a default.
type Options struct {
	Cases int       // number of cases; default 1000
	End   time.Time // the newest case is opened just before End; default now, truncated to the day
	Days  int       // cases are spread evenly over the Days before End; default 730
	Seed  uint64    // random seed; the same options generate the same database
}

func (o Options) withDefaults() Options {
	if o.Cases <= 0 {
		o.Cases = 1000
	}
	if o.End.IsZero() {
		o.End = time.Now().UTC().Truncate(24 * time.Hour)
	}
	if o.Days <= 0 {
		o.Days = 730
	}
	return o
}

// Cached returns the path of a generated database under dir, generating it
// first when no file for these options and this Version exists yet. The file
// is built under a temporary name and renamed into place, so an interrupted
// run leaves no half-written database behind. Callers share the file: open
// it with sqlite.Open (which may migrate it) but write nothing else to it.
func Cached(ctx context.Context, dir string, opts Options) (string, error) {
	opts = opts.withDefaults()
	name := fmt.Sprintf("advocate-seed-v%d-%d-%d-%d-%d.db",
		Version, opts.Cases, opts.Days, opts.End.Unix(), opts.Seed)
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp, err := os.MkdirTemp(dir, "advocate-seed-")
	if err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	defer os.RemoveAll(tmp)
	built := filepath.Join(tmp, "seed.db")
	if err := Generate(ctx, built, opts); err != nil {
		return "", err
	}
	if err := os.Rename(built, path); err != nil {
		return "", fmt.Errorf("seed: %w", err)
	}
	return path, nil
}

// Generate creates the database file at path (which must not exist) with the
// store's schema and fills it as opts say.
func Generate(ctx context.Context, path string, opts Options) error {
	opts = opts.withDefaults()
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("seed: %s already exists", path)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := fill(ctx, path, opts); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// fill writes the generated rows through a connection of its own: syncing
// and the journal off (a crash leaves a file nobody uses) and the triggers
// off: the dashboard's roll-ups are summed in Go and written once at the end
// instead of updated for every row.
func fill(ctx context.Context, path string, opts Options) (err error) {
	conn, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=foreign_keys(0)&_pragma=cache_size(-262144)")
	if err != nil {
		return err
	}
	defer func() {
		if cerr := conn.Close(); err == nil {
			err = cerr
		}
	}()
	conn.SetMaxOpenConns(1)
	// Seeding allocates fast and keeps little: with the default heap target the
	// collector would run every few megabytes and take a third of the time.
	// This is a tool for benchmarks and demos, so it may tune the process.
	defer debug.SetGCPercent(debug.SetGCPercent(800))
	g := &generator{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, 0x5eed)),
		channels: channels(), staff: staffIDs(), targets: targets(), experiments: Experiments()}
	if err := withoutTriggers(ctx, conn, func() error {
		return withoutIndexes(ctx, conn, func() error { return g.run(ctx, conn) })
	}); err != nil {
		return err
	}
	// Leave the file as sqlite.Open would: in WAL mode.
	_, err = conn.ExecContext(ctx, "PRAGMA journal_mode=WAL")
	return err
}

// withoutTriggers drops the schema's triggers, runs fill, and creates them
// again from their own definitions.
func withoutTriggers(ctx context.Context, conn *sql.DB, fill func() error) error {
	return withoutSchema(ctx, conn, "trigger", fill)
}

// withoutSchema drops the schema objects of a type ("trigger", "index";
// not the automatic indexes of constraints), runs fill, and creates them again.
func withoutSchema(ctx context.Context, conn *sql.DB, typ string, fill func() error) error {
	rows, err := conn.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = ? AND sql IS NOT NULL ORDER BY name`, typ)
	if err != nil {
		return err
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return err
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := conn.ExecContext(ctx, `DROP `+strings.ToUpper(typ)+` "`+name+`"`); err != nil {
			return err
		}
	}
	if err := fill(); err != nil {
		return err
	}
	for _, def := range defs {
		if _, err := conn.ExecContext(ctx, def); err != nil {
			return err
		}
	}
	return nil
}

// batchCases is how many cases go into one transaction.
const batchCases = 20000

type channel struct {
	platform, name string
	scale          bot.Scale
}

// channels are the public support channels cases are asked in, with the
// survey scale each community uses; the first of each platform is its main one.
func channels() []channel {
	return []channel{
		{bot.Slack, "C-help", bot.CSAT}, {bot.Slack, "C-billing", bot.CSAT},
		{bot.Slack, "C-api", bot.CSAT}, {bot.Slack, "C-mobile", bot.CSAT},
		{bot.Slack, "C-enterprise", bot.NPS}, {bot.Slack, "C-general", bot.CSAT},
		{bot.Discord, "help", bot.CES}, {bot.Discord, "bugs", bot.CES},
		{bot.Discord, "billing", bot.CES}, {bot.Discord, "general", bot.CES},
	}
}

// staffIDs are the staff members who answer.
func staffIDs() []string {
	return []string{"U-ana", "U-ben", "U-chloe", "U-dev", "U-eli", "U-fay", "U-gus", "U-hana"}
}

// target is a share target as configured.
type target struct{ name, kind, policy, text string }

func targets() []target {
	return []target{
		{"showcase", bot.TargetCommunityPost, bot.PolicySatisfied, "Acme support sorted me out in no time. Thanks!"},
		{"x", bot.TargetXPost, bot.PolicySatisfied, "Great help from Acme support!"},
		{"trustpilot", bot.TargetReviewLink, bot.PolicyEveryone, ""},
	}
}

// generator makes up cases and writes them.
type generator struct {
	opts                   Options
	rng                    *rand.Rand
	offerID                int64
	cases, ratings, offers *inserter
	roll                   *rollup
	channels               []channel
	staff                  []string
	targets                []target
	experiments            []bot.Experiment
}

// dayMs is a day in milliseconds: the roll-ups count by UTC day.
const dayMs = 24 * 3600 * 1000

func (g *generator) run(ctx context.Context, conn *sql.DB) error {
	var err error
	if g.roll, err = loadRollup(ctx, conn); err != nil {
		return fmt.Errorf("dashboard roll-ups: %w", err)
	}
	end := g.opts.End.UnixMilli()
	span := int64(g.opts.Days) * 24 * 3600 * 1000
	start := end - span
	step := float64(span) / float64(g.opts.Cases)
	for first := 0; first < g.opts.Cases; first += batchCases {
		if err := ctx.Err(); err != nil {
			return err
		}
		last := min(first+batchCases, g.opts.Cases)
		err := g.batch(ctx, conn, func() error {
			for i := first; i < last; i++ {
				opened := start + int64(float64(i)*step+g.rng.Float64()*step*0.9)
				if err := g.oneCase(ctx, int64(i+1), opened, end); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, eventsSQL, max(g.opts.Cases-fullLog+1, 1)); err != nil {
		return fmt.Errorf("funnel events: %w", err)
	}
	if _, err := conn.ExecContext(ctx, experimentsSQL); err != nil {
		return fmt.Errorf("experiment roll-up: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := g.roll.write(ctx, tx); err != nil {
		return fmt.Errorf("dashboard roll-ups: %w", err)
	}
	return tx.Commit()
}

// experimentsSQL fills the experiments page's roll-up (migration 00030)
// from the offers, as the store's refresh would: per day of opening,
// platform, channel, experiment and variant, the prompts (a case's offers of
// one round) made, clicked and shared.
const experimentsSQL = `INSERT INTO dashboard_experiments (day, platform, channel, experiment, variant, offered, clicked, shared)
	SELECT day, platform, channel, experiment, variant, count(*), sum(clicked), sum(shared) FROM (
		SELECT c.opened_at / 86400000 AS day, c.platform AS platform, c.public_channel AS channel,
			o.experiment AS experiment, o.variant AS variant, max(o.clicked) AS clicked, max(o.shared) AS shared
		FROM offers o JOIN cases c ON c.id = o.case_id WHERE o.experiment <> ''
		GROUP BY o.case_id, o.round, o.experiment, o.variant)
	GROUP BY day, platform, channel, experiment, variant`

// eventsSQL writes the funnel events that the cases, ratings and offers
// imply, deriving them in SQL, which is much faster than binding rows from Go:
// the whole log of the cases from id ?1 on (the newest, for case pages), and
// the testimonial events (shared, wall consent, withdrawn) of every case. Writing the whole
// log of a million cases would triple the time to seed for tables the funnel
// and trends pages never read.
const eventsSQL = `INSERT INTO case_events (case_id, kind, actor, platform, at, detail)
SELECT case_id, kind, actor, platform, at, detail FROM (
	SELECT id AS case_id, 'asked_public' AS kind, customer_id AS actor, platform, opened_at AS at,
		json_object('channel', public_channel, 'via', 'message') AS detail
		FROM cases WHERE id >= ?1
	UNION ALL
	SELECT id, 'taken_private', '', platform, opened_at + 2000 + id % 3000,
		json_object('channel', private_channel)
		FROM cases WHERE id >= ?1 AND stages & 2
	UNION ALL
	SELECT id, 'first_staff_response', assignee, platform, first_response_at,
		json_object('seconds', (first_response_at - opened_at) / 1000)
		FROM cases WHERE id >= ?1 AND stages & 4
	UNION ALL
	SELECT id, 'resolved', assignee, platform, resolved_at, json_object('by', 'staff', 'round', 1)
		FROM cases WHERE id >= ?1 AND stages & 8
	UNION ALL
	SELECT id, 'survey_sent', '', platform, resolved_at + 1000, json_object('round', 1, 'place', 'private')
		FROM cases WHERE id >= ?1 AND stages & 16
	UNION ALL
	SELECT r.case_id, 'rated', c.customer_id, c.platform, r.at, json_object('score', r.score,
		'scale', r.scale, 'satisfied', json(iif(r.satisfied, 'true', 'false')),
		'unhappy', json(iif(r.unhappy, 'true', 'false')), 'recovery', json(iif(r.recovery, 'true', 'false')),
		'round', r.round)
		FROM ratings r JOIN cases c ON c.id = r.case_id WHERE r.case_id >= ?1
	UNION ALL
	SELECT r.case_id, 'reopened', c.customer_id, c.platform, r.at + 1000,
		json_object('reason', 'unhappy', 'round', r.round)
		FROM ratings r JOIN cases c ON c.id = r.case_id WHERE r.case_id >= ?1 AND r.unhappy AND c.recovered
	UNION ALL
	SELECT o.case_id, 'share_offered', '', c.platform, o.at, json_object('offer', o.id, 'target', o.target,
		'kind', o.kind, 'policy', o.policy, 'text', o.text, 'url', o.url)
		FROM offers o JOIN cases c ON c.id = o.case_id WHERE o.case_id >= ?1
	UNION ALL
	SELECT o.case_id, 'share_clicked', c.customer_id, c.platform, o.at + 30000,
		json_object('offer', o.id, 'target', o.target, 'kind', o.kind)
		FROM offers o JOIN cases c ON c.id = o.case_id WHERE o.case_id >= ?1 AND o.clicked
	UNION ALL
	SELECT o.case_id, 'shared', c.customer_id, c.platform, o.shared_at + 1000, json_object('offer', o.id,
		'target', o.target, 'kind', o.kind, 'text', o.text,
		'channel', json_extract(o.post_ref, '$.channel'), 'message', json_extract(o.post_ref, '$.message'),
		'consented_at', strftime('%Y-%m-%dT%H:%M:%fZ', o.shared_at / 1000.0, 'unixepoch'))
		FROM offers o JOIN cases c ON c.id = o.case_id WHERE o.shared
	UNION ALL
	SELECT o.case_id, 'wall_consent', c.customer_id, c.platform, o.shared_at, json_object('offer', o.id,
		'wall', json(iif(o.wall, 'true', 'false')), 'name', o.wall_name, 'via', 'modal')
		FROM offers o JOIN cases c ON c.id = o.case_id WHERE o.shared
	UNION ALL
	SELECT o.case_id, 'share_withdrawn', c.customer_id, c.platform, o.shared_at + 86400000,
		json_object('offer', o.id, 'target', o.target)
		FROM offers o JOIN cases c ON c.id = o.case_id WHERE o.state = 'withdrawn'
) ORDER BY at`

// fullLog is how many of the newest cases get their whole funnel log.
const fullLog = 20000

// batch runs fill in one transaction with fresh inserters and flushes them.
func (g *generator) batch(ctx context.Context, conn *sql.DB, fill func() error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	g.cases = newInserter(tx, `INSERT INTO cases (id, platform, customer, status, public_ref,
		private_ref, staff_ref, assignee, question, round, opened_at, first_response_at,
		resolved_at, closed_at, stages, recovered, public_channel, opened_week) VALUES `, 18)
	g.ratings = newInserter(tx, `INSERT INTO ratings (case_id, round, scale, score, satisfied,
		unhappy, recovery, comment, at) VALUES `, 9)
	g.offers = newInserter(tx, `INSERT INTO offers (id, case_id, round, target, kind, policy,
		text, url, state, post_ref, at, shared_at, clicked, shared, wall, wall_name, wall_at, experiment, variant) VALUES `, 19)
	if err := fill(); err != nil {
		return err
	}
	for _, in := range []*inserter{g.cases, g.ratings, g.offers} {
		if err := in.flush(ctx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// lognormal draws a duration in milliseconds around median.
func (g *generator) lognormal(median time.Duration, sigma float64) int64 {
	return int64(float64(median.Milliseconds()) * math.Exp(g.rng.NormFloat64()*sigma))
}

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// offer is one generated share offer.
type offer struct {
	id                         int64
	target, kind, policy, text string
	url, state, post           string
	round                      int
	at                         int64
	sharedAt                   any
	clicked, shared            bool
	wall                       bool // the customer chose the wall too
	wallName                   string
	wallAt                     any
	experiment, variant        string
}

// life is what happened to one generated case.
type life struct {
	ch                            channel
	customerID, assignee          string
	status                        bot.Status
	round                         int
	firstAt, resolvedAt, closedAt any
	stages, recovered             int64
	ratings                       []bot.Rating
	offers                        []offer
}

// reach marks stage reached.
func (l *life) reach(stage string) {
	for i, s := range bot.Stages {
		if s == stage {
			l.stages |= 1 << i
		}
	}
}

// live plays out a case opened at opened (Unix ms): each stage is reached
// with a probability, and nothing happens at or after end.
func (g *generator) live(opened, end int64) *life {
	l := &life{ch: g.channels[g.rng.IntN(len(g.channels))], status: bot.StatusAwaitingStaff}
	if g.chance(0.3) { // the main help channels get most questions
		l.ch = g.channels[[]int{0, 6}[g.rng.IntN(2)]]
	}
	l.customerID = "u" + strconv.Itoa(g.rng.IntN(g.opts.Cases/3+1))
	l.reach("asked")
	t := opened + 2000 + g.rng.Int64N(3000)
	if !g.chance(0.97) || t >= end {
		return l
	}
	l.reach("taken_private")
	who := g.staff[g.rng.IntN(len(g.staff))]
	if t += g.lognormal(25*time.Minute, 1.1); !g.chance(0.93) || t >= end {
		return l
	}
	l.firstAt, l.assignee, l.status = t, who, bot.StatusAwaitingCustomer
	l.reach("first_response")
	if t += g.lognormal(3*time.Hour, 1.3); !g.chance(0.9) || t >= end {
		return l
	}
	l.resolvedAt, l.status, l.round = t, bot.StatusResolved, 1
	l.reach("resolved")
	if t += 1000; !g.chance(0.92) || t >= end {
		return l
	}
	l.reach("surveyed")
	if t += g.lognormal(40*time.Minute, 1.5); !g.chance(0.55) || t >= end {
		return l
	}
	r := g.rate(l.ch.scale, 1, t)
	l.ratings = append(l.ratings, r)
	if r.Unhappy && g.chance(0.35) {
		if t2 := t + g.lognormal(6*time.Hour, 0.8); t2 < end {
			// Reopened, resolved again, and the customer now satisfied: a recovery.
			l.recovered, l.round, t = 1, 2, t2
			l.ratings = append(l.ratings, bot.Rating{Round: 2, Scale: l.ch.scale, Score: satisfiedScore(l.ch.scale),
				Satisfied: true, Recovery: true, At: time.UnixMilli(t2).UTC()})
		}
	}
	for _, r := range l.ratings {
		l.reach("rated")
		if r.Satisfied {
			l.reach("satisfied")
		}
	}
	g.share(l, l.ratings[len(l.ratings)-1], t+1000, g.experimentAt(opened, end), l.ch.platform+":"+l.customerID)
	if ct := t + 24*3600*1000; ct < end {
		l.closedAt, l.status = ct, bot.StatusClosed
	}
	return l
}

// Experiments is what the generated communities test on their share
// prompt: the delay in the year before the last half year (stopped since),
// the wording in the last half year (running).
func Experiments() []bot.Experiment {
	return []bot.Experiment{
		{Name: "prompt wording", Variants: []bot.Variant{
			{Name: "plain", Weight: 1},
			{Name: "warm", Weight: 1, Prompt: "Would you tell others how {{.Brand}} helped you?"},
		}},
		{Name: "delay", Stopped: true, Variants: []bot.Variant{
			{Name: "at once", Weight: 1},
			{Name: "next day", Weight: 1, Delay: bot.Duration(24 * time.Hour)},
		}},
	}
}

// experimentAt is the experiment running when a case opened at opened (Unix
// ms) was rated, or nil.
func (g *generator) experimentAt(opened, end int64) *bot.Experiment {
	const halfYear = 182 * dayMs
	switch {
	case opened >= end-halfYear:
		return &g.experiments[0]
	case opened >= end-3*halfYear:
		return &g.experiments[1]
	}
	return nil
}

// share offers the share targets the rating allows, from at, and plays out
// the customer's choice; in an experiment, the person's variant is recorded
// and the warm wording and the next day's prompt are clicked a little more.
func (g *generator) share(l *life, r bot.Rating, at int64, e *bot.Experiment, person string) {
	var v *bot.Variant
	click := 0.3
	if e != nil {
		v = e.Assign(person)
		if v.Name == "warm" || v.Name == "next day" {
			click = 0.33
		}
	}
	for _, tg := range g.targets {
		if tg.policy == bot.PolicySatisfied && !r.Satisfied || !g.chance(0.9) {
			continue
		}
		g.offerID++
		o := offer{id: g.offerID, target: tg.name, kind: tg.kind, policy: tg.policy, text: tg.text,
			state: bot.OfferOffered, post: "{}", round: r.Round, at: at}
		if tg.kind == bot.TargetReviewLink {
			o.url = "https://www.trustpilot.com/evaluate/example.com"
		}
		if v != nil {
			o.experiment, o.variant = e.Name, v.Name
		}
		l.reach("offered")
		switch {
		case g.chance(click):
			o.clicked, o.state = true, bot.OfferClicked
			l.reach("clicked")
			if tg.kind != bot.TargetCommunityPost || !g.chance(0.7) {
				break
			}
			o.shared, o.state, o.sharedAt = true, bot.OfferShared, at+60000
			msg := messageID(l.ch.platform, at+60000)
			o.post = fmt.Sprintf(`{"platform":%q,"channel":"showcase","message":%q}`, l.ch.platform, msg)
			l.reach("shared")
			if g.chance(0.03) {
				o.state = bot.OfferWithdrawn
			}
			chooseWall(&o, l.customerID)
		case g.chance(0.2):
			o.state = bot.OfferDeclined
		}
		l.offers = append(l.offers, o)
	}
}

// chooseWall has two in five customers who shared choose the wall too, half
// of them under a name, and puts the post on the wall unless it was
// withdrawn. The choice follows from the offer's ID, not the random source,
// so the rest of the database is what Version 3 generated.
func chooseWall(o *offer, customerID string) {
	if o.id%5 >= 2 {
		return
	}
	o.wall = true
	if o.id%10 < 2 {
		o.wallName = "Customer " + customerID[1:]
	}
	if o.state == bot.OfferShared {
		o.wallAt = o.sharedAt.(int64) + 1000
	}
}

// oneCase generates a case and writes it with its ratings and offers.
func (g *generator) oneCase(ctx context.Context, id, opened, end int64) error {
	l := g.live(opened, end)
	p := l.ch.platform
	customer := fmt.Sprintf(`{"platform":%q,"id":%q,"name":"Customer %s"}`, p, l.customerID, l.customerID[1:])
	// Message and thread IDs grow with time, as Slack timestamps and Discord
	// snowflakes do.
	msg := messageID(p, opened)
	pub := fmt.Sprintf(`{"platform":%q,"channel":%q,"message":%q}`, p, l.ch.name, msg)
	priv := fmt.Sprintf(`{"platform":%q,"channel":"D%s"}`, p, l.customerID)
	staffRef := fmt.Sprintf(`{"platform":%q,"channel":"staff-cases","thread":%q}`, p, messageID(p, opened+5000))
	err := g.cases.add(ctx, id, p, customer, string(l.status), pub, priv, staffRef, l.assignee, "",
		l.round, opened, l.firstAt, l.resolvedAt, l.closedAt, l.stages, l.recovered, l.ch.name, isoWeek(opened))
	if err != nil {
		return err
	}
	first, resolve := int64(-1), int64(-1)
	if t, ok := l.firstAt.(int64); ok {
		first = t - opened
	}
	if t, ok := l.resolvedAt.(int64); ok {
		resolve = t - opened
	}
	if err := g.roll.add(l, opened, first, resolve); err != nil {
		return err
	}
	for _, r := range l.ratings {
		err := g.ratings.add(ctx, id, r.Round, string(r.Scale), r.Score, boolInt(r.Satisfied),
			boolInt(r.Unhappy), boolInt(r.Recovery), "", r.At.UnixMilli())
		if err != nil {
			return err
		}
	}
	for _, o := range l.offers {
		err := g.offers.add(ctx, o.id, id, o.round, o.target, o.kind, o.policy, o.text, o.url,
			o.state, o.post, o.at, o.sharedAt, boolInt(o.clicked), boolInt(o.shared),
			boolInt(o.wall), o.wallName, o.wallAt, o.experiment, o.variant)
		if err != nil {
			return err
		}
	}
	return nil
}

// rate draws a rating on scale for round at t (Unix ms): mostly satisfied.
func (g *generator) rate(scale bot.Scale, round int, t int64) bot.Rating {
	r := bot.Rating{Round: round, Scale: scale, At: time.UnixMilli(t).UTC()}
	switch p := g.rng.Float64(); {
	case p < 0.72:
		r.Score, r.Satisfied = satisfiedScore(scale)-g.rng.IntN(2), true
	case p < 0.88:
		r.Score = neutralScore(scale)
		if scale == bot.NPS {
			r.Score -= g.rng.IntN(2)
		}
	default:
		r.Score, r.Unhappy = 1+g.rng.IntN(2), true
		if scale == bot.NPS {
			r.Score = g.rng.IntN(7)
		}
	}
	return r
}

// satisfiedScore is the scale's top score; neutralScore one just below satisfied.
func satisfiedScore(s bot.Scale) int {
	switch s {
	case bot.NPS:
		return 10
	case bot.CES:
		return 7
	}
	return 5
}

func neutralScore(s bot.Scale) int {
	switch s {
	case bot.NPS:
		return 8
	case bot.CES:
		return 4
	}
	return 3
}

// messageID is a plausible ID for a message posted at ms (Unix milliseconds):
// a Slack timestamp or a Discord snowflake.
func messageID(platform string, ms int64) string {
	if platform == bot.Discord {
		return strconv.FormatInt((ms-1420070400000)<<22, 10)
	}
	return fmt.Sprintf("%d.%06d", ms/1000, ms%1000*1000)
}

// isoWeek names the ISO 8601 week of a Unix millisecond time, as "2026-W47".
func isoWeek(ms int64) string {
	year, week := time.UnixMilli(ms).UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", year, week)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxVars is how many bound values one statement may carry (SQLite's default
// SQLITE_MAX_VARIABLE_NUMBER is 32766).
const maxVars = 32000

// inserter batches rows into multi-row INSERTs of one prepared shape.
type inserter struct {
	tx     *sql.Tx
	head   string
	cols   int
	rows   int // rows per full statement
	args   []any
	stmt   *sql.Stmt
	values string
}

func newInserter(tx *sql.Tx, head string, cols int) *inserter {
	return &inserter{tx: tx, head: head, cols: cols, rows: maxVars / cols}
}

func (in *inserter) add(ctx context.Context, vals ...any) error {
	if len(vals) != in.cols {
		return fmt.Errorf("insert: %d values for %d columns", len(vals), in.cols)
	}
	in.args = append(in.args, vals...)
	if len(in.args) < in.rows*in.cols {
		return nil
	}
	if in.stmt == nil {
		stmt, err := in.tx.PrepareContext(ctx, in.sql(in.rows))
		if err != nil {
			return err
		}
		in.stmt = stmt
	}
	if _, err := in.stmt.ExecContext(ctx, in.args...); err != nil {
		return err
	}
	in.args = in.args[:0]
	return nil
}

func (in *inserter) flush(ctx context.Context) error {
	var err error
	if n := len(in.args) / in.cols; n > 0 {
		_, err = in.tx.ExecContext(ctx, in.sql(n), in.args...)
		in.args = in.args[:0]
	}
	if in.stmt != nil {
		err = errors.Join(err, in.stmt.Close())
		in.stmt = nil
	}
	return err
}

func (in *inserter) sql(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", in.cols), ", ") + ")"
	return in.head + strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// withoutIndexes drops the secondary indexes, runs fill, and creates them
// again from their own definitions: sorting each index once is faster than
// inserting into it row by row, customer IDs arriving in no order.
func withoutIndexes(ctx context.Context, conn *sql.DB, fill func() error) error {
	return withoutSchema(ctx, conn, "index", fill)
}
