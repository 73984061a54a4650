package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/advocate-bot/advocate/adapters/discord/discordfake"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
)

// report is what a run measured.
type report struct {
	Command     string `json:"command"`
	Mode        string `json:"mode"`
	Platform    string `json:"platform"`
	Customers   int    `json:"customers"`
	Concurrency int    `json:"concurrency"`
	// Rate is the customers started per second (open loop), 0 without -rate.
	Rate   float64 `json:"rate,omitempty"`
	Pacing string  `json:"pacing"`
	// PostInterval is the bot's own pace per Slack channel.
	PostInterval string  `json:"post_interval"`
	Dir          string  `json:"dir"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	RSSAtEndMB   float64 `json:"rss_at_end_mb"`
	// RSSSettledMB is the open mode's resident memory after -settle.
	RSSSettledMB float64 `json:"rss_settled_mb,omitempty"`
	DatabaseMB   float64 `json:"database_mb"`
	// BotCPUSeconds is the processor time the bot used from the first
	// customer to the last (user and system); ToolCPUSeconds the load tool's
	// own (the fakes and the simulated people), which shares the machine.
	BotCPUSeconds  float64 `json:"bot_cpu_seconds"`
	ToolCPUSeconds float64 `json:"tool_cpu_seconds"`
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end: the
	// machine may be shared.
	LoadBefore string            `json:"load_before"`
	LoadAfter  string            `json:"load_after"`
	StopError  string            `json:"stop_error,omitempty"`
	Platforms  []platformSummary `json:"platforms"`
}

// platformSummary is one platform's share of a run.
type platformSummary struct {
	Name      string `json:"name"`
	Completed int    `json:"completed"`
	// Seconds is the run's length; LastDoneSeconds when the last customer
	// finished.
	Seconds             float64 `json:"seconds"`
	LastDoneSeconds     float64 `json:"last_done_seconds"`
	ConversationsPerSec float64 `json:"conversations_per_sec"`
	// Steps are the acknowledged steps of people (messages and clicks on
	// Slack, interactions on Discord, whose messages have no acknowledgement).
	Steps       int     `json:"steps"`
	StepsPerSec float64 `json:"steps_per_sec"`
	// Envelopes counts every Socket Mode envelope the fake sent and was
	// acknowledged, the bot's own message echoes included (Slack only).
	Envelopes       int     `json:"envelopes,omitempty"`
	EnvelopesPerSec float64 `json:"envelopes_per_sec,omitempty"`
	Redelivered     int     `json:"redelivered,omitempty"`
	Resent          int     `json:"resent,omitempty"`
	Ack             dist    `json:"ack"`
	// Acks is Ack per kind of step.
	Acks []kindDist `json:"acks,omitempty"`
	// Intake is question → case opened (open mode): a Discord message has
	// no acknowledgement, and Slack's may come before the decision.
	Intake      *dist      `json:"intake,omitempty"`
	Lag         dist       `json:"lag"`
	Lags        []kindDist `json:"lags"`
	RateLimited int        `json:"rate_limited"`
	Burst       *burst     `json:"burst,omitempty"`
	// AskedAgain counts Discord questions posted again by customers who saw
	// no answer to the first.
	AskedAgain int64 `json:"asked_again,omitempty"`
	// Calls are Discord's REST requests by route, most first.
	Calls []routeCalls `json:"calls,omitempty"`
}

// routeCalls is the REST requests a run made on one route, in all and per
// completed conversation, and how many of them were answered 429 (the
// route's own bucket, or for RouteGlobal the global limit).
type routeCalls struct {
	Route           string  `json:"route"`
	Calls           int     `json:"calls"`
	PerConversation float64 `json:"per_conversation"`
	RateLimited     int     `json:"rate_limited,omitempty"`
}

// callsByRoute orders calls by route, most first, each also divided by the
// completed conversations (when there are any).
func callsByRoute(calls map[string]int, completed int) []routeCalls {
	var out []routeCalls
	for route, n := range calls {
		rc := routeCalls{Route: route, Calls: n}
		if completed > 0 {
			rc.PerConversation = float64(n) / float64(completed)
		}
		out = append(out, rc)
	}
	slices.SortFunc(out, func(a, b routeCalls) int {
		if a.Calls != b.Calls {
			return b.Calls - a.Calls
		}
		return strings.Compare(a.Route, b.Route)
	})
	return out
}

// burst compares a burst's completion with what the posting limits allow.
type burst struct {
	// BusiestChannel is the channel with the most intake posts, and Posts
	// how many it gets.
	BusiestChannel string `json:"busiest_channel"`
	Posts          int    `json:"posts"`
	// MinSeconds is the shortest completion at the fake platform's limit, 0
	// when it has none; BotMinSeconds at the bot's own pace (Slack: one post
	// per channel per second).
	MinSeconds    float64 `json:"min_seconds"`
	BotMinSeconds float64 `json:"bot_min_seconds,omitempty"`
	// Ratio is the completion over the larger of the two minimums.
	Ratio float64 `json:"ratio"`
}

// dist is a sim.Dist in milliseconds.
type dist struct {
	N     int     `json:"n"`
	P50ms float64 `json:"p50_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

type kindDist struct {
	Kind string `json:"kind"`
	dist
}

func toDist(d sim.Dist) dist {
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return dist{N: d.N, P50ms: ms(d.P50), P99ms: ms(d.P99), MaxMs: ms(d.Max)}
}

func (d dist) String() string {
	if d.N == 0 {
		return "no samples"
	}
	f := func(ms float64) string {
		if ms >= 1000 {
			return fmt.Sprintf("%.2f s", ms/1000)
		}
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", f(d.P50ms), f(d.P99ms), f(d.MaxMs), d.N)
}

// summary measures a platform's run.
func (r *platformRun) summary(o options, start time.Time, elapsed time.Duration) platformSummary {
	s := platformSummary{Name: r.name, Seconds: elapsed.Seconds()}
	var last time.Time
	for _, d := range r.done {
		if !d.IsZero() {
			s.Completed++
			if d.After(last) {
				last = d
			}
		}
	}
	if !last.IsZero() {
		s.LastDoneSeconds = last.Sub(start).Seconds()
	}
	per := func(n int) float64 { return float64(n) / elapsed.Seconds() }
	s.ConversationsPerSec = per(s.Completed)
	for _, n := range r.rec.Steps() {
		s.Steps += n
	}
	s.StepsPerSec = per(s.Steps)
	s.Resent = r.rec.Resends()
	if r.intake.N > 0 {
		d := toDist(r.intake)
		s.Intake = &d
	}
	s.Ack, s.Lag = toDist(r.rec.Acks()), toDist(r.rec.AllLags())
	for k, d := range r.rec.AcksByKind() {
		s.Acks = append(s.Acks, kindDist{Kind: k, dist: toDist(d)})
	}
	slices.SortFunc(s.Acks, func(a, b kindDist) int { return strings.Compare(a.Kind, b.Kind) })
	lags := r.rec.Lags()
	for _, k := range r.rec.LagKinds() {
		s.Lags = append(s.Lags, kindDist{Kind: k, dist: toDist(lags[k])})
	}
	n := o.customers
	switch {
	case r.slack != nil:
		for _, e := range r.slack.Fake.Envelopes() {
			if e.Acked {
				s.Envelopes++
			}
			if e.Deliveries > 1 {
				s.Redelivered++
			}
		}
		s.EnvelopesPerSec = per(s.Envelopes)
		s.RateLimited = r.slack.Fake.RateLimited()
		if o.mode == "burst" {
			b := slackBurst(n, o.pacing, o.botPacing())
			b.Ratio = s.LastDoneSeconds / max(b.MinSeconds, b.BotMinSeconds)
			s.Burst = &b
		}
	case r.discord != nil:
		s.RateLimited = r.discord.Fake.RateLimited()
		s.AskedAgain = r.discord.AskedAgain()
		s.Calls = callsByRoute(r.discord.Fake.CallsByRoute(), s.Completed)
		for i := range s.Calls {
			s.Calls[i].RateLimited = r.discord.Fake.RateLimitedCalls(s.Calls[i].Route)
		}
		if n := r.discord.Fake.RateLimitedCalls(discordfake.RouteGlobal); n > 0 {
			s.Calls = append(s.Calls, routeCalls{Route: "global limit", RateLimited: n})
		}
		if o.mode == "burst" {
			b := discordBurst(n, o.pacing)
			if b.MinSeconds > 0 {
				b.Ratio = s.LastDoneSeconds / b.MinSeconds
			}
			s.Burst = &b
		}
	}
	return s
}

// slackBurst is the shortest intake of n new cases on Slack: the staff
// channel gets each case's root and controls, one post per pacing at the
// platform's limit and one per second at the bot's own pace.
func slackBurst(n int, pacing, bot time.Duration) burst {
	b := burst{BusiestChannel: "staff", Posts: 2 * n}
	b.MinSeconds = float64(b.Posts-1) * pacing.Seconds()
	b.BotMinSeconds = float64(b.Posts-1) * bot.Seconds()
	return b
}

// botPacing is the bot's own pace per Slack channel in this run.
func (o options) botPacing() time.Duration {
	if o.postEvery > 0 {
		return o.postEvery
	}
	return slackBotPacing
}

// discordBurst is the shortest intake of n new cases on Discord: the support
// channel gets each case's public reply, five per five pacings after the
// first five (thread creations there have a route bucket of their own). With
// no pacing the fake's default limit applies and no minimum is computed.
func discordBurst(n int, pacing time.Duration) burst {
	b := burst{BusiestChannel: "support", Posts: n}
	if pacing > 0 {
		b.MinSeconds = float64(max(0, n-5)) * pacing.Seconds()
	}
	return b
}

// print writes the report for people.
func (r *report) print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("advocate-load: mode %s, %s, %d customers per platform (%d at once), fake pacing %s per channel", r.Mode, r.Platform, r.Customers, r.Concurrency, r.Pacing)
	if r.Rate > 0 {
		p("  open loop: %g customers started per second", r.Rate)
	}
	p("  command: %s", r.Command)
	for _, s := range r.Platforms {
		p("%s:", s.Name)
		p("  completed:      %d of %d in %.1f s (last at %.1f s): %.2f per second", s.Completed, r.Customers, s.Seconds, s.LastDoneSeconds, s.ConversationsPerSec)
		p("  steps acked:    %d (%.2f/s)", s.Steps, s.StepsPerSec)
		if s.Envelopes > 0 {
			p("  envelopes:      %d acknowledged (%.2f/s), bot's own echoes included; %d redelivered; %d clicks repeated", s.Envelopes, s.EnvelopesPerSec, s.Redelivered, s.Resent)
		}
		p("  ack latency:    %s", s.Ack)
		if len(s.Acks) > 1 {
			for _, k := range s.Acks {
				p("    %-28s %s", k.Kind, k.dist)
			}
		}
		if s.Intake != nil {
			p("  ask → case opened: %s", *s.Intake)
		}
		p("  outbox lag:     %s", s.Lag)
		for _, k := range s.Lags {
			p("    %-28s %s", k.Kind, k.dist)
		}
		p("  rate limited:   %d responses (429)", s.RateLimited)
		if s.Name == "discord" {
			p("  asked again:    %d questions (no answer seen to the first)", s.AskedAgain)
		}
		if len(s.Calls) > 0 {
			var total int
			for _, c := range s.Calls {
				total += c.Calls
			}
			p("  REST calls:     %d (%.1f per completed conversation); route, calls, per conversation, 429s", total, float64(total)/float64(max(s.Completed, 1)))
			for _, c := range s.Calls {
				p("    %-62s %6d  %5.2f  %d", c.Route, c.Calls, c.PerConversation, c.RateLimited)
			}
		}
		if b := s.Burst; b != nil {
			p("  burst:          %d intake posts in the %s channel; minimum %.0f s at the platform's limit, %.0f s at the bot's own pace; completion %.1f s = %.2f× the minimum",
				b.Posts, b.BusiestChannel, b.MinSeconds, b.BotMinSeconds, s.LastDoneSeconds, b.Ratio)
		}
	}
	p("bot process:")
	p("  peak RSS (VmHWM): %.1f MB; RSS at the end %.1f MB", r.PeakRSSMB, r.RSSAtEndMB)
	if r.RSSSettledMB > 0 {
		p("  RSS after settling: %.1f MB", r.RSSSettledMB)
	}
	p("  database: %.1f MB", r.DatabaseMB)
	p("  CPU during the run: bot %.1f s%s; load tool %.1f s", r.BotCPUSeconds, r.perStep(), r.ToolCPUSeconds)
	p("machine load (1, 5, 15 min): %s at the start, %s at the end", r.LoadBefore, r.LoadAfter)
	if r.StopError != "" {
		p("  stop: %s", r.StopError)
	}
	if strings.TrimSpace(r.Dir) != "" {
		p("  files: %s", r.Dir)
	}
}

// perStep is the bot's CPU time per acknowledged step and per envelope, for
// the report ("" without steps).
func (r *report) perStep() string {
	var steps, envelopes int
	for _, s := range r.Platforms {
		steps += s.Steps
		envelopes += s.Envelopes
	}
	if steps == 0 {
		return ""
	}
	out := fmt.Sprintf(" (%.0f µs per step", r.BotCPUSeconds*1e6/float64(steps))
	if envelopes > 0 {
		out += fmt.Sprintf(", %.0f µs per envelope", r.BotCPUSeconds*1e6/float64(envelopes))
	}
	return out + ")"
}

// selfCPU is the processor time this process has used, user and system.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg reads the 1, 5 and 15 minute load averages (Linux); "" elsewhere.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
