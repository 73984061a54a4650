package slack_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack"
	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
)

// countingHandler stands in for the core: it counts what reaches it.
type countingHandler struct{ n atomic.Int64 }

func (c *countingHandler) Handle(context.Context, bot.Event) (bot.Reply, error) {
	c.n.Add(1)
	return bot.Reply{}, nil
}

// FuzzHTTPDeliveries sends arbitrary, correctly signed bodies to the three
// HTTP-mode endpoints: whatever the payload, the adapter answers with a clear
// status and never fails (5xx) or panics.
func FuzzHTTPDeliveries(f *testing.F) {
	fake := slackfake.New(f)
	fake.AddChannel(supportID, "support", true)
	fake.AddChannel(staffID, "staff", false)
	fake.AddChannel(showcaseID, "showcase", true)
	fake.AddUser(adaID, "Ada")
	a, err := slack.New(slack.Options{
		BotToken: fake.BotToken(), SigningSecret: fake.SigningSecret(), Mode: slack.ModeHTTP,
		APIURL: fake.APIURL(), SupportChannels: []string{supportID}, StaffChannel: staffID, ShowcaseChannel: showcaseID,
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	go func() { _ = a.Run(ctx, &countingHandler{}) }()
	for a.Connected() != nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	srv := httptest.NewServer(a.Handler())
	f.Cleanup(srv.Close)

	msg, _ := fake.PostAsUser(adaID, supportID, "", "help")
	ev, _ := fake.MessageEvent(msg)
	events, _, _ := fake.EventCallbackBody(ev)
	click, _ := fake.ClickButtonPayload(adaID, supportID, msg.TS, "a1.1.1.rate.5.x", "")
	cmd, _ := fake.SlashCommandForm(adaID, supportID, "/support", "my card")
	f.Add(uint8(0), events)
	f.Add(uint8(0), []byte(`{"type":"url_verification","challenge":"c"}`))
	f.Add(uint8(1), slackfake.InteractiveBody(click))
	f.Add(uint8(2), []byte(cmd.Encode()))
	paths := []string{"/slack/events", "/slack/interactive", "/slack/commands"}
	types := []string{slackfake.JSONContentType, slackfake.FormContentType, slackfake.FormContentType}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		i := int(which) % len(paths)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+paths[i], bytes.NewReader(body))
		ts := time.Now().Unix()
		req.Header.Set("Content-Type", types[i])
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", slackfake.Sign(fake.SigningSecret(), ts, body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", paths[i], err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s with %q: status %d", paths[i], body, resp.StatusCode)
		}
	})
}
