// Package slackfake is a loopback fake of Slack for end-to-end tests of code that
// uses the real slack-go client.
//
// A Server serves the Web API under /api/ (point slack.OptionAPIURL at APIURL),
// Socket Mode websockets under /link/ (apps.connections.open hands out the URL),
// and response_url endpoints under /actions/ and /commands/. It keeps per-channel
// message history, ephemeral messages, opened views and every socket envelope with
// its acknowledgement, so tests can drive a conversation from the user's side
// (UserSays, ClickButton, SubmitView, SlashCommand) and assert on what the bot did
// (Messages, Thread, Ephemerals, Views, WaitAck).
//
// It is faithful where an adapter depends on Slack's behaviour: token kinds and
// their errors (with HTTP 200 bodies), 429 responses with Retry-After in whole
// seconds, ts values that are unique and increasing, envelope shapes as Slack sends
// them (block_id always a string, generated block and action IDs, retry_attempt and
// retry_reason on redelivered events), acknowledgement deadlines, WebSocket PING
// frames, disconnect envelopes, single-use triggers that expire, response_url use
// limits, and signed HTTP deliveries with Slack's retry headers. What it does not
// model is listed in the README-style notes on each method.
//
// The server listens on 127.0.0.1 only and keeps no package-level state; every
// Server is independent.
package slackfake
