package discord

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// What discordgo v0.29.0 does on its own, and what this file adds:
//
//   - op 7 RECONNECT: discordgo closes the socket and, with
//     ShouldReconnectOnError, reopens at once; Open sends RESUME because it
//     keeps the session ID and sequence. No IDENTIFY.
//   - op 9 INVALID SESSION: discordgo sends IDENTIFY on the same socket at once,
//     whatever d says (Discord asks for a 1–5 s wait). This cannot be delayed
//     from outside, so every IDENTIFY is counted when READY arrives.
//   - a dropped socket or five missed heartbeat ACKs: Close, then its reconnect
//     loop: the first Open immediately, then 1 s, 2 s … 600 s between failed
//     Opens; the wait starts over after every successful Open, so a server
//     that accepts and drops at once gets a reconnection per round trip.
//     Close codes that reconnecting cannot fix (4004 bad token, 4014
//     disallowed intents…) are retried forever.
//
// The adapter therefore turns discordgo's reconnect off and supervises the
// connection itself: every disconnection waits an exponential backoff with
// jitter that only resets after a connection stayed up for a while; fatal
// close codes end Run with an explanation; and IDENTIFYs (READY events) draw
// from a token bucket well inside Discord's 1,000 a day: a READY beyond the
// budget closes the connection and pauses the gateway until the bucket refills,
// which breaks an op 9 identify storm.

// gatewayPolicy holds the reconnection and identify settings.
type gatewayPolicy struct {
	minBackoff  time.Duration // first reconnection wait (with jitter: half to all of it)
	maxBackoff  time.Duration
	stableAfter time.Duration // a connection up this long resets the backoff
	// identifyEvery and identifyBurst are the IDENTIFY budget.
	identifyEvery time.Duration
	identifyBurst int
	// handleTimeout bounds one event's trip through the core.
	handleTimeout time.Duration
}

func defaultPolicy() gatewayPolicy {
	return gatewayPolicy{
		minBackoff:    time.Second,
		maxBackoff:    2 * time.Minute,
		stableAfter:   time.Minute,
		identifyEvery: 2 * time.Minute, // at most 720 a day after the burst
		identifyBurst: 5,
		handleTimeout: 10 * time.Second,
	}
}

// backoff is the wait before reconnection attempt n (1-based): min·2^(n-1)
// capped at max, then jittered to between half and all of it.
func (p gatewayPolicy) backoff(attempt int) time.Duration {
	if attempt <= 0 || p.minBackoff <= 0 {
		return 0
	}
	d := p.minBackoff << min(attempt-1, 20)
	if d > p.maxBackoff || d <= 0 {
		d = p.maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// runGateway keeps the gateway connected until ctx is done.
func (a *Adapter) runGateway(ctx context.Context) error {
	attempt := 0
	registered := false
	for {
		select { // a signal from an earlier connection is stale now
		case <-a.disconnected:
		default:
		}
		err := a.open(ctx)
		if ctx.Err() != nil {
			a.closeSession()
			return nil
		}
		if err != nil {
			if fatal := fatalGatewayError(err); fatal != nil {
				return fatal
			}
			attempt++
			wait := max(a.policy.backoff(attempt), a.identifyPause())
			a.log.Warn("gateway connection failed", "attempt", attempt, "retry_in", wait, "err", err)
			if !sleep(ctx, wait) {
				return nil
			}
			continue
		}
		up := time.Now()
		if !registered {
			registered = true
			a.registerCommands(ctx)
			a.checkStaffChannel(ctx)
		}
		select {
		case <-ctx.Done():
			a.closeSession()
			return nil
		case <-a.disconnected:
		}
		if time.Since(up) >= a.policy.stableAfter {
			attempt = 0
		}
		attempt++
		wait := max(a.policy.backoff(attempt), a.identifyPause())
		a.log.Info("gateway disconnected, reconnecting", "attempt", attempt, "in", wait)
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// open calls Session.Open, which has no context: if ctx ends first, the
// session is closed once Open returns.
func (a *Adapter) open(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- a.session.Open() }()
	select {
	case err := <-done:
		if errors.Is(err, discordgo.ErrWSAlreadyOpen) {
			return nil
		}
		return err
	case <-ctx.Done():
		go func() {
			if <-done == nil {
				_ = a.session.Close()
			}
		}()
		return ctx.Err()
	}
}

func (a *Adapter) closeSession() {
	if err := a.session.Close(); err != nil {
		a.log.Debug("gateway close", "err", err)
	}
}

// fatalGatewayError explains a close code that reconnecting cannot fix, or
// returns nil.
func fatalGatewayError(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return nil
	}
	switch ce.Code {
	case 4004:
		return fmt.Errorf("discord: gateway refused the bot token (4004): check DISCORD_TOKEN: %w", err)
	case 4010, 4011:
		return fmt.Errorf("discord: gateway refused the shard (%d): %w", ce.Code, err)
	case 4012:
		return fmt.Errorf("discord: gateway refused the API version (4012): %w", err)
	case 4013:
		return fmt.Errorf("discord: gateway refused the intents (4013): %w", err)
	case 4014:
		return fmt.Errorf("discord: the Message Content intent is not enabled for this application (4014): "+
			"turn it on under Bot → Privileged Gateway Intents in the Developer Portal: %w", err)
	}
	return nil
}

// identifyPause is how long the gateway stays paused after the identify budget
// ran out.
func (a *Adapter) identifyPause() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return max(time.Until(a.pauseUntil), 0)
}

// onReady records the bot's identity and counts the IDENTIFY; beyond the
// budget it closes the connection so the supervisor pauses.
func (a *Adapter) onReady(s *discordgo.Session, r *discordgo.Ready) {
	a.connected.Store(true)
	a.mu.Lock()
	if r.User != nil {
		a.botID = r.User.ID
	}
	if a.appID == "" && r.Application != nil {
		a.appID = r.Application.ID
	}
	a.mu.Unlock()
	n := a.identifies.Add(1)
	if !a.budget.Allow() {
		res := a.budget.Reserve()
		pause := res.Delay()
		res.Cancel()
		a.mu.Lock()
		a.pauseUntil = time.Now().Add(pause)
		a.mu.Unlock()
		a.log.Error("gateway identify budget exhausted, pausing the gateway", "identifies", n, "pause", pause)
		// Not from this goroutine: READY may be handled inside Session.Open,
		// which holds the session's lock.
		go func() { _ = s.Close() }()
		return
	}
	a.log.Info("gateway ready", "identifies", n, "guilds", len(r.Guilds))
}

func (a *Adapter) onResumed(*discordgo.Session, *discordgo.Resumed) {
	a.connected.Store(true)
	a.log.Info("gateway resumed")
}

// onDisconnect wakes the supervisor.
func (a *Adapter) onDisconnect(*discordgo.Session, *discordgo.Disconnect) {
	a.connected.Store(false)
	select {
	case a.disconnected <- struct{}{}:
	default:
	}
}

// registerCommands bulk-overwrites the commands in every configured guild:
// idempotent, so it runs at every start.
func (a *Adapter) registerCommands(ctx context.Context) {
	appID := a.applicationID()
	if len(a.opts.Guilds) == 0 {
		a.log.Warn("no guilds configured: slash commands are not registered")
		return
	}
	if appID == "" {
		a.log.Error("no application ID: slash commands are not registered")
		return
	}
	cmds := commandSet()
	for _, g := range a.opts.Guilds {
		_, err := a.session.ApplicationCommandBulkOverwrite(appID, g, cmds, discordgo.WithContext(ctx))
		if err != nil {
			a.log.Error("registering commands failed (is the bot invited with the applications.commands scope?)", "guild", g, "err", err)
			continue
		}
		a.log.Info("commands registered", "guild", g, "commands", len(cmds))
	}
}

// sleep waits d or until ctx is done; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
