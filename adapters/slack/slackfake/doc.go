// Package slackfake is a loopback fake of Slack for end-to-end tests of code that
// uses the real slack-go client.
//
// A Server serves the Web API under /api/ (point slack.OptionAPIURL at APIURL),
// Socket Mode websockets under /link/ (apps.connections.open hands out the URL),
// and response_url endpoints under /actions/ and /commands/. It keeps per-channel
// message history, ephemeral messages, opened views and every socket envelope with
// its acknowledgement, so tests drive a conversation from the user's side
// (UserSays, ClickButton, SubmitView, SlashCommand) and assert on what the bot did
// (Messages, Thread, Ephemerals, Views, WaitAck, and Effects: every outward
// effect in order). WaitUntil waits for any condition on that state without
// sleeping. DeliverOverHTTP sends the same envelopes to an app in HTTP mode
// instead, as signed POSTs with Slack's retries. Tests disturb it with the
// fault vocabulary discordfake shares (RateLimit, Fail, LoseResponse, Hold per
// Web API method; DropConnections, RequestReconnect) and Slack's own
// RateLimitChannel, Disconnect with a reason, PausePings, FailDM and FailPosts.
//
// It is faithful where an adapter depends on Slack's behaviour: token kinds and
// their errors (in HTTP 200 bodies), 429 responses with Retry-After in whole
// seconds, ts values that are unique and increasing, envelope shapes as Slack sends
// them (block_id always a string, generated block_id and action_id when the app
// left them out, retry_attempt and retry_reason on redelivered events), echoes of
// the app's own posts as message events, acknowledgement deadlines, WebSocket PING
// frames, disconnect envelopes, single-use triggers that expire, response_url use
// limits, Block Kit length limits, and signed HTTP deliveries with Slack's retry
// headers.
//
// Visibility: public channels are seen by every member, private ones by the
// members added with AddMembers, a DM by its user; the bot is in every
// channel and may post anywhere. People post, click, run commands and
// shortcuts only where they can see (CanView); VisibleTo lists what a person
// can read, the ephemeral messages shown to them included.
//
// Not modelled: joining and leaving channels, multi-person DMs, files, reactions, attachments beyond "present",
// message_changed and message_deleted events, the ten-connection limit of Socket
// Mode, token revocation, and Slack's burst allowance on rate limits.
//
// The server listens on 127.0.0.1 only and keeps no package-level state; every
// Server is independent.
package slackfake
