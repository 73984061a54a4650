package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/advocate-bot/advocate/bot"
)

// webAPI is the part of the Slack Web API the adapter uses; *slackgo.Client
// implements it, and unit tests replace it.
type webAPI interface {
	AuthTestContext(ctx context.Context) (*slackgo.AuthTestResponse, error)
	GetConversationsContext(ctx context.Context, params *slackgo.GetConversationsParameters) ([]slackgo.Channel, string, error)
	OpenConversationContext(ctx context.Context, params *slackgo.OpenConversationParameters) (*slackgo.Channel, bool, bool, error)
	PostMessageContext(ctx context.Context, channelID string, options ...slackgo.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slackgo.MsgOption) (string, string, string, error)
	DeleteMessageContext(ctx context.Context, channelID, timestamp string) (string, string, error)
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slackgo.MsgOption) (string, error)
	GetUserInfoContext(ctx context.Context, user string, options ...slackgo.GetUserInfoOption) (*slackgo.User, error)
	GetUserGroupMembersContext(ctx context.Context, userGroup string, options ...slackgo.GetUserGroupMembersOption) ([]string, error)
	OpenViewContext(ctx context.Context, triggerID string, view slackgo.ModalViewRequest) (*slackgo.ViewResponse, error)
	GetConversationHistoryContext(ctx context.Context, params *slackgo.GetConversationHistoryParameters) (*slackgo.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slackgo.GetConversationRepliesParameters) ([]slackgo.Message, bool, string, error)
}

var _ webAPI = (*slackgo.Client)(nil)

// undeliverable reports whether a Slack error code means that retrying cannot
// help: the destination is gone or closed to the bot, or the message no longer
// exists.
func undeliverable(code string) bool {
	switch code {
	case "channel_not_found", "is_archived", "not_in_channel", "cannot_dm_bot",
		"user_not_found", "user_disabled", "user_not_visible", "messages_tab_disabled",
		"restricted_action", "restricted_action_read_only_channel",
		"restricted_action_thread_only_channel", "restricted_action_non_threadable_channel",
		"team_access_not_granted", "message_not_found", "cant_update_message",
		"cant_delete_message", "edit_window_closed":
		return true
	}
	return false
}

// errorCode is the Slack error code of err ("channel_not_found"), or "".
func errorCode(err error) string {
	var se slackgo.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// deliveryError maps a Web API error to what the relay understands: a rate
// limit becomes *bot.RetryAfterError, a dead destination bot.ErrUndeliverable.
func deliveryError(method string, err error) error {
	var rl *slackgo.RateLimitedError
	if errors.As(err, &rl) {
		return &bot.RetryAfterError{After: rl.RetryAfter, Err: fmt.Errorf("slack %s: %w", method, err)}
	}
	if undeliverable(errorCode(err)) {
		return fmt.Errorf("slack %s: %w: %w", method, err, bot.ErrUndeliverable)
	}
	return fmt.Errorf("slack %s: %w", method, err)
}

// looksLikeID reports whether a configured channel is an ID (C…, G… or D…,
// upper-case letters and digits) rather than a name, which Slack keeps lower-case.
func looksLikeID(s string) bool {
	if len(s) < 9 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// normalizeName turns "#Support " into "support".
func normalizeName(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "#"))
}

// resolveChannels maps each configured channel to its ID. IDs map to
// themselves; names are looked up with conversations.list (public and private
// channels the token can see), only when there is a name to resolve.
func resolveChannels(ctx context.Context, api webAPI, wanted []string) (map[string]string, error) {
	ids := map[string]string{}
	var names []string
	for _, w := range wanted {
		if looksLikeID(strings.TrimSpace(w)) {
			ids[w] = strings.TrimSpace(w)
			continue
		}
		names = append(names, w)
	}
	if len(names) == 0 {
		return ids, nil
	}
	byName := map[string]string{}
	params := &slackgo.GetConversationsParameters{
		ExcludeArchived: true,
		Limit:           1000,
		Types:           []string{"public_channel", "private_channel"},
	}
	for page := 0; page < 100; page++ {
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		chans, next, err := api.GetConversationsContext(cctx, params)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("slack: conversations.list to resolve channel names: %w", err)
		}
		for _, c := range chans {
			byName[normalizeName(c.Name)] = c.ID
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	var missing []string
	for _, n := range names {
		id, ok := byName[normalizeName(n)]
		if !ok {
			missing = append(missing, fmt.Sprintf("%q", n))
			continue
		}
		ids[n] = id
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("slack: channel %s not found (check the name, and invite the bot to private channels)", strings.Join(missing, ", "))
	}
	return ids, nil
}
