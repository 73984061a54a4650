package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/config"
	"github.com/advocate-bot/advocate/internal/testkit"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// sandboxClient plays personas through the sandbox's HTTP API.
type sandboxClient struct {
	t    *testing.T
	base string
}

type sbButton struct {
	ActionID string `json:"action_id"`
	Label    string `json:"label"`
}

type sbMessage struct {
	ID      string     `json:"id"`
	Text    string     `json:"text"`
	Buttons []sbButton `json:"buttons"`
}

type sbReply struct {
	Ephemeral string `json:"ephemeral"`
	Modal     *struct {
		View string `json:"view"`
	} `json:"modal"`
}

func (c *sandboxClient) post(path string, body any) sbReply {
	c.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(c.base+"/sandbox/api/"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatalf("%s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s: %d %s", path, resp.StatusCode, raw)
	}
	var r sbReply
	_ = json.Unmarshal(raw, &r)
	return r
}

// waitButton waits until persona as sees a message in channel with a button
// labelled label, and returns the message.
func (c *sandboxClient) waitButton(as, channel, label string) (sbMessage, sbButton) {
	c.t.Helper()
	var found sbMessage
	var btn sbButton
	c.waitFor(as, channel, "a button "+label, func(m sbMessage) bool {
		for _, b := range m.Buttons {
			if b.Label == label {
				found, btn = m, b
				return true
			}
		}
		return false
	})
	return found, btn
}

// waitReady waits until /readyz answers 200: the store is writable and the
// sandbox runs.
func (c *sandboxClient) waitReady() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("advocate never became ready")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *sandboxClient) waitFor(as, channel, what string, match func(sbMessage) bool) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(c.base + "/sandbox/api/state?as=" + as)
		if err == nil {
			var st struct {
				Channels []struct {
					Name     string      `json:"name"`
					Messages []sbMessage `json:"messages"`
				} `json:"channels"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			for _, ch := range st.Channels {
				for i := len(ch.Messages) - 1; ch.Name == channel && i >= 0; i-- {
					if match(ch.Messages[i]) {
						return
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("gave up waiting for %s in %s as %s", what, channel, as)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestRunSandboxThenReport starts the real program on the sandbox, plays a case
// from question to shared testimonial through the sandbox's API, stops it, and
// reads the funnel with `advocate report` on the same database.
func TestRunSandboxThenReport(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "advocate.yaml")
	cfgText := `secret: test-secret-0123456789abcdef
brand: Acme
store: {path: ` + filepath.Join(dir, "advocate.db") + `}
http: {listen: "127.0.0.1:0"}
sandbox: {enabled: true, customers: [Ada], staff: [Sam]}
share:
  targets:
    - {name: showcase, kind: community_post, label: "Post in #showcase", text: "Acme helped me"}
    - {name: trustpilot, kind: review_link, label: Review us, url: "https://www.trustpilot.com/evaluate/example.com"}
wall: {enabled: true}
`
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := config.Load(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	logs := &testkit.LogBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	a, err := openApp(ctx, f, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	c := &sandboxClient{t: t, base: a.baseURL()}
	c.waitReady()

	c.post("say", map[string]string{"as": "c-ada", "channel": "support", "text": "My invoice is wrong"})
	_, resolve := c.waitButton("s-sam", "staff", "Resolve") // the case's thread in #staff
	c.post("say", map[string]string{"as": "s-sam", "channel": "case-1", "text": "Fixed it"})
	msg, _ := c.waitButton("s-sam", "staff", "Resolve")
	c.post("click", map[string]string{"as": "s-sam", "message": msg.ID, "action_id": resolve.ActionID})
	msg, five := c.waitButton("c-ada", "case-1", "5")
	c.post("click", map[string]string{"as": "c-ada", "message": msg.ID, "action_id": five.ActionID})
	msg, share := c.waitButton("c-ada", "case-1", "Post in #showcase")
	r := c.post("click", map[string]string{"as": "c-ada", "message": msg.ID, "action_id": share.ActionID})
	if r.Modal == nil {
		t.Fatalf("no preview opened: %+v", r)
	}
	c.post("submit", map[string]any{"as": "c-ada", "view": r.Modal.View,
		"fields": map[string]string{"text": "Sam fixed my invoice in minutes", "wall": "yes", "name": "Ada L."}})
	c.waitFor("c-ada", "showcase", "the testimonial", func(m sbMessage) bool {
		return strings.Contains(m.Text, "Sam fixed my invoice in minutes")
	})
	c.waitFor("c-ada", "case-1", "word that the post is on the website too", func(m sbMessage) bool {
		return strings.Contains(m.Text, "and on our website")
	})
	if got := c.wall(); len(got) != 1 || got[0].Name != "Ada L." || got[0].Text != "Sam fixed my invoice in minutes" {
		t.Errorf("/wall.json: got %+v, want Ada's testimonial under the name she typed", got)
	}

	// /link in the sandbox's composer: a code in an answer only Ada sees.
	if r := c.post("say", map[string]string{"as": "c-ada", "channel": "support", "text": "/link"}); !regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}`).MatchString(r.Ephemeral) {
		t.Errorf("/link in the sandbox: got %+v, want a code", r)
	}

	for path, want := range map[string]int{"/dashboard/": 200, "/dashboard/people": 200, "/metrics": 200, "/healthz": 200, "/readyz": 200, "/wall": 200, "/r/forged": 404} {
		resp, err := http.Get(c.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: got %d, want %d", path, resp.StatusCode, want)
		}
	}
	// A tab left open: its event stream must not hold up the shutdown.
	events, err := http.Get(c.base + "/sandbox/api/events?as=c-ada")
	if err != nil || events.StatusCode != http.StatusOK {
		t.Fatalf("events: %v %v", events, err)
	}
	defer events.Body.Close()
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(logs.String(), "still open at shutdown") {
		t.Errorf("the open event stream held up the shutdown:\n%s", logs.Tail(5))
	}
	if strings.Contains(logs.String(), "invoice") {
		t.Errorf("message text leaked into the log:\n%s", logs.String())
	}

	out, errOut, code := cli(t, nil, "report", "--config", cfgPath, "--since", "all", "--json", "--by", "platform")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	var rep struct {
		Sections []reportSection `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Sections[0].Groups) != 1 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	for _, s := range rep.Sections[0].Groups[0].Stages {
		if s.Count != 1 && s.Stage != "clicked" {
			t.Errorf("stage %s: got %d, want 1", s.Stage, s.Count)
		}
	}

	// advocate forget takes Ada's testimonial off the wall.
	if _, errOut, code := cli(t, nil, "forget", "--config", cfgPath, "--platform", "sandbox", "--user", "c-ada"); code != 0 {
		t.Fatalf("forget: exit %d: %s", code, errOut)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "advocate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if w, err := db.Wall(context.Background(), 0, 0); err != nil || len(w) != 0 {
		t.Errorf("the wall after advocate forget: got %+v, %v; want empty", w, err)
	}
}

// wall reads /wall.json.
func (c *sandboxClient) wall() []struct{ Name, Text string } {
	c.t.Helper()
	resp, err := http.Get(c.base + "/wall.json")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var feed struct {
		Testimonials []struct{ Name, Text string } `json:"testimonials"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&feed); err != nil {
		c.t.Fatalf("/wall.json: %d, %v", resp.StatusCode, err)
	}
	return feed.Testimonials
}

// TestRunPrintsURLsAndOffersTheDefaultShare runs the real command on a file
// with no share.targets: it prints where the sandbox and the dashboard are, and
// a satisfied customer is offered a post in the showcase channel.
func TestRunPrintsURLsAndOffersTheDefaultShare(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, `secret: test-secret-0123456789abcdef
store: {path: `+filepath.Join(dir, "advocate.db")+`}
http: {listen: "127.0.0.1:0"}
sandbox: {enabled: true, customers: [Ada], staff: [Sam]}
`)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	stdout, stderr := &testkit.LogBuffer{}, &testkit.LogBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, []string{"run", "--config", cfg}, func(string) string { return "" }, stdout, stderr)
	}()

	urls := regexp.MustCompile(`advocate sandbox: +(http://\S+)/sandbox/\nadvocate dashboard: +(http://\S+)/dashboard/\n`)
	var m []string
	deadline := time.Now().Add(30 * time.Second)
	for m = urls.FindStringSubmatch(stdout.String()); m == nil; m = urls.FindStringSubmatch(stdout.String()) {
		select {
		case code := <-done:
			t.Fatalf("run exited %d: %s%s", code, stdout, stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("run printed no sandbox and dashboard URLs:\n%s", stdout)
		}
	}
	if m[1] != m[2] {
		t.Errorf("sandbox at %s, dashboard at %s: want one server", m[1], m[2])
	}
	c := &sandboxClient{t: t, base: m[1]}
	c.waitReady()
	for _, path := range []string{"/sandbox/", "/dashboard/"} {
		resp, err := http.Get(m[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s (printed at start-up): %d", path, resp.StatusCode)
		}
	}

	c.post("say", map[string]string{"as": "c-ada", "channel": "support", "text": "My invoice is wrong"})
	msg, resolve := c.waitButton("s-sam", "staff", "Resolve")
	c.post("click", map[string]string{"as": "s-sam", "message": msg.ID, "action_id": resolve.ActionID})
	msg, five := c.waitButton("c-ada", "case-1", "5")
	c.post("click", map[string]string{"as": "c-ada", "message": msg.ID, "action_id": five.ActionID})
	c.waitButton("c-ada", "case-1", config.DefaultShareTarget.Label)

	stop()
	if code := <-done; code != 0 {
		t.Errorf("run exited %d: %s", code, stderr)
	}
}
