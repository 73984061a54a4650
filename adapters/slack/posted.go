package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"
	"golang.org/x/time/rate"

	"github.com/advocate-bot/advocate/bot"
)

// Slack's chat.postMessage has no idempotency key. Instead, every post of an
// outbox action carries the action's nonce as message metadata, and a post
// that may already have been made (bot.Message.PostedSince) is first looked
// for in the channel or thread; if found, its ts is the delivery and nothing
// is posted again.
//
// Looking is expensive: since 2025 Slack allows commercially distributed apps
// that are not in the Marketplace one conversations.history and one
// conversations.replies call a minute, of 15 messages each (internal apps,
// one workspace's own, keep Tier 3: about 50 a minute). So the adapter looks
// only when it must and shares what it read:
//   - a post this process made is remembered with its ts (the stored ts) and
//     never looked for;
//   - an attempt Slack answered with an error (a 429, ok:false) posted
//     nothing, so a retry within the same process does not look; only an
//     attempt whose outcome is unknown (a timeout, a 5xx, a lost response)
//     or one made before this process started does;
//   - a read of a conversation is kept (the nonces of the bot's posts seen,
//     and from when it covers the conversation), so the other actions of a
//     backlog in the same channel or thread are answered without reading
//     again; an unfinished read is carried on from its cursor;
//   - each method's calls share one limiter (Options.HistoryRate); a look-up
//     that would wait longer than maxHistoryWait for its turn, or that Slack
//     answers 429, returns a *bot.RetryAfterError: the relay tries the
//     action again then, without posting it meanwhile.

// outboxEventType is the metadata event type of the bot's outbox posts.
const outboxEventType = "advocate_outbox"

// lookbackPages bounds the history pages one look-up reads.
const lookbackPages = 5

// clockSkew widens the search: Slack's clock and ours may disagree.
const clockSkew = time.Minute

// History look-up limits: Slack's Tier 3 by default; at or below
// restrictedHistoryRate a page holds at most restrictedHistoryPage messages,
// as Slack allows apps under the 2025 limit.
const (
	defaultHistoryRate    = 50 // calls a minute, per method
	restrictedHistoryRate = 1
	restrictedHistoryPage = 15
	historyPage           = 200
	// maxHistoryWait is the longest a look-up waits for its turn; beyond it
	// the action is tried again later.
	maxHistoryWait = 2 * time.Second
	// maxPostsKept bounds the nonces and reads remembered.
	maxPostsKept = 10000
)

// outboxMetadata tags a post with its outbox nonce.
func outboxMetadata(nonce string) slackgo.MsgOption {
	return slackgo.MsgOptionMetadata(slackgo.SlackMetadata{
		EventType:    outboxEventType,
		EventPayload: map[string]any{"nonce": nonce},
	})
}

// posts is what this process knows of its outbox posts, and the history
// look-ups' shared limits.
type posts struct {
	started time.Time
	now     func() time.Time
	page    int

	mu      sync.Mutex
	nonces  map[string]postState
	reads   map[string]*historyRead // by conversation: channel or channel/thread
	limits  map[string]*rate.Limiter
	pausing map[string]time.Time // method → no call before (after a 429)
}

// postState is what is known of one nonce's attempts in this process.
type postState struct {
	ts string // posted, with this ts
	// unsure is when the last attempt whose outcome is unknown ended (zero:
	// every attempt was refused by Slack)
	unsure time.Time
}

// historyRead is one conversation's read: the bot's outbox posts seen in it
// since oldest, as of at. complete is false while pages remain (from cursor).
type historyRead struct {
	busy     sync.Mutex // held while a page is read
	oldest   time.Time
	at       time.Time
	cursor   string
	complete bool
	seen     map[string]string // nonce → ts
}

func newPosts(perMinute int) *posts {
	if perMinute <= 0 {
		perMinute = defaultHistoryRate
	}
	page := historyPage
	if perMinute <= restrictedHistoryRate {
		page = restrictedHistoryPage
	}
	every := time.Minute / time.Duration(perMinute)
	burst := max(1, perMinute/10)
	p := &posts{
		started: time.Now(), now: time.Now, page: page,
		nonces: map[string]postState{}, reads: map[string]*historyRead{}, pausing: map[string]time.Time{},
		limits: map[string]*rate.Limiter{
			"conversations.history": rate.NewLimiter(rate.Every(every), burst),
			"conversations.replies": rate.NewLimiter(rate.Every(every), burst),
		},
	}
	return p
}

// stored returns the ts of a post this process made with nonce.
func (p *posts) stored(nonce string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.nonces[nonce]
	return st.ts, st.ts != ""
}

// mustLook reports whether an attempt may have posted nonce unseen: one made
// before this process started, or one of this process's whose outcome is
// unknown (or forgotten).
func (p *posts) mustLook(nonce string, since time.Time) bool {
	if since.IsZero() {
		return false
	}
	if since.Before(p.started) {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st, known := p.nonces[nonce]
	return !known || !st.unsure.IsZero()
}

// attempted records the outcome of a chat.postMessage with nonce.
func (p *posts) attempted(nonce, ts string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.nonces) >= maxPostsKept {
		clear(p.nonces)
	}
	st := p.nonces[nonce]
	switch {
	case err == nil:
		st.ts = ts
	case refusedBySlack(err):
		// nothing posted; an earlier unknown outcome stays unknown
	default:
		st.unsure = p.now()
	}
	p.nonces[nonce] = st
}

// refusedBySlack reports whether err is Slack's own answer (so nothing was
// posted) rather than a lost or failed exchange.
func refusedBySlack(err error) bool {
	var rl *slackgo.RateLimitedError
	var se slackgo.SlackErrorResponse
	return errors.As(err, &rl) || errors.As(err, &se)
}

// findPosted looks for a message the bot posted with nonce in channel (in
// thread, if not empty) since since, and returns its ts.
func (a *Adapter) findPosted(ctx context.Context, channel, thread, nonce string, since time.Time) (string, bool, error) {
	p := a.posts
	key := channel + "/" + thread
	oldest := since.Add(-clockSkew)
	p.mu.Lock()
	r := p.reads[key]
	unsure := p.nonces[nonce].unsure
	if r == nil || r.oldest.After(oldest) || !r.at.After(unsure) {
		// no read, one that starts too late or one older than the attempt:
		// read anew from oldest
		if len(p.reads) >= maxPostsKept {
			clear(p.reads)
		}
		r = &historyRead{oldest: oldest, at: p.now(), seen: map[string]string{}}
		p.reads[key] = r
	}
	p.mu.Unlock()

	for range lookbackPages {
		ts, found, done, err := a.readPage(ctx, r, channel, thread, nonce)
		if found {
			p.attempted(nonce, ts, nil)
		}
		if found || done || err != nil {
			return ts, found, err
		}
	}
	return "", false, nil
}

// readPage answers from r, or reads r's next page and answers; done is true
// when r is complete.
func (a *Adapter) readPage(ctx context.Context, r *historyRead, channel, thread, nonce string) (ts string, found, done bool, err error) {
	p := a.posts
	r.busy.Lock()
	defer r.busy.Unlock()
	p.mu.Lock()
	ts, found = r.seen[nonce]
	complete, cursor := r.complete, r.cursor
	p.mu.Unlock()
	if found || complete {
		return ts, found, complete, nil
	}
	msgs, next, err := a.history(ctx, channel, thread, r.oldest, cursor)
	if err != nil {
		return "", false, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		if m.User == a.botUserID && m.Metadata.EventType == outboxEventType {
			if n, ok := m.Metadata.EventPayload["nonce"].(string); ok {
				r.seen[n] = m.Timestamp
			}
		}
	}
	r.cursor, r.complete = next, next == ""
	ts, found = r.seen[nonce]
	return ts, found, r.complete, nil
}

// history reads one page of a channel's history, or of a thread's replies,
// in its method's turn.
func (a *Adapter) history(ctx context.Context, channel, thread string, oldest time.Time, cursor string) ([]slackgo.Message, string, error) {
	method := "conversations.history"
	if thread != "" {
		method = "conversations.replies"
	}
	if err := a.posts.turn(ctx, method); err != nil {
		return nil, "", err
	}
	since := fmt.Sprintf("%d.%06d", oldest.Unix(), oldest.Nanosecond()/1000)
	var msgs []slackgo.Message
	var next string
	var err error
	if thread == "" {
		var resp *slackgo.GetConversationHistoryResponse
		resp, err = a.api.GetConversationHistoryContext(ctx, &slackgo.GetConversationHistoryParameters{
			ChannelID: channel, Oldest: since, Cursor: cursor, Limit: a.posts.page, IncludeAllMetadata: true,
		})
		if err == nil {
			msgs, next = resp.Messages, resp.ResponseMetaData.NextCursor
		}
	} else {
		msgs, _, next, err = a.api.GetConversationRepliesContext(ctx, &slackgo.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: thread, Cursor: cursor, Oldest: since,
			Limit: a.posts.page, IncludeAllMetadata: true,
		})
	}
	if err != nil {
		var rl *slackgo.RateLimitedError
		if errors.As(err, &rl) {
			a.posts.pause(method, rl.RetryAfter)
			a.log.Info("slack limits history look-ups; the post waits", "method", method, "retry_after", rl.RetryAfter)
		}
		return nil, "", deliveryError(method, err)
	}
	return msgs, next, nil
}

// turn waits for method's shared limit, or returns a *bot.RetryAfterError
// when the turn is further away than maxHistoryWait.
func (p *posts) turn(ctx context.Context, method string) error {
	p.mu.Lock()
	lim := p.limits[method]
	paused := p.pausing[method].Sub(p.now())
	p.mu.Unlock()
	if paused > maxHistoryWait {
		return &bot.RetryAfterError{After: paused, Err: fmt.Errorf("slack %s: waiting for Slack's limit", method)}
	}
	now := p.now()
	r := lim.ReserveN(now, 1)
	wait := max(r.DelayFrom(now), paused)
	if wait > maxHistoryWait {
		r.CancelAt(now)
		return &bot.RetryAfterError{After: wait, Err: fmt.Errorf("slack %s: looking for an earlier post waits for the history limit", method)}
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		r.CancelAt(p.now())
		return ctx.Err()
	}
}

// pause holds method's calls for d after Slack answered 429.
func (p *posts) pause(method string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.now().Add(d); until.After(p.pausing[method]) {
		p.pausing[method] = until
	}
}
