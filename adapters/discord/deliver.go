package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/advocate-bot/advocate/bot"
)

// Discord JSON error codes that mean "this will never be delivered".
const (
	codeUnknownChannel  = 10003
	codeUnknownMember   = 10007
	codeUnknownMessage  = 10008
	codeUnknownUser     = 10013
	codeMissingAccess   = 50001
	codeCannotDM        = 50007
	codeMissingPerms    = 50013
	maxButtons          = 25
	buttonsPerRow       = 5
	threadArchiveMinute = 10080 // a week: the survey and share prompt follow resolution
)

// messageCreate is the body of POST /channels/{id}/messages. discordgo's
// MessageSend has no nonce, so the adapter sends its own JSON.
type messageCreate struct {
	Content          string                            `json:"content"`
	Components       []discordgo.MessageComponent      `json:"components,omitempty"`
	AllowedMentions  *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	MessageReference *discordgo.MessageReference       `json:"message_reference,omitempty"`
	Nonce            string                            `json:"nonce,omitempty"`
	EnforceNonce     bool                              `json:"enforce_nonce,omitempty"`
}

// messageEdit is the body of PATCH /channels/{id}/messages/{id}: components
// are always sent, so a message without buttons loses the used ones.
type messageEdit struct {
	Content         string                            `json:"content"`
	Components      []discordgo.MessageComponent      `json:"components"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
}

// noMentions lets a message ping nobody: customer text may contain @everyone
// or role mentions.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// rest are the request options of an outbox call: the relay's context, and
// 429s returned (as bot.RetryAfterError) rather than slept on inside discordgo,
// so the relay schedules the retry.
func rest(ctx context.Context) []discordgo.RequestOption {
	return []discordgo.RequestOption{discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false)}
}

// Send posts m to a channel or thread. A ref with Thread set on a channel is a
// reply under that message (Discord has no Slack-style threads under a
// message); the named channels go to the configured staff and showcase
// channels. The nonce makes a retried send return the first message.
func (a *Adapter) Send(ctx context.Context, to bot.Ref, m bot.Message) (bot.Ref, error) {
	channel, err := a.channel(to.Channel)
	if err != nil {
		return bot.Ref{}, err
	}
	body := a.createBody(m)
	if to.Thread != "" {
		fail := false
		body.MessageReference = &discordgo.MessageReference{MessageID: to.Thread, ChannelID: channel, FailIfNotExists: &fail}
		// The reply pings the customer who asked, and nobody else.
		body.AllowedMentions.RepliedUser = true
	}
	msg, err := a.createMessage(ctx, channel, body)
	if err != nil {
		return bot.Ref{}, classify("send", err)
	}
	space := to.Space
	if msg.GuildID != "" {
		space = msg.GuildID
	}
	return bot.Ref{Platform: bot.Discord, Space: space, Channel: channel, Thread: to.Thread, Message: msg.ID}, nil
}

// Update replaces a posted message's text and buttons.
func (a *Adapter) Update(ctx context.Context, msg bot.Ref, m bot.Message) error {
	if msg.Channel == "" || msg.Message == "" {
		return fmt.Errorf("discord: update: no message: %w", bot.ErrUndeliverable)
	}
	body := messageEdit{
		Content:         truncate(m.Text, maxContent),
		Components:      a.components(m.Buttons),
		AllowedMentions: noMentions(),
	}
	if body.Components == nil {
		body.Components = []discordgo.MessageComponent{}
	}
	endpoint := discordgo.EndpointChannelMessage(msg.Channel, msg.Message)
	_, err := a.session.RequestWithBucketID(http.MethodPatch, endpoint, body, discordgo.EndpointChannelMessage(msg.Channel, ""), rest(ctx)...)
	if err != nil {
		return classify("edit message", err)
	}
	return nil
}

// Delete removes a message: one the bot posted (a withdrawn testimonial) or
// one a person wrote (a staff note typed in the customer's thread, which
// needs Manage Messages). One already gone counts as deleted.
func (a *Adapter) Delete(ctx context.Context, msg bot.Ref) error {
	if msg.Channel == "" || msg.Message == "" {
		return fmt.Errorf("discord: delete: no message: %w", bot.ErrUndeliverable)
	}
	err := a.session.ChannelMessageDelete(msg.Channel, msg.Message, rest(ctx)...)
	if code, _ := restCode(err); code == codeUnknownMessage {
		return nil
	}
	if err != nil {
		return classify("delete message", err)
	}
	return nil
}

// channel resolves the named channels.
func (a *Adapter) channel(ch string) (string, error) {
	switch ch {
	case bot.StaffChannel:
		ch = a.opts.StaffChannel
	case bot.ShowcaseChannel:
		ch = a.opts.ShowcaseChannel
	}
	if ch == "" {
		return "", fmt.Errorf("discord: send: no channel configured: %w", bot.ErrUndeliverable)
	}
	return ch, nil
}

// createBody renders a message: text within Discord's limit, buttons in
// action rows, no mentions, and the relay's nonce enforced.
func (a *Adapter) createBody(m bot.Message) messageCreate {
	b := messageCreate{
		Content:         truncate(m.Text, maxContent),
		Components:      a.components(m.Buttons),
		AllowedMentions: noMentions(),
	}
	if n := m.Nonce; n != "" && len(n) <= 25 {
		b.Nonce, b.EnforceNonce = n, true
	}
	return b
}

// createMessage posts a message with discordgo's rate limiting and bucket.
func (a *Adapter) createMessage(ctx context.Context, channel string, body messageCreate) (*discordgo.Message, error) {
	endpoint := discordgo.EndpointChannelMessages(channel)
	raw, err := a.session.RequestWithBucketID(http.MethodPost, endpoint, body, endpoint, rest(ctx)...)
	if err != nil {
		return nil, err
	}
	var msg discordgo.Message
	if err := json.Unmarshal(raw, &msg); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	if msg.ID == "" {
		return nil, errors.New("decode message: no ID")
	}
	return &msg, nil
}

// components lays buttons out five to a row, at most five rows. A link button
// points at advocate's tracking redirect, which counts the click (Discord
// reports none for link buttons) and forwards to the target.
func (a *Adapter) components(buttons []bot.Button) []discordgo.MessageComponent {
	if len(buttons) == 0 {
		return nil
	}
	if len(buttons) > maxButtons {
		a.log.Warn("too many buttons for one Discord message, extra ones dropped", "buttons", len(buttons))
		buttons = buttons[:maxButtons]
	}
	var rows []discordgo.MessageComponent
	var row []discordgo.MessageComponent
	for _, b := range buttons {
		btn := discordgo.Button{Label: truncate(b.Label, maxButtonLabel), Style: buttonStyle(b.Style), CustomID: b.ActionID}
		if b.URL != "" {
			btn.Style, btn.CustomID, btn.URL = discordgo.LinkButton, "", a.linkURL(b)
		}
		row = append(row, btn)
		if len(row) == buttonsPerRow {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, discordgo.ActionsRow{Components: row})
	}
	return rows
}

// linkURL is the tracked link of a link button (bot.TrackURL), or the target
// itself when no public URL is configured.
func (a *Adapter) linkURL(b bot.Button) string {
	if a.opts.PublicURL == "" || b.ActionID == "" {
		return b.URL
	}
	return bot.TrackURL(a.opts.PublicURL, b.ActionID)
}

func buttonStyle(s string) discordgo.ButtonStyle {
	switch s {
	case "primary":
		return discordgo.PrimaryButton
	case "danger":
		return discordgo.DangerButton
	case "success":
		return discordgo.SuccessButton
	}
	return discordgo.SecondaryButton
}

// classify maps Discord's answer to what the relay needs: rate limits become
// bot.RetryAfterError, destinations that cannot take the message become
// bot.ErrUndeliverable, anything else is retried with backoff.
func classify(op string, err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return &bot.RetryAfterError{After: max(rl.RetryAfter, 50*time.Millisecond), Err: fmt.Errorf("discord: %s: %w", op, err)}
	}
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Response == nil {
		return fmt.Errorf("discord: %s: %w", op, err)
	}
	code, status := restCode(err)
	switch {
	case status == http.StatusTooManyRequests:
		return &bot.RetryAfterError{After: retryAfter(re.Response.Header), Err: fmt.Errorf("discord: %s: %w", op, err)}
	case status == http.StatusForbidden,
		code == codeUnknownChannel, code == codeUnknownMessage, code == codeUnknownMember, code == codeUnknownUser,
		code == codeMissingAccess, code == codeCannotDM, code == codeMissingPerms:
		return fmt.Errorf("discord: %s: %w: %w", op, bot.ErrUndeliverable, err)
	}
	return fmt.Errorf("discord: %s: %w", op, err)
}

// restCode is the JSON error code and HTTP status of a REST error, or zeros.
func restCode(err error) (code, status int) {
	var re *discordgo.RESTError
	if err == nil || !errors.As(err, &re) || re.Response == nil {
		return 0, 0
	}
	if re.Message != nil {
		code = re.Message.Code
	}
	return code, re.Response.StatusCode
}

// retryAfter reads a Retry-After header in seconds, defaulting to one second.
func retryAfter(h http.Header) time.Duration {
	if v, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After")), 64); err == nil && v > 0 {
		return time.Duration(v * float64(time.Second))
	}
	return time.Second
}
