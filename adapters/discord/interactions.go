package discord

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/advocate-bot/advocate/bot"
)

// Texts the adapter itself shows. The core's texts are configurable; these two
// only appear when the core gave no words.
const (
	// ackText acknowledges a command the core accepted without a reply: a
	// command interaction must be answered with a message or a modal.
	ackText = "✅"
	// tryAgainText answers an interaction the core could not commit.
	tryAgainText = "Sorry, something went wrong on our side. Please try again in a moment."
)

// Discord's limits on what the adapter sends.
const (
	maxContent     = 2000
	maxButtonLabel = 80
	maxModalTitle  = 45
	maxInputLabel  = 45
	maxInputValue  = 4000
	maxModalInputs = 5
)

// onInteractionCreate answers an interaction received over the gateway.
func (a *Adapter) onInteractionCreate(s *discordgo.Session, ic *discordgo.InteractionCreate) {
	if ic == nil || ic.Interaction == nil {
		return
	}
	h, base := a.current()
	if h == nil {
		return
	}
	i := ic.Interaction
	a.interactions.Run(interactionKey(i), func() {
		ctx, cancel := context.WithTimeout(base, a.policy.handleTimeout)
		defer cancel()
		resp := a.interact(ctx, h, i)
		if resp == nil {
			return
		}
		if err := s.InteractionRespond(i, resp, discordgo.WithContext(ctx)); err != nil {
			a.log.Error("interaction response failed", "interaction", i.ID, "type", int(resp.Type), "err", redact(err, i.Token))
		}
	})
}

// interactionKey is the conversation an interaction belongs to, for
// ordering: a click's or a form's channel (a case's thread, a DM), or for a
// command the person in their channel.
func interactionKey(i *discordgo.Interaction) string {
	if i.Message != nil {
		return i.ChannelID
	}
	return i.ChannelID + "@" + person(i.User, i.Member).ID
}

// interact runs an interaction through the core and returns the initial
// response, or nil for an interaction that gets none (autocomplete, pings are
// answered by the HTTP endpoint).
func (a *Adapter) interact(ctx context.Context, h bot.Handler, i *discordgo.Interaction) *discordgo.InteractionResponse {
	ev, ok := a.interactionEvent(i)
	if !ok {
		if i.Type == discordgo.InteractionApplicationCommand || i.Type == discordgo.InteractionMessageComponent ||
			i.Type == discordgo.InteractionModalSubmit {
			a.log.Warn("interaction not understood", "interaction", i.ID, "type", int(i.Type))
			return ephemeral(tryAgainText)
		}
		return nil
	}
	reply, err := h.Handle(ctx, ev)
	if err != nil {
		a.log.Error("interaction not handled", "interaction", i.ID, "kind", ev.Kind, "err", err)
		return ephemeral(tryAgainText)
	}
	return a.response(i, reply)
}

// interactionEvent translates an interaction into an event.
func (a *Adapter) interactionEvent(i *discordgo.Interaction) (bot.Event, bool) {
	ev := bot.Event{
		ID:     i.ID,
		Where:  bot.Ref{Platform: bot.Discord, Space: i.GuildID, Channel: i.ChannelID},
		Author: person(i.User, i.Member),
		Direct: i.GuildID == "",
		At:     snowflakeTime(i.ID),
	}
	if i.Message != nil {
		ev.Where.Message = i.Message.ID
	}
	// The data is asserted rather than read with discordgo's helpers, which
	// panic on a mismatch.
	switch d := i.Data.(type) {
	case discordgo.ApplicationCommandInteractionData:
		if i.Type != discordgo.InteractionApplicationCommand {
			return ev, false
		}
		return commandEvent(d, ev)
	case discordgo.MessageComponentInteractionData:
		if d.CustomID == "" || d.ComponentType != discordgo.ButtonComponent {
			return ev, false
		}
		ev.Kind = bot.EventAction
		ev.ActionID = d.CustomID
		return ev, true
	case discordgo.ModalSubmitInteractionData:
		ev.Kind = bot.EventSubmit
		ev.ActionID = d.CustomID
		ev.Fields = modalFields(d.Components)
		return ev, d.CustomID != ""
	}
	return ev, false
}

// modalFields collects the text inputs of a submitted modal by custom_id.
func modalFields(rows []discordgo.MessageComponent) map[string]string {
	out := map[string]string{}
	var walk func(c discordgo.MessageComponent)
	walk = func(c discordgo.MessageComponent) {
		switch v := c.(type) {
		case *discordgo.ActionsRow:
			for _, ch := range v.Components {
				walk(ch)
			}
		case discordgo.ActionsRow:
			for _, ch := range v.Components {
				walk(ch)
			}
		case *discordgo.TextInput:
			out[v.CustomID] = v.Value
		case discordgo.TextInput:
			out[v.CustomID] = v.Value
		}
	}
	for _, r := range rows {
		walk(r)
	}
	return out
}

// response turns the core's reply into the interaction's initial response: a
// modal (9), an ephemeral message (4, flags 64), or for a click a deferred
// update (6) that leaves the message as it is until the outbox edits it.
// Commands and modals opened by commands have no message to update: an
// ephemeral acknowledgement answers them.
func (a *Adapter) response(i *discordgo.Interaction, r bot.Reply) *discordgo.InteractionResponse {
	switch {
	case r.Modal != nil && i.Type != discordgo.InteractionModalSubmit:
		return modalResponse(r.Modal)
	case r.Ephemeral != "":
		return ephemeral(r.Ephemeral)
	case i.Message != nil && (i.Type == discordgo.InteractionMessageComponent || i.Type == discordgo.InteractionModalSubmit):
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	}
	return ephemeral(ackText)
}

// ephemeral is a message only the interacting user sees.
func ephemeral(text string) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content:         truncate(text, maxContent),
			Flags:           discordgo.MessageFlagsEphemeral,
			AllowedMentions: noMentions(),
		},
	}
}

// modalResponse renders a bot.Modal within Discord's limits: a title of at
// most 45 characters, at most five text inputs, each with the field's ID as
// custom_id. Discord modals have no custom submit label.
func modalResponse(m *bot.Modal) *discordgo.InteractionResponse {
	title := truncate(m.Title, maxModalTitle)
	if title == "" {
		title = "advocate"
	}
	var rows []discordgo.MessageComponent
	for _, f := range m.Fields[:min(len(m.Fields), maxModalInputs)] {
		in := discordgo.TextInput{
			CustomID: f.ID,
			Label:    truncate(f.Label, maxInputLabel),
			Style:    discordgo.TextInputShort,
			Required: f.Required,
		}
		if in.Label == "" {
			in.Label = f.ID
		}
		if f.Multiline {
			in.Style = discordgo.TextInputParagraph
		}
		limit := maxInputValue
		if f.MaxLen > 0 && f.MaxLen < limit {
			limit = f.MaxLen
		}
		in.MaxLength = limit
		in.Value = truncate(f.Value, limit)
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{in}})
	}
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{CustomID: m.ActionID, Title: title, Components: rows},
	}
}

// truncate shortens s to at most n characters, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// snowflakeTime is when a snowflake ID was made, or now.
func snowflakeTime(id string) time.Time {
	t, err := discordgo.SnowflakeTimestamp(id)
	if err != nil || t.Before(time.Date(2015, 1, 2, 0, 0, 0, 0, time.UTC)) {
		return time.Now()
	}
	return t
}

// redact removes an interaction token from an error before it is logged: the
// callback URL carries it.
func redact(err error, token string) string {
	s := err.Error()
	if token != "" {
		s = strings.ReplaceAll(s, token, "[token]")
	}
	return s
}
