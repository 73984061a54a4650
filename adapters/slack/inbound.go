package slack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/advocate-bot/advocate/bot"
)

// Slash commands, the message shortcut and their subcommands, as declared in
// slack-app-manifest.yaml.
const (
	commandSupport  = "/support"
	commandAdvocate = "/advocate"
	commandLink     = "/link"
	shortcutGetHelp = "get_help"
)

// advocateUsage answers /advocate without a known subcommand.
const advocateUsage = "Usage: `/advocate stats [7d|30d]` or `/advocate notice #channel message`"

// Kinds of inbound traffic, named after Socket Mode's envelope types.
const (
	kindEvents      = "events_api"
	kindInteractive = "interactive"
	kindCommand     = "slash_commands"
)

// delivery is one piece of inbound Slack traffic, from either transport.
type delivery struct {
	kind    string
	events  *slackevents.EventsAPIEvent
	action  *slackgo.InteractionCallback
	command *slackgo.SlashCommand
	// retry and reason say whether Slack is delivering it again, and why.
	retry  int
	reason string
}

// result is what to acknowledge with and what to do once acknowledged.
type result struct {
	// ack is the acknowledgement's payload (Socket Mode) or JSON body (HTTP);
	// nil acknowledges with nothing.
	ack any
	// after runs once the acknowledgement is sent: opening a modal, showing an
	// ephemeral answer. Its failures are logged; the event is committed.
	after func(ctx context.Context)
	// decide runs once the acknowledgement is sent, in the conversation's
	// order: the decision on an event the core accepted (bot.Accepter).
	decide func(ctx context.Context)
}

// process translates d, hands it to the core and says how to acknowledge it. An
// error means the core did not commit it: do not acknowledge.
func (a *Adapter) process(ctx context.Context, h bot.Handler, d delivery) (result, error) {
	ev, ok := a.translate(ctx, d)
	if !ok {
		if d.command != nil && d.command.Command == commandAdvocate {
			return result{ack: map[string]string{"response_type": "ephemeral", "text": advocateUsage}}, nil
		}
		return result{}, nil
	}
	if d.retry > 0 {
		a.log.Info("slack redelivery", "kind", d.kind, "event", ev.ID, "retry_attempt", d.retry, "retry_reason", d.reason)
	}
	if acc, ok := h.(bot.Accepter); ok && d.events != nil {
		decide, err := acc.Accept(ctx, ev)
		if err != nil {
			return result{}, fmt.Errorf("slack %s event %s not committed: %w", ev.Kind, ev.ID, err)
		}
		return result{decide: decide}, nil
	}
	reply, err := h.Handle(ctx, ev)
	if err != nil {
		return result{}, fmt.Errorf("slack %s event %s not committed: %w", ev.Kind, ev.ID, err)
	}
	return a.respond(d, ev, reply), nil
}

// translate turns d into a core event; ok is false for traffic the core does
// not need (the bot's own messages, edits, other channels' chatter).
func (a *Adapter) translate(ctx context.Context, d delivery) (bot.Event, bool) {
	switch {
	case d.events != nil:
		return a.fromEventsAPI(ctx, *d.events)
	case d.action != nil:
		return a.fromInteraction(ctx, d.action)
	case d.command != nil:
		return a.fromCommand(ctx, d.command)
	}
	return bot.Event{}, false
}

func (a *Adapter) fromEventsAPI(ctx context.Context, e slackevents.EventsAPIEvent) (bot.Event, bool) {
	cb, ok := e.Data.(*slackevents.EventsAPICallbackEvent)
	if e.Type != slackevents.CallbackEvent || !ok || cb.EventID == "" {
		return bot.Event{}, false
	}
	team := nonEmpty(cb.TeamID, e.TeamID, a.teamID)
	switch in := e.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		return a.fromMessage(ctx, cb.EventID, team, in)
	case *slackevents.AppMentionEvent:
		return a.fromMention(ctx, cb.EventID, team, in)
	}
	return bot.Event{}, false
}

// fromMessage keeps what the core needs: top-level messages in support
// channels, DMs with the bot, and replies in staff channel threads.
func (a *Adapter) fromMessage(ctx context.Context, eventID, team string, m *slackevents.MessageEvent) (bot.Event, bool) {
	switch m.SubType {
	case "", "file_share", "thread_broadcast":
	default:
		return bot.Event{}, false // edits, deletions, joins, bot_message…
	}
	if m.BotID != "" || m.User == "" || m.User == a.botUserID {
		return bot.Event{}, false
	}
	reply := m.ThreadTimeStamp != "" && m.ThreadTimeStamp != m.TimeStamp
	ev := bot.Event{
		ID:    eventID, // Slack's event_id: the dedupe key across redeliveries
		Kind:  bot.EventMessage,
		Where: bot.Ref{Platform: bot.Slack, Space: team, Channel: m.Channel, Message: m.TimeStamp},
		Text:  plainText(m.Text),
		At:    unixTS(m.TimeStamp),
	}
	switch {
	case m.ChannelType == slackevents.ChannelTypeIM:
		ev.Direct = true // a DM is one conversation: a thread in it is the same case
	case m.Channel == a.staff && reply:
		ev.Where.Thread = m.ThreadTimeStamp
	case a.support[m.Channel] && !reply:
		ev.Support = true
	default:
		return bot.Event{}, false
	}
	ev.Author = a.people.person(m.User)
	return ev, true
}

// fromMention keeps mentions the message events do not already cover: not in
// the staff channel and not top-level in a support channel.
func (a *Adapter) fromMention(ctx context.Context, eventID, team string, m *slackevents.AppMentionEvent) (bot.Event, bool) {
	reply := m.ThreadTimeStamp != "" && m.ThreadTimeStamp != m.TimeStamp
	if m.BotID != "" || m.User == "" || m.User == a.botUserID || m.Channel == a.staff || (a.support[m.Channel] && !reply) {
		return bot.Event{}, false
	}
	ev := bot.Event{
		ID:     eventID,
		Kind:   bot.EventMention,
		Where:  bot.Ref{Platform: bot.Slack, Space: team, Channel: m.Channel, Message: m.TimeStamp},
		Text:   plainText(a.withoutBotMention(m.Text)),
		At:     unixTS(m.TimeStamp),
		Author: a.people.person(m.User),
	}
	if reply {
		ev.Where.Thread = m.ThreadTimeStamp
	}
	return ev, true
}

// withoutBotMention drops "<@BOT>" from a mention's text: it addresses the
// bot, it is not part of the question.
func (a *Adapter) withoutBotMention(s string) string {
	if a.botUserID == "" {
		return s
	}
	s = strings.ReplaceAll(s, "<@"+a.botUserID+">", "")
	return strings.TrimSpace(strings.Join(strings.Fields(s), " "))
}

func (a *Adapter) fromInteraction(ctx context.Context, cb *slackgo.InteractionCallback) (bot.Event, bool) {
	team := nonEmpty(cb.Team.ID, cb.User.TeamID, a.teamID)
	switch cb.Type {
	case slackgo.InteractionTypeBlockActions:
		if len(cb.ActionCallback.BlockActions) == 0 {
			return bot.Event{}, false
		}
		act := cb.ActionCallback.BlockActions[0]
		if act.ActionID == "" {
			return bot.Event{}, false
		}
		channel := nonEmpty(cb.Container.ChannelID, cb.Channel.ID)
		return bot.Event{
			ID:       idFor("action", nonEmpty(cb.TriggerID, act.ActionTs+"."+cb.User.ID)),
			Kind:     bot.EventAction,
			Where:    bot.Ref{Platform: bot.Slack, Space: team, Channel: channel, Thread: cb.Container.ThreadTs, Message: nonEmpty(cb.Container.MessageTs, cb.Message.Timestamp)},
			Author:   a.people.person(cb.User.ID),
			ActionID: act.ActionID,
			At:       unixTS(act.ActionTs),
		}, true
	case slackgo.InteractionTypeViewSubmission:
		if cb.View.CallbackID != modalCallbackID || cb.View.PrivateMetadata == "" {
			return bot.Event{}, false
		}
		return bot.Event{
			ID:       idFor("submit", nonEmpty(cb.TriggerID, cb.View.ID+"."+cb.View.Hash)),
			Kind:     bot.EventSubmit,
			Where:    bot.Ref{Platform: bot.Slack, Space: team},
			Author:   a.people.person(cb.User.ID),
			ActionID: cb.View.PrivateMetadata,
			Fields:   submittedFields(cb.View.State),
			At:       time.Now().UTC(),
		}, true
	case slackgo.InteractionTypeMessageAction:
		if cb.CallbackID != shortcutGetHelp {
			return bot.Event{}, false
		}
		return a.fromGetHelp(ctx, team, cb)
	}
	return bot.Event{}, false
}

// fromGetHelp opens a case for the message the shortcut was used on, in its
// author's name: anyone may bring a question to support for someone.
func (a *Adapter) fromGetHelp(ctx context.Context, team string, cb *slackgo.InteractionCallback) (bot.Event, bool) {
	msg := cb.Message
	if msg.User == "" {
		return bot.Event{}, false
	}
	ts := nonEmpty(cb.MessageTs, msg.Timestamp)
	author := a.people.person(msg.User)
	if msg.BotID != "" || msg.User == a.botUserID {
		author.Bot = true
	}
	text := plainText(msg.Text)
	if strings.TrimSpace(text) == "" {
		text = "(a message without text)"
	}
	ev := bot.Event{
		ID:      idFor("shortcut", nonEmpty(cb.TriggerID, cb.ActionTs+"."+cb.User.ID)),
		Kind:    bot.EventCommand,
		Command: bot.CmdSupport,
		Where:   bot.Ref{Platform: bot.Slack, Space: team, Channel: cb.Channel.ID, Message: ts},
		Author:  author,
		Text:    text,
		Direct:  isDM(cb.Channel.ID),
		At:      unixTS(nonEmpty(cb.ActionTs, ts)),
	}
	if msg.ThreadTimestamp != "" && msg.ThreadTimestamp != ts {
		ev.Where.Thread = msg.ThreadTimestamp
	}
	return ev, true
}

func (a *Adapter) fromCommand(ctx context.Context, c *slackgo.SlashCommand) (bot.Event, bool) {
	ev := bot.Event{
		ID:     idFor("command", nonEmpty(c.TriggerID, c.Command+"."+c.UserID+"."+c.ChannelID)),
		Kind:   bot.EventCommand,
		Where:  bot.Ref{Platform: bot.Slack, Space: nonEmpty(c.TeamID, a.teamID), Channel: c.ChannelID},
		Direct: isDM(c.ChannelID),
		At:     time.Now().UTC(),
	}
	text := strings.TrimSpace(c.Text)
	switch c.Command {
	case commandSupport:
		ev.Command, ev.Text = bot.CmdSupport, plainText(text)
	case commandLink:
		ev.Command, ev.Text = bot.CmdLink, text
	case commandAdvocate:
		sub, rest, _ := strings.Cut(text, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToLower(sub) {
		case "stats":
			ev.Command, ev.Text = bot.CmdStats, rest
		case "notice":
			channel, notice, ok := channelArg(rest)
			if !ok || notice == "" {
				return bot.Event{}, false
			}
			ev.Command = bot.CmdNotice
			ev.Fields = map[string]string{"channel": channel}
			ev.Text = plainText(notice)
		default:
			return bot.Event{}, false
		}
	default:
		a.log.Warn("unknown slash command ignored", "command", c.Command)
		return bot.Event{}, false
	}
	ev.Author = a.people.person(c.UserID)
	return ev, true
}

// channelArg splits "<#C123|name> rest" (how Slack escapes a channel in a
// command with should_escape) or "C123 rest" into the channel ID and the rest.
func channelArg(s string) (channel, rest string, ok bool) {
	first, rest, _ := strings.Cut(s, " ")
	rest = strings.TrimSpace(rest)
	if inner, found := strings.CutPrefix(first, "<#"); found {
		inner, found = strings.CutSuffix(inner, ">")
		if !found {
			return "", "", false
		}
		id, _, _ := strings.Cut(inner, "|")
		return id, rest, looksLikeID(id)
	}
	return first, rest, looksLikeID(first)
}

// isDM reports whether a channel ID is a direct message (D…).
func isDM(channel string) bool { return strings.HasPrefix(channel, "D") }

// respond turns the core's reply into the acknowledgement and what follows it.
func (a *Adapter) respond(d delivery, ev bot.Event, r bot.Reply) result {
	var res result
	switch {
	case d.command != nil:
		if r.Ephemeral != "" {
			res.ack = map[string]string{"response_type": "ephemeral", "text": escape(a.people.namedNow(r.Ephemeral))}
		}
		if r.Modal != nil {
			res.after = a.openModal(d.command.TriggerID, ev, r.Modal)
		}
	case d.action != nil:
		cb := d.action
		var steps []func(context.Context)
		if r.Modal != nil {
			steps = append(steps, a.openModal(cb.TriggerID, ev, r.Modal))
		}
		if r.Ephemeral != "" {
			steps = append(steps, a.ephemeralFor(cb, ev, r.Ephemeral))
		}
		if len(steps) > 0 {
			res.after = func(ctx context.Context) {
				for _, s := range steps {
					s(ctx)
				}
			}
		}
	}
	return res
}

// openModal opens the core's modal with the interaction's trigger.
func (a *Adapter) openModal(trigger string, ev bot.Event, m *bot.Modal) func(context.Context) {
	return func(ctx context.Context) {
		if trigger == "" {
			a.log.Warn("modal not opened: no trigger", "event", ev.ID)
			return
		}
		if _, err := a.api.OpenViewContext(ctx, trigger, modalView(a.namedModal(ctx, m))); err != nil {
			a.log.Warn("views.open failed", "event", ev.ID, "err", err)
		}
	}
}

// modalNameWait bounds the wait for a name the modal shows: the trigger
// expires 3 s after the click.
const modalNameWait = time.Second

// namedModal fills in the names in the modal's texts, waiting at most
// modalNameWait for look-ups.
func (a *Adapter) namedModal(ctx context.Context, m *bot.Modal) *bot.Modal {
	ctx, cancel := context.WithTimeout(ctx, modalNameWait)
	defer cancel()
	out := *m
	out.Title = a.people.named(ctx, m.Title)
	out.Fields = slices.Clone(m.Fields)
	for i := range out.Fields {
		out.Fields[i].Value = a.people.named(ctx, out.Fields[i].Value)
		out.Fields[i].Label = a.people.named(ctx, out.Fields[i].Label)
	}
	return &out
}

// ephemeralFor shows text to the person who clicked: in the channel of the
// click with chat.postEphemeral (its response_url when that fails), and in their
// DM with the bot for a modal submission, which has no channel.
func (a *Adapter) ephemeralFor(cb *slackgo.InteractionCallback, ev bot.Event, text string) func(context.Context) {
	user := cb.User.ID
	channel, thread := ev.Where.Channel, ev.Where.Thread
	responseURL := cb.ResponseURL
	return func(ctx context.Context) {
		text := a.people.named(ctx, text)
		opts := []slackgo.MsgOption{slackgo.MsgOptionText(escape(text), false)}
		ch := channel
		if ch == "" {
			dm, err := a.openDM(ctx, user)
			if err != nil {
				a.log.Warn("ephemeral answer not shown: no DM", "event", ev.ID, "err", err)
				return
			}
			ch = dm
		}
		if thread != "" {
			opts = append(opts, slackgo.MsgOptionTS(thread))
		}
		_, err := a.api.PostEphemeralContext(ctx, ch, user, opts...)
		if err == nil {
			return
		}
		if responseURL == "" {
			a.log.Warn("chat.postEphemeral failed", "event", ev.ID, "err", err)
			return
		}
		a.log.Info("chat.postEphemeral failed; answering through response_url", "event", ev.ID, "err", err)
		_, _, err = a.api.PostMessageContext(ctx, ch,
			slackgo.MsgOptionText(escape(text), false),
			slackgo.MsgOptionResponseURL(responseURL, slackgo.ResponseTypeEphemeral))
		if err != nil {
			// the error may quote the response_url, a short-lived credential
			a.log.Warn("response_url answer failed", "event", ev.ID, "err", withoutURL(err))
		}
	}
}

// withoutURL strips the request URL from a transport error.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// idFor makes an Event.ID from a Slack identifier, unique across platforms.
func idFor(kind, id string) string { return "slack:" + kind + ":" + id }

// unixTS parses a Slack ts ("1700000000.000100") as a time; now when malformed.
func unixTS(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || ts == "" {
		return time.Now().UTC()
	}
	frac = (frac + "000000")[:6]
	us, _ := strconv.ParseInt(frac, 10, 64)
	return time.Unix(s, us*1000).UTC()
}
