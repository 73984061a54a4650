package discordfake

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// TestEffectsCountEveryChange: every accepted request that changes what people
// see is one effect, a refused one and a read are none, and a message created
// again with its nonce (enforce_nonce) is not a second effect.
func TestEffectsCountEveryChange(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{})
	s := newSession(t, f, clientOpts{})

	m, err := s.ChannelMessageSend(testChannel, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessageSend(testChannel, "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessageEdit(testChannel, m.ID, "hello, edited"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChannelMessageSend("800000000000000404", "nowhere"); err == nil {
		t.Fatal("a post to an unknown channel was accepted")
	}
	if _, err := s.ChannelMessages(testChannel, 10, "", "", ""); err != nil {
		t.Fatal(err)
	}
	withNonce := map[string]any{"content": "once", "nonce": "n-1", "enforce_nonce": true}
	for range 2 {
		if _, err := s.RequestWithBucketID(http.MethodPost, discordgo.EndpointChannelMessages(testChannel), withNonce, discordgo.EndpointChannelMessages(testChannel)); err != nil {
			t.Fatal(err)
		}
	}
	th, err := s.ThreadStartComplex(testChannel, &discordgo.ThreadStart{Name: "Case #1 · alice", Type: discordgo.ChannelTypeGuildPrivateThread})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ThreadMemberAdd(th.ID, testAlice); err != nil {
		t.Fatal(err)
	}

	var routes []string
	for _, e := range f.Effects() {
		routes = append(routes, e.Route)
	}
	want := []string{RouteCreateMessage, RouteCreateMessage, RouteEditMessage, RouteCreateMessage, RouteStartThread, RouteAddThreadMember}
	if strings.Join(routes, ", ") != strings.Join(want, ", ") {
		t.Fatalf("effects:\n got %v\nwant %v", routes, want)
	}
	es := f.Effects()
	if es[0].Key() != es[1].Key() || es[0].Key() == es[2].Key() {
		t.Errorf("keys: the same post twice must share one, an edit must not: %q %q %q", es[0].Key(), es[1].Key(), es[2].Key())
	}
	if es[2].Target != m.ID || es[5].Target != testAlice || es[4].Created != th.ID {
		t.Errorf("targets: edit %q (want %s), member %q (want %s), thread %q (want %s)",
			es[2].Target, m.ID, es[5].Target, testAlice, es[4].Created, th.ID)
	}
}

// interactionsApp is an Interactions Endpoint: it checks the signature and
// answers the first interaction too late, the others with a message.
type interactionsApp struct {
	t   *testing.T
	pub ed25519.PublicKey

	mu   sync.Mutex
	seen int
	slow time.Duration
}

func (a *interactionsApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sig, _ := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
	if !ed25519.Verify(a.pub, append([]byte(r.Header.Get("X-Signature-Timestamp")), body...), sig) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	a.mu.Lock()
	a.seen++
	first := a.seen == 1
	a.mu.Unlock()
	if first {
		select {
		case <-time.After(a.slow):
		case <-r.Context().Done():
			return
		}
	}
	var in struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &in)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"type":4,"data":{"content":"Done.","flags":64}}`))
}

// TestInteractionsOverHTTP: in HTTP interactions mode a click is a signed POST
// to the endpoint, its response body is the initial response, and an answer
// after the deadline fails the interaction without a second delivery.
func TestInteractionsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{InteractionDeadline: 300 * time.Millisecond})
	s := newSession(t, f, clientOpts{})
	pubHex := f.InteractionsPublicKey()
	pub, _ := hex.DecodeString(pubHex)
	app := &interactionsApp{t: t, pub: pub, slow: time.Second}
	hs := httptest.NewServer(app)
	t.Cleanup(hs.Close)
	f.DeliverInteractionsOverHTTP(hs.URL)

	m, err := s.ChannelMessageSendComplex(testChannel, &discordgo.MessageSend{Content: "pick", Components: []discordgo.MessageComponent{
		discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.Button{Label: "Go", CustomID: "go", Style: discordgo.PrimaryButton}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	late, err := f.ClickButton(testAlice, testChannel, m.ID, "go")
	if err != nil {
		t.Fatal(err)
	}
	waitFake(t, f, "the late answer recorded", func() bool { return len(f.InteractionResponses(late.ID)) > 0 })
	if rs := f.InteractionResponses(late.ID); len(rs) != 1 || rs[0].Status != 0 {
		t.Errorf("late answer: got %+v, want one failure with status 0", rs)
	}
	on, err := f.ClickButton(testAlice, testChannel, m.ID, "go")
	if err != nil {
		t.Fatal(err)
	}
	waitFake(t, f, "the answer recorded", func() bool { return len(f.InteractionResponses(on.ID)) > 0 })
	rs := f.InteractionResponses(on.ID)
	if len(rs) != 1 || rs[0].Status != http.StatusNoContent || rs[0].Type != 4 || rs[0].Content != "Done." || !rs[0].Ephemeral() {
		t.Errorf("answer: got %+v, want an accepted ephemeral type 4 \"Done.\"", rs)
	}
	if orig, ok := f.OriginalResponse(on.ID); !ok || orig.Content != "Done." || !orig.Ephemeral {
		t.Errorf("original response: got %+v %v, want the ephemeral Done.", orig, ok)
	}
	if got := f.CountEffects(RouteInteractionCallback); got != 1 {
		t.Errorf("callback effects: got %d, want 1", got)
	}
	app.mu.Lock()
	seen := app.seen
	app.mu.Unlock()
	if seen != 2 {
		t.Errorf("POSTs to the endpoint: got %d, want 2 (a failed interaction is not sent again)", seen)
	}
}

// TestModalStaysOpenUntilSubmissionAnswered: a submission the bot did not
// answer leaves the modal open for another try, as on Discord; an answered
// one closes it.
func TestModalStaysOpenUntilSubmissionAnswered(t *testing.T) {
	t.Parallel()
	f := newFake(t, Options{InteractionDeadline: time.Second})
	s := newSession(t, f, clientOpts{})
	var mu sync.Mutex
	submits := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Type int `json:"type"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/json")
		if in.Type == InteractionMessageComponent {
			_, _ = w.Write([]byte(`{"type":9,"data":{"custom_id":"m1","title":"Preview","components":[{"type":1,"components":[{"type":4,"custom_id":"text","label":"Text","style":2}]}]}}`))
			return
		}
		mu.Lock()
		submits++
		first := submits == 1
		mu.Unlock()
		if first {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte(`{"type":4,"data":{"content":"Posted.","flags":64}}`))
	}))
	t.Cleanup(hs.Close)
	f.DeliverInteractionsOverHTTP(hs.URL)

	m, err := s.ChannelMessageSendComplex(testChannel, &discordgo.MessageSend{Content: "share?", Components: []discordgo.MessageComponent{
		discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.Button{Label: "Share", CustomID: "share", Style: discordgo.PrimaryButton}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	click, err := f.ClickButton(testAlice, testChannel, m.ID, "share")
	if err != nil {
		t.Fatal(err)
	}
	waitFake(t, f, "the modal", func() bool { return len(f.InteractionResponses(click.ID)) > 0 })
	first, err := f.SubmitModal(testAlice, "m1", map[string]string{"text": "great"})
	if err != nil {
		t.Fatal(err)
	}
	waitFake(t, f, "the failed submission", func() bool { return len(f.InteractionResponses(first.ID)) > 0 })
	if id, _, ok := f.OpenModal(testAlice); !ok || id != "m1" {
		t.Fatalf("after an unanswered submission: open modal %q %v, want m1 still open", id, ok)
	}
	second, err := f.SubmitModal(testAlice, "m1", map[string]string{"text": "great"})
	if err != nil {
		t.Fatalf("second submission: %v", err)
	}
	waitFake(t, f, "the answer", func() bool { return len(f.InteractionResponses(second.ID)) > 0 })
	if _, _, ok := f.OpenModal(testAlice); ok {
		t.Error("the modal is still open after its submission was answered")
	}
}
