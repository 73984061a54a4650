package discord

import (
	"context"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/advocate-bot/advocate/bot"
)

// onMessageCreate hands a user's message to the core.
func (a *Adapter) onMessageCreate(_ *discordgo.Session, m *discordgo.MessageCreate) {
	if m == nil || m.Message == nil {
		return
	}
	ev, ok := a.messageEvent(m.Message)
	if !ok {
		return
	}
	h, base := a.current()
	if h == nil {
		return
	}
	a.messages.Run(messageKey(ev), func() { a.handleMessage(base, h, ev) })
}

// intakeWorkers bounds the messages, and apart the interactions, handed to
// the core at once. What arrives beyond it waits in its lane, where no
// timeout runs: a flood of questions queued in the store under
// handleTimeout lost those that waited longest.
const intakeWorkers = 64

// messageKey is the conversation a message belongs to, for ordering: one
// person's questions in a support channel, a thread or a DM as a whole.
func messageKey(ev bot.Event) string {
	if ev.Support {
		return ev.Where.Channel + "@" + ev.Author.ID
	}
	return ev.Where.Channel
}

// handleMessage passes ev to the core, retrying a failed commit a few times: a
// gateway message is not redelivered, and the core drops duplicates by ID.
func (a *Adapter) handleMessage(base context.Context, h bot.Handler, ev bot.Event) {
	wait := 100 * time.Millisecond
	base = bot.Unacknowledged(base) // Discord acknowledges no message
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(base, a.policy.handleTimeout)
		_, err := h.Handle(ctx, ev)
		cancel()
		if err == nil {
			return
		}
		if attempt == 3 || base.Err() != nil {
			a.log.Error("message not handled", "event", ev.ID, "kind", ev.Kind, "channel", ev.Where.Channel, "err", err)
			return
		}
		if !sleep(base, wait) {
			return
		}
		wait *= 4
	}
}

// messageEvent translates a message a person wrote. It ignores bots (the bot
// itself included), webhooks, system messages, and, to spare the store,
// messages in plain channels that are neither support channels nor mention
// the bot: those can belong to no case. Messages in threads and in channels
// the state does not know go to the core, which matches them to a case's
// private thread.
func (a *Adapter) messageEvent(m *discordgo.Message) (bot.Event, bool) {
	if m.Author == nil || m.Author.Bot || m.WebhookID != "" {
		return bot.Event{}, false
	}
	self := a.botUserID()
	if self != "" && m.Author.ID == self {
		return bot.Event{}, false
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return bot.Event{}, false
	}
	ev := bot.Event{
		ID:     m.ID,
		Kind:   bot.EventMessage,
		Where:  bot.Ref{Platform: bot.Discord, Space: m.GuildID, Channel: m.ChannelID, Message: m.ID},
		Author: person(m.Author, m.Member),
		Text:   m.Content,
		At:     m.Timestamp,
	}
	mentioned := self != "" && mentions(m, self)
	switch {
	case m.GuildID == "":
		ev.Direct = true
	case a.isSupport(m.ChannelID):
		ev.Support = true
	case !mentioned && a.plainChannel(m.ChannelID):
		return bot.Event{}, false
	}
	if mentioned {
		ev.Kind = bot.EventMention
		ev.Text = stripMention(ev.Text, self)
	}
	return ev, true
}

// plainChannel reports whether the state knows the channel as a guild channel
// that is not a thread.
func (a *Adapter) plainChannel(id string) bool {
	ch, err := a.session.State.Channel(id)
	return err == nil && ch != nil && !ch.IsThread()
}

// mentions reports whether m's text mentions user id. A reply to one of the
// bot's posts lists the bot in m.Mentions too, but is no call for help (a
// comment under a testimonial), so the text must carry the mention.
func mentions(m *discordgo.Message, id string) bool {
	return strings.Contains(m.Content, "<@"+id+">") || strings.Contains(m.Content, "<@!"+id+">")
}

// stripMention removes the bot's mention from a question.
func stripMention(text, id string) string {
	text = strings.ReplaceAll(text, "<@"+id+">", "")
	text = strings.ReplaceAll(text, "<@!"+id+">", "")
	return strings.TrimSpace(text)
}
