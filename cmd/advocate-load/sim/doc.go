// Package sim runs the real advocate binary against a loopback Slack and plays
// the people around it: customers who ask in the support channel, rate and
// share, and a staff member who answers and resolves. The end-to-end tests in
// e2e and the advocate-load tool share it.
//
// The bot is a separate process (Build, Start), so it can be killed with
// SIGKILL and restarted on the same database, and its resident memory read
// from /proc. The people act through slackfake's Socket Mode envelopes and
// wait for the bot's answers as a person would, by looking at the channels;
// what they measure (acknowledgement latency, outbox lag) goes to a Recorder.
package sim
