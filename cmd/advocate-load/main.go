// Command advocate-load measures the real advocate binary under load. It
// starts loopback fake platforms (slackfake, discordfake), runs the bot
// against them as a separate process, and plays simulated customers and a
// staff member through conversations, all at once. It reports throughput,
// acknowledgement latency, outbox lag, the bot's peak resident memory and the
// rate limiting the platforms applied.
//
// Modes:
//
//	full   every customer asks, staff answer and resolve, the customer rates 5
//	       and posts a testimonial through the preview (the whole funnel)
//	open   every customer asks and the case stays open; the bot's memory is
//	       read once all are open and again after -settle (for 10,000 open cases)
//	burst  every customer asks at once; the run ends when every case's intake
//	       is posted, and is compared with the shortest time the platform's
//	       posting limit allows
//
// Usage:
//
//	go run ./cmd/advocate-load -customers 100 -platform slack -pacing 1s
//	go run ./cmd/advocate-load -mode open -customers 10000
//	go run ./cmd/advocate-load -mode burst -customers 500 -pacing 1s
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
	_ "modernc.org/sqlite" // the "sqlite" driver, to count cases in open mode
)

// slackBotPacing is the Slack adapter's default pace, one chat.postMessage
// per channel per second (slack.post_interval's default).
const slackBotPacing = time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == floorCommand {
		os.Exit(ackOnly(ctx, os.Args[2:], os.Stderr))
	}
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line.
type options struct {
	bin         string
	customers   int
	platform    string
	mode        string
	pacing      time.Duration
	postEvery   time.Duration
	duration    time.Duration
	concurrency int
	rate        float64
	settle      time.Duration
	pulse       time.Duration
	patience    time.Duration
	progress    time.Duration
	dir         string
	jsonOut     bool
	storeURL    string
	instances   int
	floor       bool   // against a bot that only acknowledges (floor.go)
	selfProfile string // the load tool's own CPU profile
	// profiles are run's profiling flags and the files to give them
	profiles map[string]*string
}

// profileFlags are the profiling flags passed through to `advocate run`.
var profileFlags = []string{"cpuprofile", "trace", "blockprofile", "mutexprofile"}

// runArgs are the profiling flags for `advocate run`.
func (o options) runArgs() []string {
	var args []string
	for _, name := range profileFlags {
		if p := o.profiles[name]; p != nil && *p != "" {
			args = append(args, "--"+name, *p)
		}
	}
	return args
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("advocate-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "", "the advocate binary (default: build ./cmd/advocate of the module around the working directory)")
	fs.IntVar(&o.customers, "customers", 100, "simulated customers per platform, all at once")
	fs.StringVar(&o.platform, "platform", "slack", "slack, discord or both")
	fs.StringVar(&o.mode, "mode", "full", "full (whole conversations), open (open cases and read memory) or burst (new cases at once vs the posting limit)")
	fs.DurationVar(&o.pacing, "pacing", time.Second, "the fake platforms' posting limit per channel: Slack one chat.postMessage per this, Discord 5 messages per 5× this (0: Slack unlimited, Discord's fake default 5/s)")
	fs.DurationVar(&o.postEvery, "post-interval", 0, "the bot's slack.post_interval, its own pace per channel (default: advocate's, one post per second); give it with a shorter -pacing to run many Slack conversations in less time")
	fs.DurationVar(&o.duration, "duration", 30*time.Minute, "stop the run after this long")
	fs.IntVar(&o.concurrency, "concurrency", 0, "customers active at once (default: all of them; 200 in open mode without -rate)")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: customers start at this many per second, whether or not the bot keeps up (0: as fast as -concurrency lets them)")
	fs.DurationVar(&o.settle, "settle", 10*time.Second, "open mode: how long the bot keeps running after the last case opened before its memory is read again")
	fs.DurationVar(&o.pulse, "pulse", 0, "how often the simulated people look for the bot's answers (default: 20 ms, 100 ms above 200 customers)")
	fs.DurationVar(&o.patience, "patience", 0, "Discord: how long a customer whose question has no answer waits, while the bot posts nothing in the support channel, before asking again (default 15s)")
	fs.DurationVar(&o.progress, "progress", 30*time.Second, "print progress to stderr this often (0: never)")
	fs.StringVar(&o.dir, "dir", "", "keep the configuration, database and log here (default: a temporary directory, removed)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.StringVar(&o.storeURL, "store-url", "", "run the bot on this PostgreSQL database (store.driver postgres; it must be empty) instead of a SQLite file")
	fs.IntVar(&o.instances, "instances", 1, "advocate processes sharing the database (more than 1: Slack only, with -store-url)")
	fs.BoolVar(&o.floor, "floor", false, "measure the floor: run the load against a bot that only acknowledges (this tool itself, over the same slack-go client), for -platform slack -mode open")
	fs.StringVar(&o.selfProfile, "selfprofile", "", "write the load tool's own CPU profile (the fakes and the simulated people) to this file")
	o.profiles = map[string]*string{}
	for _, name := range profileFlags {
		o.profiles[name] = fs.String(name, "", "the bot's -"+name+" (advocate run --"+name+"): written to this file")
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.customers <= 0:
		return o, errors.New("-customers must be positive")
	case o.platform != "slack" && o.platform != "discord" && o.platform != "both":
		return o, fmt.Errorf("-platform %q: want slack, discord or both", o.platform)
	case o.mode != "full" && o.mode != "open" && o.mode != "burst":
		return o, fmt.Errorf("-mode %q: want full, open or burst", o.mode)
	case o.rate < 0:
		return o, errors.New("-rate must not be negative")
	case o.pacing < 0 || o.postEvery < 0 || o.patience < 0 || o.duration <= 0:
		return o, errors.New("-pacing, -post-interval and -patience must not be negative and -duration must be positive")
	case o.instances < 1 || (o.instances > 1 && (o.storeURL == "" || o.platform != "slack")):
		return o, errors.New("-instances: at least 1; more than 1 needs -store-url and -platform slack")
	case o.floor && (o.platform != "slack" || o.mode != "open" || o.bin != "" || o.storeURL != "" || o.instances > 1):
		return o, errors.New("-floor: with -platform slack -mode open only, and without -bin, -store-url or -instances")
	case o.storeURL != "" && o.mode == "open" && o.platform != "slack":
		return o, errors.New("-store-url: open mode with Discord waits on the SQLite file; use -platform slack")
	}
	if o.concurrency <= 0 {
		o.concurrency = o.customers
		if o.mode == "open" && o.rate == 0 {
			o.concurrency = min(o.customers, 200)
		}
	}
	if o.pulse <= 0 {
		o.pulse = 20 * time.Millisecond
		if o.customers > 200 {
			o.pulse = 100 * time.Millisecond
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "advocate-load:", err)
		}
		return 2
	}
	if o.selfProfile != "" {
		f, err := os.Create(o.selfProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "advocate-load:", err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	rep, err := load(ctx, o, stderr)
	if rep != nil {
		if o.jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		} else {
			rep.print(stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "advocate-load:", err)
		return 1
	}
	return 0
}

// platformRun is one platform's fake and its customers.
type platformRun struct {
	name    string
	rec     *sim.Recorder
	slack   *sim.Slack
	discord *sim.Discord
	done    []time.Time // when each customer's scenario ended (zero: it did not)
	errs    []error
	asked   []asked  // each customer's question
	intake  sim.Dist // open mode: question → case opened
}

// load runs the scenario and measures it.
func load(ctx context.Context, o options, stderr io.Writer) (*report, error) {
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "advocate-load-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin := o.bin
	if o.floor {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("-floor: %w", err)
		}
		bin = self
	} else if bin == "" {
		root, err := sim.ModuleRoot(".")
		if err != nil {
			return nil, fmt.Errorf("%w (or give -bin)", err)
		}
		bin = filepath.Join(dir, "advocate")
		fmt.Fprintln(stderr, "advocate-load: building ./cmd/advocate")
		if err := sim.Build(ctx, root, bin); err != nil {
			return nil, err
		}
	}

	cfg := sim.Config{StorePath: filepath.Join(dir, "advocate.db"), StoreURL: o.storeURL}
	var runs []*platformRun
	if o.platform == "slack" || o.platform == "both" {
		var fopts []slackfake.Option
		if o.pacing > 0 {
			fopts = append(fopts, slackfake.WithPostPacing(o.pacing))
		}
		r := &platformRun{name: "slack", rec: sim.NewRecorder()}
		r.slack = sim.NewSlack(sim.SlackOptions{Fake: fopts, Pulse: o.pulse, Recorder: r.rec})
		defer r.slack.Close()
		cfg.Slack = r.slack.BotConfig()
		cfg.Slack.PostInterval = o.postEvery
		runs = append(runs, r)
	}
	if o.platform == "discord" || o.platform == "both" {
		var fopts discordfake.Options
		if o.pacing > 0 {
			fopts.MessageLimit = discordfake.Limit{Requests: 5, Window: 5 * o.pacing}
		}
		r := &platformRun{name: "discord", rec: sim.NewRecorder()}
		r.discord = sim.NewDiscord(sim.DiscordOptions{Fake: fopts, Pulse: o.pulse, Recorder: r.rec, Patience: o.patience})
		defer r.discord.Close()
		cfg.Discord = r.discord.BotConfig()
		runs = append(runs, r)
	}
	cfgPath := filepath.Join(dir, "advocate.yaml")
	if err := sim.WriteConfig(cfgPath, cfg); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "advocate.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// Several instances share the database (and the log file); the first
	// one is profiled.
	var procs []*sim.Process
	for i := range o.instances {
		var args []string
		if i == 0 {
			args = o.runArgs()
		}
		p, err := sim.Start(bin, cfgPath, logf, args...)
		if err != nil {
			return nil, err
		}
		defer p.Kill()
		procs = append(procs, p)
	}
	proc := procs[0]

	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	go func() { // a bot that exits ends the run
		select {
		case <-proc.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	for _, r := range runs {
		var err error
		if r.slack != nil {
			err = r.slack.Fake.WaitUntil(ctx, func() bool { return r.slack.Fake.ActiveConnections() >= o.instances })
		} else {
			err = r.discord.WaitConnected(ctx)
		}
		if err != nil {
			return nil, err
		}
	}
	if r := findRun(runs, "discord"); r != nil {
		// the bot registers its commands after READY; give it a moment
		time.Sleep(500 * time.Millisecond)
	}

	rep := &report{
		Command: "advocate-load " + strings.Join(os.Args[1:], " "), Mode: o.mode, Platform: o.platform,
		Customers: o.customers, Concurrency: o.concurrency, Rate: o.rate, Pacing: o.pacing.String(), PostInterval: o.botPacing().String(), Dir: dir,
		LoadBefore: loadAvg(),
	}
	start := time.Now()
	botCPU0, _ := proc.CPU()
	toolCPU0 := selfCPU()
	var finished atomic.Int64
	progressDone := make(chan struct{})
	defer close(progressDone)
	go progress(stderr, o.progress, start, &finished, len(runs)*o.customers, progressDone)
	var wg sync.WaitGroup
	for _, r := range runs {
		r.done, r.errs = make([]time.Time, o.customers), make([]error, o.customers)
		r.asked = make([]asked, o.customers)
		sem := make(chan struct{}, o.concurrency)
		for i := range o.customers {
			wg.Go(func() {
				if o.rate > 0 && !sleepUntil(ctx, start.Add(time.Duration(float64(i)*float64(time.Second)/o.rate))) {
					r.errs[i] = ctx.Err()
					return
				}
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					r.errs[i] = ctx.Err()
					return
				}
				defer func() { <-sem }()
				if r.errs[i] = play(ctx, r, i, o.mode); r.errs[i] == nil {
					r.done[i] = time.Now()
					finished.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if o.mode == "open" && o.storeURL == "" && !o.floor && ctx.Err() == nil {
		// Discord acknowledges no message, and Slack's acknowledgement may
		// come before the decision: wait for the cases themselves
		if err := waitCases(ctx, cfg.StorePath, len(runs)*o.customers); err != nil {
			return rep, err
		}
		for _, r := range runs {
			d, err := intakeLatency(ctx, cfg.StorePath, r.name, r.asked)
			if err != nil {
				return rep, err
			}
			r.intake = d
		}
	}
	elapsed := time.Since(start)
	if isDone(proc.Done()) {
		return rep, fmt.Errorf("advocate exited during the run: %v (log in %s)", proc.Err(), dir)
	}
	mem, err := proc.Memory()
	if err != nil {
		return rep, err
	}
	rep.RSSAtEndMB, rep.PeakRSSMB = mb(mem.RSS), mb(mem.Peak)
	if cpu, err := proc.CPU(); err == nil {
		rep.BotCPUSeconds = (cpu - botCPU0).Seconds()
	}
	rep.ToolCPUSeconds = (selfCPU() - toolCPU0).Seconds()
	if o.mode == "open" && ctx.Err() == nil {
		t := time.NewTimer(o.settle)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		if mem, err := proc.Memory(); err == nil {
			rep.RSSSettledMB, rep.PeakRSSMB = mb(mem.RSS), mb(mem.Peak)
		}
	}
	rep.LoadAfter = loadAvg()
	for _, r := range runs {
		rep.Platforms = append(rep.Platforms, r.summary(o, start, elapsed))
	}
	for _, p := range procs {
		if err := p.Stop(30 * time.Second); err != nil && rep.StopError == "" {
			rep.StopError = err.Error()
		}
	}
	if fi, err := os.Stat(cfg.StorePath); err == nil {
		rep.DatabaseMB = mb(fi.Size())
	}
	var failed int
	var first error
	for _, r := range runs {
		for _, err := range r.errs {
			if err != nil {
				failed++
				if first == nil {
					first = err
				}
			}
		}
	}
	if failed > 0 {
		return rep, fmt.Errorf("%d customers did not finish; first: %w", failed, first)
	}
	return rep, nil
}

// progress prints how many customers finished, every interval, until done.
func progress(w io.Writer, every time.Duration, start time.Time, finished *atomic.Int64, total int, done <-chan struct{}) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			fmt.Fprintf(w, "advocate-load: %s: %d of %d customers done\n", time.Since(start).Round(time.Second), finished.Load(), total)
		}
	}
}

// waitCases polls the bot's database, read-only, until it holds n cases.
func waitCases(ctx context.Context, path string, n int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		var got int
		err := db.QueryRowContext(ctx, "SELECT count(*) FROM cases").Scan(&got)
		if err == nil && got >= n {
			return nil
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for %d cases, %d so far: %w", n, got, ctx.Err())
		case <-t.C:
		}
	}
}

func findRun(runs []*platformRun, name string) *platformRun {
	for _, r := range runs {
		if r.name == name {
			return r
		}
	}
	return nil
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// sleepUntil waits until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// asked is when a customer posted their question, and who they are.
type asked struct {
	user string
	at   time.Time
}

// intakeLatency is the time from each question to its case's opening in the
// bot's database (opened_at, milliseconds; the commit follows in the same
// group commit): for Discord, where a message has no acknowledgement, and for
// Slack, where the acknowledgement may come before the decision.
func intakeLatency(ctx context.Context, path, platform string, qs []asked) (sim.Dist, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return sim.Dist{}, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "SELECT customer_id, min(opened_at) FROM cases WHERE platform = ? GROUP BY customer_id", platform)
	if err != nil {
		return sim.Dist{}, fmt.Errorf("read cases: %w", err)
	}
	defer rows.Close()
	opened := map[string]time.Time{}
	for rows.Next() {
		var user string
		var ms int64
		if err := rows.Scan(&user, &ms); err != nil {
			return sim.Dist{}, err
		}
		opened[user] = time.UnixMilli(ms)
	}
	if err := rows.Err(); err != nil {
		return sim.Dist{}, err
	}
	var ds []time.Duration
	for _, q := range qs {
		if at, ok := opened[q.user]; ok && !q.at.IsZero() {
			ds = append(ds, max(0, at.Sub(q.at)))
		}
	}
	return sim.Summarize(ds), nil
}

// customer is one simulated customer's conversation, on either platform.
type customer interface {
	PostQuestion(ctx context.Context) error
	Ask(ctx context.Context) error
	AwaitStaff(ctx context.Context) error
	Full(ctx context.Context) error
}

// play runs customer i's scenario for the mode.
func play(ctx context.Context, r *platformRun, i int, mode string) error {
	var c customer
	if r.slack != nil {
		sc := r.slack.Conversation(i)
		defer func() {
			if len(sc.Steps) > 0 {
				r.asked[i] = asked{user: sc.User, at: sc.Steps[0].Queued}
			}
		}()
		c = sc
	} else {
		dc := r.discord.Conversation(i)
		defer func() { r.asked[i] = asked{user: dc.User, at: dc.Asked()} }()
		c = dc
	}
	switch mode {
	case "open":
		return c.PostQuestion(ctx)
	case "burst":
		if err := c.Ask(ctx); err != nil {
			return err
		}
		return c.AwaitStaff(ctx)
	}
	return c.Full(ctx)
}

func mb(b int64) float64 { return float64(b*10/(1<<20)) / 10 }
