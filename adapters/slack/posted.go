package slack

import (
	"context"
	"fmt"
	"time"

	slackgo "github.com/slack-go/slack"
)

// Slack's chat.postMessage has no idempotency key. Instead, every post of an
// outbox action carries the action's nonce as message metadata, and a post
// that may already have been made (bot.Message.PostedSince) is first looked
// for in the channel or thread; if found, its ts is the delivery and nothing
// is posted again.

// outboxEventType is the metadata event type of the bot's outbox posts.
const outboxEventType = "advocate_outbox"

// lookbackPages bounds the history pages read when looking for a post.
const lookbackPages = 5

// clockSkew widens the search: Slack's clock and ours may disagree.
const clockSkew = time.Minute

// outboxMetadata tags a post with its outbox nonce.
func outboxMetadata(nonce string) slackgo.MsgOption {
	return slackgo.MsgOptionMetadata(slackgo.SlackMetadata{
		EventType:    outboxEventType,
		EventPayload: map[string]any{"nonce": nonce},
	})
}

// findPosted looks for a message the bot posted with nonce in channel (in
// thread, if not empty) since since, and returns its ts.
func (a *Adapter) findPosted(ctx context.Context, channel, thread, nonce string, since time.Time) (string, bool, error) {
	oldest := since.Add(-clockSkew)
	params := slackgo.GetConversationHistoryParameters{
		ChannelID:          channel,
		Oldest:             fmt.Sprintf("%d.%06d", oldest.Unix(), oldest.Nanosecond()/1000),
		Limit:              200,
		IncludeAllMetadata: true,
	}
	for range lookbackPages {
		msgs, cursor, err := a.history(ctx, thread, params)
		if err != nil {
			return "", false, err
		}
		for _, m := range msgs {
			if m.User == a.botUserID && m.Metadata.EventType == outboxEventType && m.Metadata.EventPayload["nonce"] == nonce {
				return m.Timestamp, true, nil
			}
		}
		if cursor == "" {
			break
		}
		params.Cursor = cursor
	}
	return "", false, nil
}

// history reads one page of a channel's history, or of a thread's replies.
func (a *Adapter) history(ctx context.Context, thread string, p slackgo.GetConversationHistoryParameters) ([]slackgo.Message, string, error) {
	if thread == "" {
		resp, err := a.api.GetConversationHistoryContext(ctx, &p)
		if err != nil {
			return nil, "", deliveryError("conversations.history", err)
		}
		return resp.Messages, resp.ResponseMetaData.NextCursor, nil
	}
	msgs, _, cursor, err := a.api.GetConversationRepliesContext(ctx, &slackgo.GetConversationRepliesParameters{
		ChannelID: p.ChannelID, Timestamp: thread, Cursor: p.Cursor, Oldest: p.Oldest,
		Limit: p.Limit, IncludeAllMetadata: true,
	})
	if err != nil {
		return nil, "", deliveryError("conversations.replies", err)
	}
	return msgs, cursor, nil
}
