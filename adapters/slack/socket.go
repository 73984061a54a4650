package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/advocate-bot/advocate/bot"
)

// socketWorkers bounds how many envelopes are processed at once.
const socketWorkers = 64

// runSocket receives over Socket Mode until ctx is done. Envelopes of one
// channel are processed in the order they arrived, different channels in
// parallel; each is acknowledged only after the core committed it.
func (a *Adapter) runSocket(ctx context.Context, h bot.Handler) error {
	client := socketmode.New(a.client, socketmode.OptionLog(slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)))
	runErr := make(chan error, 1)
	go func() { runErr <- client.RunContext(ctx) }()
	// workers stop with ctx, or when the client gave up and nobody sends acks
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	ln := bot.NewLanes(socketWorkers)
	for {
		select {
		case <-ctx.Done():
			ln.Wait()
			<-runErr
			return nil
		case err := <-runErr:
			stop()
			ln.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack: socket mode stopped: %w", err)
		case evt := <-client.Events:
			a.onSocketEvent(wctx, client, h, ln, evt)
		}
	}
}

// onSocketEvent logs connection changes and queues envelopes for processing.
func (a *Adapter) onSocketEvent(ctx context.Context, client *socketmode.Client, h bot.Handler, ln *bot.Lanes, evt socketmode.Event) {
	var d delivery
	var key string
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.connected.Store(false)
		a.log.Debug("socket mode connecting")
		return
	case socketmode.EventTypeConnected:
		if c, ok := evt.Data.(*socketmode.ConnectedEvent); ok {
			a.log.Info("socket mode connected", "connection", c.ConnectionCount)
		}
		return
	case socketmode.EventTypeHello:
		a.connected.Store(true)
		a.log.Debug("socket mode hello")
		return
	case socketmode.EventTypeConnectionError:
		a.connected.Store(false)
		if c, ok := evt.Data.(*slackgo.ConnectionErrorEvent); ok {
			a.log.Warn("socket mode connection failed; retrying", "attempt", c.Attempt, "backoff", c.Backoff, "err", c.ErrorObj)
		}
		return
	case socketmode.EventTypeInvalidAuth:
		a.log.Error("socket mode refused the app-level token")
		return
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("socket mode error", "type", evt.Type, "err", eventErr(evt.Data))
		return
	case socketmode.EventTypeErrorBadMessage:
		a.ackUnreadable(ctx, client, evt)
		return
	case socketmode.EventTypeEventsAPI:
		e, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok || evt.Request == nil {
			return
		}
		d = delivery{kind: kindEvents, events: &e}
		key = eventsKey(e)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackgo.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		d = delivery{kind: kindInteractive, action: &cb}
		key = interactionKey(&cb)
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackgo.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		d = delivery{kind: kindCommand, command: &cmd}
		key = conversationKey(cmd.ChannelID, "", cmd.UserID)
	default:
		return
	}
	req := *evt.Request
	d.retry, d.reason = req.RetryAttempt, req.RetryReason
	ln.RunThen(key, func() func() { return a.handleEnvelope(ctx, client, h, req, d) })
}

// handleEnvelope processes one envelope and acknowledges it once committed; an
// envelope the core could not commit stays unacknowledged, so Slack sends it
// again. It returns the decision on an accepted event, to run in the lane
// after the acknowledgement (nil when there is none).
func (a *Adapter) handleEnvelope(ctx context.Context, client *socketmode.Client, h bot.Handler, req socketmode.Request, d delivery) func() {
	res, err := a.process(ctx, h, d)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("envelope not acknowledged; Slack will deliver it again", "kind", d.kind, "envelope", req.EnvelopeID, "err", err)
		}
		return nil
	}
	var decide func()
	if res.decide != nil {
		// decided even if the ack fails: the event is committed, and Slack's
		// redelivery is a duplicate
		decide = func() { res.decide(ctx) }
	}
	if err := client.AckCtx(ctx, req.EnvelopeID, res.ack); err != nil {
		if ctx.Err() == nil {
			a.log.Warn("ack failed; Slack will deliver the envelope again", "kind", d.kind, "envelope", req.EnvelopeID, "err", err)
		}
		return decide
	}
	if res.after != nil {
		// not in the lane: the next envelope of this conversation does not
		// wait for a modal to open or an ephemeral answer to be shown
		a.background(ctx, res.after)
	}
	return decide
}

// ackUnreadable acknowledges an envelope slack-go could not parse (an event
// type it does not know), so Slack does not keep redelivering it.
func (a *Adapter) ackUnreadable(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	if json.Unmarshal(bad.Message, &env) != nil || env.EnvelopeID == "" {
		a.log.Warn("unreadable socket mode message", "err", bad.Cause)
		return
	}
	a.log.Info("acknowledging an envelope advocate does not use", "type", env.Type, "envelope", env.EnvelopeID, "err", bad.Cause)
	if err := client.AckCtx(ctx, env.EnvelopeID, nil); err != nil {
		a.log.Warn("ack failed", "envelope", env.EnvelopeID, "err", err)
	}
}

func eventErr(data any) error {
	switch e := data.(type) {
	case *slackgo.IncomingEventError:
		return e.ErrorObj
	case *socketmode.ErrorWriteFailed:
		return e.Cause
	}
	return nil
}

// eventsKey is the conversation an Events API event belongs to, for
// ordering: a thread, or one person's messages at the top of a channel. A
// busy support channel's questions from different people are handled in
// parallel (and committed together), each person's in order.
func eventsKey(e slackevents.EventsAPIEvent) string {
	switch in := e.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		return conversationKey(in.Channel, in.ThreadTimeStamp, in.User)
	case *slackevents.AppMentionEvent:
		return conversationKey(in.Channel, in.ThreadTimeStamp, in.User)
	}
	return ""
}

// interactionKey is the conversation a click or a submission belongs to: in
// a DM, the person's (with their messages there); elsewhere the thread of the
// message clicked, or the message itself, so that staff pressing the controls
// of different cases in the staff channel are handled in parallel, each
// case's in order with its thread's messages. A submission has no channel:
// the person's.
func interactionKey(cb *slackgo.InteractionCallback) string {
	channel := nonEmpty(cb.Container.ChannelID, cb.Channel.ID)
	thread := nonEmpty(cb.Container.ThreadTs, cb.Message.ThreadTimestamp, cb.Container.MessageTs, cb.Message.Timestamp)
	switch {
	case channel == "":
		return "user:" + cb.User.ID
	case isDM(channel) || thread == "":
		return conversationKey(channel, "", cb.User.ID)
	}
	return conversationKey(channel, thread, cb.User.ID)
}

func conversationKey(channel, thread, user string) string {
	if thread != "" {
		return channel + "/" + thread
	}
	return channel + "@" + user
}
