package discord

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/web"
)

func TestComponentsLayout(t *testing.T) {
	a := newUnitAdapter(t)
	var nps []bot.Button
	for s := 0; s <= 10; s++ {
		nps = append(nps, bot.Button{ActionID: "rate" + strconv.Itoa(s), Label: strconv.Itoa(s)})
	}
	nps = append(nps, bot.Button{ActionID: "notfixed", Label: "Not fixed", Style: "danger"})
	rows := a.components(nps)
	if got, want := len(rows), 3; got != want {
		t.Fatalf("12 buttons in %d rows, want %d", got, want)
	}
	var ids []string
	for k, r := range rows {
		row := r.(discordgo.ActionsRow)
		if len(row.Components) > buttonsPerRow {
			t.Errorf("row %d has %d buttons, want at most %d", k, len(row.Components), buttonsPerRow)
		}
		for _, c := range row.Components {
			ids = append(ids, c.(discordgo.Button).CustomID)
		}
	}
	if got, want := strings.Join(ids, ","), "rate0,rate1,rate2,rate3,rate4,rate5,rate6,rate7,rate8,rate9,rate10,notfixed"; got != want {
		t.Errorf("button order = %s, want %s", got, want)
	}
	last := rows[2].(discordgo.ActionsRow).Components[1].(discordgo.Button)
	if got, want := last.Style, discordgo.DangerButton; got != want {
		t.Errorf("danger button style = %d, want %d", got, want)
	}

	many := make([]bot.Button, 30)
	for k := range many {
		many[k] = bot.Button{ActionID: "b" + strconv.Itoa(k), Label: "x"}
	}
	if got := a.components(many); len(got) != 5 {
		t.Errorf("30 buttons in %d rows, want 5 (25 kept)", len(got))
	}
	if got := a.components(nil); got != nil {
		t.Errorf("no buttons gave %v, want nil", got)
	}
}

func TestLinkButtonIsTracked(t *testing.T) {
	a := newUnitAdapter(t)
	rows := a.components([]bot.Button{{ActionID: "a1.3.1.go.7.sig", Label: "Post on X", URL: "https://x.com/intent/post?text=hi"}})
	b := rows[0].(discordgo.ActionsRow).Components[0].(discordgo.Button)
	if got, want := b.Style, discordgo.LinkButton; got != want {
		t.Errorf("style = %d, want link %d", got, want)
	}
	if b.CustomID != "" {
		t.Errorf("link button has custom_id %q, want none", b.CustomID)
	}
	if got, want := b.URL, web.TrackURL("https://advocate.example/", "a1.3.1.go.7.sig"); got != want {
		t.Errorf("url = %q, want the tracking redirect %q", got, want)
	}
}

func TestCreateBody(t *testing.T) {
	a := newUnitAdapter(t)
	b := a.createBody(bot.Message{Text: strings.Repeat("é", 2500) + " @everyone", Nonce: "adv42"})
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(got["content"].(string))); n > maxContent {
		t.Errorf("content has %d characters, want at most %d", n, maxContent)
	}
	if got["nonce"] != "adv42" || got["enforce_nonce"] != true {
		t.Errorf("nonce, enforce_nonce = %v, %v; want adv42, true", got["nonce"], got["enforce_nonce"])
	}
	am, ok := got["allowed_mentions"].(map[string]any)
	if !ok {
		t.Fatalf("allowed_mentions missing in %s", raw)
	}
	if parse, ok := am["parse"].([]any); !ok || len(parse) != 0 {
		t.Errorf("allowed_mentions.parse = %v, want an empty list (no pings)", am["parse"])
	}
}

func TestClassify(t *testing.T) {
	restErr := func(status, code int) error {
		return &discordgo.RESTError{Response: &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{}},
			Message: &discordgo.APIErrorMessage{Code: code}}
	}
	tests := []struct {
		name          string
		err           error
		undeliverable bool
		retryAfter    time.Duration
	}{
		{"cannot DM", restErr(403, 50007), true, 0},
		{"missing access", restErr(403, 50001), true, 0},
		{"unknown channel", restErr(404, 10003), true, 0},
		{"unknown member", restErr(404, 10007), true, 0},
		{"server error", restErr(500, 0), false, 0},
		{"bad request", restErr(400, 50035), false, 0},
		{"rate limited", &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: 1500 * time.Millisecond}}}, false, 1500 * time.Millisecond},
		{"network", errors.New("connection refused"), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("send", tt.err)
			if got := errors.Is(err, bot.ErrUndeliverable); got != tt.undeliverable {
				t.Errorf("undeliverable = %v, want %v (%v)", got, tt.undeliverable, err)
			}
			var ra *bot.RetryAfterError
			if got := errors.As(err, &ra); got != (tt.retryAfter > 0) {
				t.Fatalf("retry-after error = %v, want %v (%v)", got, tt.retryAfter > 0, err)
			}
			if ra != nil && ra.After != tt.retryAfter {
				t.Errorf("retry after %v, want %v", ra.After, tt.retryAfter)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%v does not wrap the cause", err)
			}
		})
	}
	r429 := &discordgo.RESTError{Response: &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"2.5"}}}}
	var ra *bot.RetryAfterError
	if err := classify("send", r429); !errors.As(err, &ra) || ra.After != 2500*time.Millisecond {
		t.Errorf("REST 429 = %v, want retry after 2.5s", err)
	}
}

func TestRewriteTransport(t *testing.T) {
	var gotPath, gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotHost = r.URL.Path, r.Host
	}))
	defer srv.Close()
	for _, tt := range []struct{ base, want string }{
		{srv.URL + "/", "/api/v9/gateway"},
		{srv.URL + "/proxy/discord/", "/proxy/discord/api/v9/gateway"},
	} {
		base, _ := url.Parse(tt.base)
		c := &http.Client{Transport: newRewriteTransport(base, nil)}
		resp, err := c.Get("https://discord.com/api/v9/gateway")
		if err != nil {
			t.Fatalf("GET through %s: %v", tt.base, err)
		}
		resp.Body.Close()
		if gotPath != tt.want {
			t.Errorf("path = %q, want %q", gotPath, tt.want)
		}
		if want := strings.TrimPrefix(srv.URL, "http://"); gotHost != want {
			t.Errorf("host = %q, want %q", gotHost, want)
		}
	}
}

func TestInviteURL(t *testing.T) {
	u, err := url.Parse(InviteURL("123"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got, want := q.Get("client_id"), "123"; got != want {
		t.Errorf("client_id = %q, want %q", got, want)
	}
	if got, want := q.Get("scope"), "bot applications.commands"; got != want {
		t.Errorf("scope = %q, want %q", got, want)
	}
	perms, err := strconv.ParseInt(q.Get("permissions"), 10, 64)
	if err != nil {
		t.Fatalf("permissions %q: %v", q.Get("permissions"), err)
	}
	// The end-to-end tests install the bot with exactly these in the fake,
	// which refuses what they do not allow.
	want := int64(discordgo.PermissionViewChannel | discordgo.PermissionSendMessages | discordgo.PermissionReadMessageHistory |
		discordgo.PermissionManageMessages | discordgo.PermissionCreatePublicThreads |
		discordgo.PermissionCreatePrivateThreads | discordgo.PermissionSendMessagesInThreads)
	if perms != want {
		t.Errorf("permissions = %d, want %d", perms, want)
	}
	for _, p := range []int64{discordgo.PermissionAdministrator, discordgo.PermissionManageThreads, discordgo.PermissionMentionEveryone} {
		if perms&p != 0 {
			t.Errorf("permissions %d include %d, which the bot does not use", perms, p)
		}
	}
}

func TestFresh(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tt := range []struct {
		ts   string
		want bool
	}{
		{fmt.Sprint(now.Unix()), true},
		{fmt.Sprint(now.Add(-4 * time.Minute).Unix()), true},
		{fmt.Sprint(now.Add(-6 * time.Minute).Unix()), false},
		{fmt.Sprint(now.Add(6 * time.Minute).Unix()), false},
		{"yesterday", false},
		{"", false},
	} {
		if got := fresh(tt.ts, now); got != tt.want {
			t.Errorf("fresh(%q) = %v, want %v", tt.ts, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := gatewayPolicy{minBackoff: time.Second, maxBackoff: 10 * time.Second}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 9: 10 * time.Second, 200: 10 * time.Second} {
		for range 20 {
			if got := p.backoff(attempt); got < want/2 || got > want {
				t.Errorf("backoff(%d) = %v, want within [%v, %v]", attempt, got, want/2, want)
			}
		}
	}
	if got := p.backoff(0); got != 0 {
		t.Errorf("backoff(0) = %v, want 0", got)
	}
}

func TestFatalGatewayError(t *testing.T) {
	if err := fatalGatewayError(errors.New("EOF")); err != nil {
		t.Errorf("EOF judged fatal: %v", err)
	}
	if err := fatalGatewayError(&websocket.CloseError{Code: 4000}); err != nil {
		t.Errorf("4000 unknown error judged fatal: %v", err)
	}
	closed := &websocket.CloseError{Code: 4014, Text: "Disallowed intent(s)."}
	err := fatalGatewayError(fmt.Errorf("open: %w", closed))
	if err == nil || !strings.Contains(err.Error(), "Message Content") || !errors.Is(err, closed) {
		t.Errorf("4014 = %v, want a fatal error naming the Message Content intent", err)
	}
}
