package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/bot"
)

// opening is how far OpenPrivate got for a case, so that a retry after a
// failure (a 429 half-way) does not post the intro or the staff root twice.
type opening struct {
	dm      string
	introTS string
	staffTS string
}

// OpenPrivate opens a DM with the case's customer and posts intro there, then
// posts the case's root message in the staff channel, whose thread is the staff
// side. A customer who cannot be messaged (DMs closed, account gone) makes it
// fail with bot.ErrUndeliverable before anything reaches the staff channel.
func (a *Adapter) OpenPrivate(ctx context.Context, c *bot.Case, intro bot.Message) (bot.Ref, bot.Ref, error) {
	if err := a.awaitReady(ctx); err != nil {
		return bot.Ref{}, bot.Ref{}, err
	}
	a.mu.Lock()
	st := a.opening[c.ID]
	if st == nil {
		st = &opening{}
		a.opening[c.ID] = st
	}
	done := *st
	a.mu.Unlock()

	save := func() {
		a.mu.Lock()
		*st = done
		a.mu.Unlock()
	}
	forget := func(err error) error {
		if errors.Is(err, bot.ErrUndeliverable) { // no retry will come
			a.mu.Lock()
			delete(a.opening, c.ID)
			a.mu.Unlock()
		}
		return err
	}
	if done.dm == "" {
		dm, err := a.openDM(ctx, c.Customer.ID)
		if err != nil {
			return bot.Ref{}, bot.Ref{}, forget(err)
		}
		done.dm = dm
		save()
	}
	if done.introTS == "" {
		_, ts, err := a.post(ctx, done.dm, "", intro)
		if err != nil {
			return bot.Ref{}, bot.Ref{}, forget(err)
		}
		done.introTS = ts
		save()
	}
	if done.staffTS == "" {
		// a placeholder when the case has no name yet: post fills it in
		root := bot.Message{Text: fmt.Sprintf("Case #%d: %s", c.ID, bot.NameOf(c.Customer)), PostedSince: intro.PostedSince}
		if intro.Nonce != "" {
			root.Nonce = intro.Nonce + ".root"
		}
		_, ts, err := a.post(ctx, a.staff, "", root)
		if err != nil {
			return bot.Ref{}, bot.Ref{}, forget(err)
		}
		done.staffTS = ts
	}
	a.mu.Lock()
	delete(a.opening, c.ID)
	a.mu.Unlock()
	a.log.Info("private conversation opened", "case", c.ID)
	return bot.Ref{Platform: bot.Slack, Space: a.teamID, Channel: done.dm, Message: done.introTS},
		bot.Ref{Platform: bot.Slack, Space: a.teamID, Channel: a.staff, Thread: done.staffTS}, nil
}

// openDM returns the DM channel with a user, opening it (conversations.open).
func (a *Adapter) openDM(ctx context.Context, userID string) (string, error) {
	a.mu.Lock()
	dm := a.dms[userID]
	a.mu.Unlock()
	if dm != "" {
		return dm, nil
	}
	ch, _, _, err := a.api.OpenConversationContext(ctx, &slackgo.OpenConversationParameters{Users: []string{userID}})
	if err != nil {
		return "", deliveryError("conversations.open", err)
	}
	if ch == nil || ch.ID == "" {
		return "", fmt.Errorf("slack conversations.open: no channel returned")
	}
	a.mu.Lock()
	a.dms[userID] = ch.ID
	a.mu.Unlock()
	return ch.ID, nil
}

// Send posts m to a channel, a thread (to.Thread) or a named channel
// (bot.StaffChannel, bot.ShowcaseChannel), paced per channel.
func (a *Adapter) Send(ctx context.Context, to bot.Ref, m bot.Message) (bot.Ref, error) {
	if err := a.awaitReady(ctx); err != nil {
		return bot.Ref{}, err
	}
	channel, err := a.channelFor(to.Channel)
	if err != nil {
		return bot.Ref{}, err
	}
	got, ts, err := a.post(ctx, channel, to.Thread, m)
	if err != nil {
		return bot.Ref{}, err
	}
	if got == "" {
		got = channel
	}
	return bot.Ref{Platform: bot.Slack, Space: a.teamID, Channel: got, Thread: to.Thread, Message: ts}, nil
}

var _ bot.ChannelPacer = (*Adapter)(nil)

// PacedChannel names the channel an action's chat.postMessage counts against
// (Slack allows about one post a second per channel, its threads included),
// so that the relay paces, and with several instances claims, the staff
// channel as one: a case's root (OpenPrivate), its staff thread and the
// alerts all go there. Other sends are paced by the channel they name;
// private messages and edits are the relay's own reckoning.
func (a *Adapter) PacedChannel(act bot.Action) string {
	switch {
	case act.Kind == bot.ActOpenPrivate, act.Kind == bot.ActSend && act.Place == bot.PlaceStaff:
		return a.opts.StaffChannel
	case act.Kind != bot.ActSend || act.Place == bot.PlacePrivate:
		return ""
	}
	switch act.To.Channel {
	case bot.StaffChannel:
		return a.opts.StaffChannel
	case bot.ShowcaseChannel:
		return a.opts.ShowcaseChannel
	}
	return act.To.Channel
}

// channelFor maps a ref's channel, named or not, to a Slack channel ID.
func (a *Adapter) channelFor(ch string) (string, error) {
	switch ch {
	case bot.StaffChannel:
		return a.staff, nil
	case bot.ShowcaseChannel:
		if a.showcase == "" {
			return "", fmt.Errorf("slack: no showcase channel configured: %w", bot.ErrUndeliverable)
		}
		return a.showcase, nil
	case "":
		return "", fmt.Errorf("slack: message without a channel: %w", bot.ErrUndeliverable)
	}
	return ch, nil
}

// post waits for the channel's pace and calls chat.postMessage.
func (a *Adapter) post(ctx context.Context, channel, thread string, m bot.Message) (string, string, error) {
	if m.Nonce != "" {
		// before taking the channel's turn: a look-up may wait for its own
		if ts, ok := a.posts.stored(m.Nonce); ok {
			return channel, ts, nil
		}
		if a.posts.mustLook(m.Nonce, m.PostedSince) {
			ts, found, err := a.findPosted(ctx, channel, thread, m.Nonce, m.PostedSince)
			if err != nil {
				return "", "", err
			}
			if found {
				a.log.Info("message already posted before a restart or a failed attempt; not posted again", "channel", channel)
				return channel, ts, nil
			}
		}
	}
	m.Text = a.people.named(ctx, m.Text)
	done, err := a.pace.take(ctx, channel)
	if err != nil {
		return "", "", fmt.Errorf("slack: pacing posts to %s: %w", channel, err)
	}
	opts := messageOptions(m)
	if thread != "" {
		opts = append(opts, slackgo.MsgOptionTS(thread))
	}
	if m.Nonce != "" {
		opts = append(opts, outboxMetadata(m.Nonce))
	}
	got, ts, err := a.api.PostMessageContext(ctx, channel, opts...)
	if m.Nonce != "" {
		a.posts.attempted(m.Nonce, ts, err)
	}
	var rl *slackgo.RateLimitedError
	if errors.As(err, &rl) {
		done(rl.RetryAfter)
	} else {
		done(0)
	}
	if err != nil {
		return "", "", deliveryError("chat.postMessage", err)
	}
	return got, ts, nil
}

// Update replaces a posted message's text and buttons (chat.update). Buttons
// missing from m disappear from the message.
func (a *Adapter) Update(ctx context.Context, msg bot.Ref, m bot.Message) error {
	if err := a.awaitReady(ctx); err != nil {
		return err
	}
	channel, err := a.channelFor(msg.Channel)
	if err != nil {
		return err
	}
	if msg.Message == "" {
		return fmt.Errorf("slack: update without a message ts: %w", bot.ErrUndeliverable)
	}
	m.Text = a.people.named(ctx, m.Text)
	if _, _, _, err := a.api.UpdateMessageContext(ctx, channel, msg.Message, messageOptions(m)...); err != nil {
		return deliveryError("chat.update", err)
	}
	return nil
}

// Delete removes a posted message (chat.delete), such as a withdrawn testimonial.
func (a *Adapter) Delete(ctx context.Context, msg bot.Ref) error {
	if err := a.awaitReady(ctx); err != nil {
		return err
	}
	channel, err := a.channelFor(msg.Channel)
	if err != nil {
		return err
	}
	if msg.Message == "" {
		return fmt.Errorf("slack: delete without a message ts: %w", bot.ErrUndeliverable)
	}
	if _, _, err := a.api.DeleteMessageContext(ctx, channel, msg.Message); err != nil {
		return deliveryError("chat.delete", err)
	}
	return nil
}

// pacer spaces chat.postMessage calls per channel, the limit Slack applies
// (about one message per second per channel), so bursts wait here instead of
// drawing 429s. Posts in one channel take turns, in the order they asked, and
// the interval counts from the end of the previous post: Slack measures when
// a post arrives, and a post that took longer than the next one would
// otherwise let the next arrive too soon.
type pacer struct {
	every time.Duration
	mu    sync.Mutex
	chans map[string]*channelPace
}

// channelPace is one channel's turn: whoever holds turn posts next, not
// before next.
type channelPace struct {
	turn  chan struct{}
	next  time.Time // written by the holder of turn
	users int       // holders and waiters, guarded by pacer.mu
}

// maxPacedChannels bounds the channel map; idle channels are dropped beyond it.
const maxPacedChannels = 1024

func newPacer(every time.Duration) *pacer {
	return &pacer{every: every, chans: map[string]*channelPace{}}
}

// take waits for the channel's turn and pace. The caller posts, then calls
// done with how long the channel must rest after the post (at least the
// interval; longer after a 429's Retry-After).
func (p *pacer) take(ctx context.Context, channel string) (done func(rest time.Duration), err error) {
	if p.every <= 0 {
		return func(time.Duration) {}, nil
	}
	p.mu.Lock()
	c := p.chans[channel]
	if c == nil {
		if len(p.chans) >= maxPacedChannels {
			now := time.Now()
			for k, v := range p.chans {
				if v.users == 0 && !v.next.After(now) {
					delete(p.chans, k)
				}
			}
		}
		c = &channelPace{turn: make(chan struct{}, 1)}
		c.turn <- struct{}{}
		p.chans[channel] = c
	}
	c.users++
	p.mu.Unlock()
	leave := func() {
		p.mu.Lock()
		c.users--
		p.mu.Unlock()
	}
	select {
	case <-c.turn:
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
	release := func(next time.Time) {
		c.next = next
		c.turn <- struct{}{}
		leave()
	}
	if wait := time.Until(c.next); wait > 0 {
		if dl, ok := ctx.Deadline(); ok && dl.Before(c.next) {
			release(c.next)
			return nil, fmt.Errorf("next post in %s not before %s, after the deadline", channel, c.next.Format(time.RFC3339))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			release(c.next)
			return nil, ctx.Err()
		}
	}
	return func(rest time.Duration) { release(time.Now().Add(max(rest, p.every))) }, nil
}

// wait waits for the channel's turn and pace and counts a post made now.
func (p *pacer) wait(ctx context.Context, channel string) error {
	done, err := p.take(ctx, channel)
	if err != nil {
		return err
	}
	done(0)
	return nil
}
