package main

import (
	"context"
	"fmt"
	"io"
	"os"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/advocate-bot/advocate/config"
)

// The floor: with -floor, advocate-load runs the same load against itself
// as a bot that does nothing but acknowledge, over the same slack-go Socket
// Mode client advocate uses: no store, no decision. Its latency is what the
// machine, the fake platform, the simulated people and the client cost
// before advocate does anything, the least any bot could measure here.

// floorCommand is the argument that makes advocate-load the floor's bot
// (the load tool starts a bot as `BIN run --config FILE`).
const floorCommand = "run"

// ackOnly is the floor's bot: `run --config FILE [flags]`. It acknowledges
// every Socket Mode envelope as soon as the client hands it over, until ctx
// ends.
func ackOnly(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "--config" {
		fmt.Fprintln(stderr, "advocate-load run: want --config FILE")
		return 2
	}
	cfg, err := config.Load(args[1], os.Getenv)
	if err != nil || cfg.Slack.AppToken == "" {
		fmt.Fprintf(stderr, "advocate-load run: no slack section in %s: %v\n", args[1], err)
		return 2
	}
	api := slackgo.New(cfg.Slack.BotToken, slackgo.OptionAppLevelToken(cfg.Slack.AppToken), slackgo.OptionAPIURL(cfg.Slack.APIURL))
	client := socketmode.New(api)
	go func() {
		for evt := range client.Events {
			if evt.Request != nil && evt.Request.EnvelopeID != "" {
				_ = client.AckCtx(ctx, evt.Request.EnvelopeID, nil)
			}
		}
	}()
	if err := client.RunContext(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "advocate-load run: %v\n", err)
		return 1
	}
	return 0
}
