package slack_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
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
//
// The handler is called in-process and the seeds are small, hand-written
// deliveries of each kind: the fuzzer mutates and minimises every input it
// keeps, and large seeds or a network round trip per input left a 10 s run
// only a few hundred inputs.
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
	h := a.Handler()

	const events, interactive, commands = 0, 1, 2
	message := `{"type":"message","channel":"` + supportID + `","user":"` + adaID + `","text":"help","ts":"1.1"}`
	for _, seed := range []struct {
		which uint8
		body  string
	}{
		{events, `{"type":"url_verification","challenge":"c"}`},
		{events, `{"type":"app_rate_limited"}`},
		{events, `{"type":"event_callback","event_id":"Ev1","event":` + message + `}`},
		{events, `{"type":"event_callback","event_id":"Ev2","event":{"type":"app_mention","channel":"C0ELSEWHERE","user":"` + adaID + `","text":"<@U0> help","ts":"1.2"}}`},
		{interactive, "payload=" + url.QueryEscape(`{"type":"block_actions","user":{"id":"`+adaID+`"},"channel":{"id":"`+supportID+`"},"message":{"ts":"1.1"},"actions":[{"type":"button","block_id":"b","action_id":"a1.1.1.rate.5.x","value":"5"}]}`)},
		{interactive, "payload=" + url.QueryEscape(`{"type":"view_submission","user":{"id":"`+adaID+`"},"view":{"callback_id":"advocate","private_metadata":"a1.1.1.post.3.x","state":{"values":{"b":{"text":{"value":"hi"}}}}}}`)},
		{commands, "command=%2Fsupport&text=my+card&user_id=" + adaID + "&channel_id=" + supportID},
	} {
		f.Add(seed.which, []byte(seed.body))
	}
	paths := []string{"/slack/events", "/slack/interactive", "/slack/commands"}
	types := []string{slackfake.JSONContentType, slackfake.FormContentType, slackfake.FormContentType}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		i := int(which) % len(paths)
		req := httptest.NewRequest(http.MethodPost, paths[i], bytes.NewReader(body))
		ts := time.Now().Unix()
		req.Header.Set("Content-Type", types[i])
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Slack-Signature", slackfake.Sign(fake.SigningSecret(), ts, body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s with %q: status %d", paths[i], body, rec.Code)
		}
	})
}
