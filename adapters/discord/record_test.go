package discord

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/advocate-bot/advocate/bot"
)

// recorded is one request the recording server saw.
type recorded struct {
	method, path string
	body         map[string]any
}

// recorder is a minimal Discord REST stand-in that records request bodies, to
// check the JSON the adapter sends where the fake does not look (allowed
// mentions, thread options).
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	// status and code answer every request, or those whose path contains
	// only, when set.
	status int
	code   int
	only   string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{r.Method, r.URL.Path, body})
	status, code := rc.status, rc.code
	if rc.only != "" && !strings.Contains(r.URL.Path, rc.only) {
		status = 0
	}
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case status != 0:
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"message": "refused", "code": code})
	case strings.HasSuffix(r.URL.Path, "/threads"):
		_, _ = io.WriteString(w, `{"id":"t1","guild_id":"g1","type":12}`)
	case strings.Contains(r.URL.Path, "/thread-members/"):
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		_, _ = io.WriteString(w, `{"id":"m1","channel_id":"c","guild_id":"g1"}`)
	}
}

// fail makes requests (those whose path contains only, when set) fail with
// status and a JSON error code; status 0 stops failing.
func (rc *recorder) fail(status, code int, only string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.status, rc.code, rc.only = status, code, only
}

func (rc *recorder) requests() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.reqs)
}

func newRecorded(t *testing.T) (*Adapter, *recorder) {
	t.Helper()
	rc := &recorder{}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	a, err := New(Options{Token: "t", APIURL: srv.URL, SupportChannels: []string{"support1"}, StaffRole: "role-staff",
		StaffChannel: "staffch", ShowcaseChannel: "showch"})
	if err != nil {
		t.Fatal(err)
	}
	return a, rc
}

func TestOpenPrivateRequests(t *testing.T) {
	a, rc := newRecorded(t)
	cs := &bot.Case{ID: 7, Customer: bot.Person{ID: "u1", Name: "Ada"}} // a DM case: no public channel
	priv, staff, err := a.OpenPrivate(context.Background(), cs, bot.Message{Text: "Hi @everyone", Nonce: "adv3",
		Buttons: []bot.Button{{ActionID: "a1.7.0.solved..x", Label: "Solved"}}})
	if err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	// The private side names the intro (the recorder answers every post with m1).
	if want := (bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "t1", Message: "m1"}); priv != want {
		t.Errorf("private side = %+v, want %+v", priv, want)
	}
	// The staff thread's ID is its starter message's.
	if want := (bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "m1"}); staff != want {
		t.Errorf("staff side = %+v, want %+v", staff, want)
	}
	reqs := rc.requests()
	if len(reqs) != 5 {
		t.Fatalf("%d requests, want staff starter, staff thread, private thread, member, intro", len(reqs))
	}
	starter, staffThread, thread, member, intro := reqs[0], reqs[1], reqs[2], reqs[3], reqs[4]
	if thread.path != "/api/v9/channels/support1/threads" || thread.body["type"] != float64(12) || thread.body["invitable"] != false {
		t.Errorf("thread request = %+v, want a non-invitable private thread in the first support channel", thread)
	}
	if name, _ := thread.body["name"].(string); !strings.Contains(name, "#7") {
		t.Errorf("thread name = %q, want the case number", name)
	}
	if member.method != http.MethodPut || member.path != "/api/v9/channels/t1/thread-members/u1" {
		t.Errorf("member request = %s %s, want PUT the customer", member.method, member.path)
	}
	content, _ := intro.body["content"].(string)
	if !strings.HasPrefix(content, "<@u1>\n") || strings.Contains(content, "role-staff") {
		t.Errorf("intro content = %q, want the customer mentioned first and no staff role", content)
	}
	if got := jsonString(intro.body["allowed_mentions"]); got != `{"parse":[],"replied_user":false,"users":["u1"]}` {
		t.Errorf("intro allowed_mentions = %s, want only the customer", got)
	}
	if intro.body["nonce"] != "adv3" || intro.body["enforce_nonce"] != true {
		t.Errorf("intro nonce = %v %v, want adv3 enforced", intro.body["nonce"], intro.body["enforce_nonce"])
	}
	if starter.path != "/api/v9/channels/staffch/messages" {
		t.Errorf("staff starter posted to %s, want the staff channel", starter.path)
	}
	if content, _ := starter.body["content"].(string); content != "<@&role-staff> Case #7 · Ada" {
		t.Errorf("staff starter = %q, want the staff role and the case", content)
	}
	if got := jsonString(starter.body["allowed_mentions"]); got != `{"parse":[],"replied_user":false,"roles":["role-staff"]}` {
		t.Errorf("staff starter allowed_mentions = %s, want only the staff role", got)
	}
	if starter.body["nonce"] != "adv3.s" || starter.body["enforce_nonce"] != true {
		t.Errorf("staff starter nonce = %v %v, want adv3.s enforced", starter.body["nonce"], starter.body["enforce_nonce"])
	}
	if staffThread.method != http.MethodPost || staffThread.path != "/api/v9/channels/staffch/messages/m1/threads" {
		t.Errorf("staff thread request = %s %s, want a thread on the starter message", staffThread.method, staffThread.path)
	}
}

// TestOpenPrivateFindsStaffThreadOfEarlierAttempt: after a restart the nonce
// returns the starter message an earlier attempt posted, whose thread exists:
// Discord answers 160004 and the thread is the message's.
func TestOpenPrivateFindsStaffThreadOfEarlierAttempt(t *testing.T) {
	a, rc := newRecorded(t)
	rc.fail(http.StatusBadRequest, codeThreadExists, "/messages/m1/threads")
	cs := &bot.Case{ID: 8, Public: bot.Ref{Channel: "support1", Message: "q"}, Customer: bot.Person{ID: "u1"}}
	_, staff, err := a.OpenPrivate(context.Background(), cs, bot.Message{Text: "hi", Nonce: "adv4"})
	if err != nil {
		t.Fatalf("OpenPrivate: %v", err)
	}
	if staff.Channel != "m1" {
		t.Errorf("staff side = %+v, want the existing thread m1", staff)
	}
}

func TestSendUpdateDeleteRequests(t *testing.T) {
	a, rc := newRecorded(t)
	ctx := context.Background()
	ref, err := a.Send(ctx, bot.Ref{Platform: bot.Discord, Channel: "support1", Thread: "q1"}, bot.Message{Text: "Taken private", Nonce: "adv1"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if want := (bot.Ref{Platform: bot.Discord, Space: "g1", Channel: "support1", Thread: "q1", Message: "m1"}); ref != want {
		t.Errorf("ref = %+v, want %+v", ref, want)
	}
	if _, err := a.Send(ctx, bot.Ref{Channel: bot.ShowcaseChannel}, bot.Message{Text: "💬 great"}); err != nil {
		t.Fatalf("Send to showcase: %v", err)
	}
	if err := a.Update(ctx, bot.Ref{Channel: "t1", Message: "m9"}, bot.Message{Text: "closed"}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := a.Delete(ctx, bot.Ref{Channel: "showch", Message: "m1"}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	reqs := rc.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	reply := reqs[0]
	if got := jsonString(reply.body["message_reference"]); got != `{"channel_id":"support1","fail_if_not_exists":false,"message_id":"q1"}` {
		t.Errorf("reply reference = %s", got)
	}
	if got := jsonString(reply.body["allowed_mentions"]); got != `{"parse":[],"replied_user":true}` {
		t.Errorf("reply allowed_mentions = %s, want only the asker pinged", got)
	}
	if got, want := reqs[1].path, "/api/v9/channels/showch/messages"; got != want {
		t.Errorf("showcase post to %s, want %s", got, want)
	}
	if got := jsonString(reqs[1].body["allowed_mentions"]); got != `{"parse":[],"replied_user":false}` {
		t.Errorf("showcase allowed_mentions = %s, want nobody pinged", got)
	}
	edit := reqs[2]
	if edit.method != http.MethodPatch || edit.path != "/api/v9/channels/t1/messages/m9" || jsonString(edit.body["components"]) != "[]" {
		t.Errorf("edit = %s %s %v, want PATCH with components []", edit.method, edit.path, edit.body)
	}
	if reqs[3].method != http.MethodDelete || reqs[3].path != "/api/v9/channels/showch/messages/m1" {
		t.Errorf("delete = %s %s", reqs[3].method, reqs[3].path)
	}
}

func TestDeliveryErrors(t *testing.T) {
	a, rc := newRecorded(t)
	ctx := context.Background()
	rc.fail(http.StatusForbidden, codeMissingAccess, "")
	if _, err := a.Send(ctx, bot.Ref{Channel: "support1"}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("403 send = %v, want ErrUndeliverable", err)
	}
	rc.fail(http.StatusNotFound, codeUnknownMember, "")
	if _, _, err := a.OpenPrivate(ctx, &bot.Case{ID: 1, Customer: bot.Person{ID: "gone"}}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("unknown member = %v, want ErrUndeliverable", err)
	}
	rc.fail(http.StatusNotFound, codeUnknownMessage, "")
	if err := a.Delete(ctx, bot.Ref{Channel: "showch", Message: "m1"}); err != nil {
		t.Errorf("deleting a message already gone = %v, want nil", err)
	}
	if err := a.Update(ctx, bot.Ref{Channel: "t1", Message: "m1"}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("editing a message gone = %v, want ErrUndeliverable", err)
	}
	rc.fail(http.StatusInternalServerError, 0, "")
	if _, err := a.Send(ctx, bot.Ref{Channel: "support1"}, bot.Message{Text: "x"}); err == nil || errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("500 = %v, want a retryable error", err)
	}
	if _, err := a.Send(ctx, bot.Ref{Channel: bot.StaffChannel}, bot.Message{Text: "x"}); err == nil {
		t.Error("send with a 500 succeeded")
	}
	b, _ := New(Options{Token: "t", StaffChannel: "staffch"})
	if _, err := b.Send(ctx, bot.Ref{Channel: bot.ShowcaseChannel}, bot.Message{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("unconfigured showcase = %v, want ErrUndeliverable", err)
	}
}

func TestOpenPrivateRetryReusesThread(t *testing.T) {
	a, rc := newRecorded(t)
	ctx := context.Background()
	cs := &bot.Case{ID: 9, Public: bot.Ref{Channel: "support1", Message: "q"}, Customer: bot.Person{ID: "u1"}}
	rc.fail(http.StatusInternalServerError, 0, "/thread-members/")
	if _, _, err := a.OpenPrivate(ctx, cs, bot.Message{Text: "hi"}); err == nil {
		t.Fatal("OpenPrivate succeeded although adding the member failed")
	}
	rc.fail(0, 0, "")
	if _, _, err := a.OpenPrivate(ctx, cs, bot.Message{Text: "hi"}); err != nil {
		t.Fatalf("retried OpenPrivate: %v", err)
	}
	// The staff thread fails once too.
	rc.fail(http.StatusInternalServerError, 0, "/messages/m1/threads")
	cs.ID = 10
	if _, _, err := a.OpenPrivate(ctx, cs, bot.Message{Text: "hi"}); err == nil {
		t.Fatal("OpenPrivate succeeded although starting the staff thread failed")
	}
	rc.fail(0, 0, "")
	if _, _, err := a.OpenPrivate(ctx, cs, bot.Message{Text: "hi"}); err != nil {
		t.Fatalf("retried OpenPrivate: %v", err)
	}
	private, intros := 0, 0
	for _, r := range rc.requests() {
		if r.path == "/api/v9/channels/support1/threads" {
			private++
		}
		if r.path == "/api/v9/channels/t1/messages" {
			intros++
		}
	}
	if private != 2 || intros != 2 {
		t.Errorf("%d private threads and %d intros for 2 cases, want 2 and 2: a retry goes on from the failed step", private, intros)
	}
}

// failingCore is a handler whose commits fail.
type failingCore struct{}

func (failingCore) Handle(context.Context, bot.Event) (bot.Reply, error) {
	return bot.Reply{}, errors.New("database is locked")
}

func TestInteractionWhenCoreFails(t *testing.T) {
	a := newUnitAdapter(t)
	i := interaction(t, `{"id":"1","type":3,"guild_id":"g1","channel_id":"c",`+member+`,"message":{"id":"m"},"data":{"custom_id":"x","component_type":2}}`)
	r := a.interact(context.Background(), failingCore{}, i)
	if r == nil || r.Type != 4 || r.Data.Flags != 64 || r.Data.Content != tryAgainText {
		t.Errorf("response = %+v, want an ephemeral try-again", r)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
