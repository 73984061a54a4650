package slack

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"

	slackgo "github.com/slack-go/slack"
)

// stubAPI is a scripted webAPI for unit tests: it records posts and fails the
// calls it is told to.
type stubAPI struct {
	mu       sync.Mutex
	posts    []stubPost
	updates  []stubPost
	deletes  []string
	ephem    []stubPost
	views    []slackgo.ModalViewRequest
	fail     map[string][]error // method → errors for its next calls
	channels []slackgo.Channel
	groups   map[string][]string
	names    map[string]string
	ts       int
	// userInfoGate, when set, holds users.info calls until it is closed
	userInfoGate  chan struct{}
	userInfoCalls int
}

type stubPost struct {
	Channel string
	User    string
	Values  url.Values
}

func newStubAPI() *stubAPI {
	return &stubAPI{fail: map[string][]error{}, groups: map[string][]string{}, names: map[string]string{}}
}

// failNext makes the next calls of method fail with errs, in order.
func (s *stubAPI) failNext(method string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = append(s.fail[method], errs...)
}

func (s *stubAPI) failure(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := s.fail[method]
	if len(errs) == 0 {
		return nil
	}
	s.fail[method] = errs[1:]
	return errs[0]
}

func (s *stubAPI) AuthTestContext(context.Context) (*slackgo.AuthTestResponse, error) {
	if err := s.failure("auth.test"); err != nil {
		return nil, err
	}
	return &slackgo.AuthTestResponse{UserID: "UBOT0000001", TeamID: "T00000TEAM"}, nil
}

func (s *stubAPI) GetConversationsContext(context.Context, *slackgo.GetConversationsParameters) ([]slackgo.Channel, string, error) {
	if err := s.failure("conversations.list"); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackgo.Channel(nil), s.channels...), "", nil
}

func (s *stubAPI) OpenConversationContext(_ context.Context, p *slackgo.OpenConversationParameters) (*slackgo.Channel, bool, bool, error) {
	if err := s.failure("conversations.open"); err != nil {
		return nil, false, false, err
	}
	ch := &slackgo.Channel{}
	ch.ID = "D" + p.Users[0][1:]
	return ch, false, false, nil
}

func (s *stubAPI) PostMessageContext(_ context.Context, channel string, opts ...slackgo.MsgOption) (string, string, error) {
	if err := s.failure("chat.postMessage"); err != nil {
		return "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ts++
	s.posts = append(s.posts, stubPost{Channel: channel, Values: mustValues(channel, opts...)})
	return channel, "1700000000." + fmt.Sprintf("%06d", s.ts), nil
}

func mustValues(channel string, opts ...slackgo.MsgOption) url.Values {
	_, v, err := slackgo.UnsafeApplyMsgOptions("xoxb-test", channel, "https://slack.invalid/api/", opts...)
	if err != nil {
		return url.Values{"error": {err.Error()}}
	}
	return v
}

func (s *stubAPI) UpdateMessageContext(_ context.Context, channel, ts string, opts ...slackgo.MsgOption) (string, string, string, error) {
	if err := s.failure("chat.update"); err != nil {
		return "", "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := mustValues(channel, opts...)
	v.Set("ts", ts)
	s.updates = append(s.updates, stubPost{Channel: channel, Values: v})
	return channel, ts, "", nil
}

func (s *stubAPI) DeleteMessageContext(_ context.Context, channel, ts string) (string, string, error) {
	if err := s.failure("chat.delete"); err != nil {
		return "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes = append(s.deletes, channel+"/"+ts)
	return channel, ts, nil
}

func (s *stubAPI) PostEphemeralContext(_ context.Context, channel, user string, opts ...slackgo.MsgOption) (string, error) {
	if err := s.failure("chat.postEphemeral"); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ephem = append(s.ephem, stubPost{Channel: channel, User: user, Values: mustValues(channel, opts...)})
	return "1700000001.000001", nil
}

func (s *stubAPI) GetUserInfoContext(ctx context.Context, user string, _ ...slackgo.GetUserInfoOption) (*slackgo.User, error) {
	s.mu.Lock()
	s.userInfoCalls++
	gate := s.userInfoGate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := s.failure("users.info"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &slackgo.User{ID: user, Name: "handle-" + user}
	u.Profile.DisplayName = s.names[user]
	return u, nil
}

func (s *stubAPI) GetUserGroupMembersContext(_ context.Context, group string, _ ...slackgo.GetUserGroupMembersOption) ([]string, error) {
	if err := s.failure("usergroups.users.list"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.groups[group]...), nil
}

func (s *stubAPI) OpenViewContext(_ context.Context, trigger string, v slackgo.ModalViewRequest) (*slackgo.ViewResponse, error) {
	if err := s.failure("views.open"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.views = append(s.views, v)
	return &slackgo.ViewResponse{}, nil
}

func (s *stubAPI) postCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.posts)
}

func (s *stubAPI) post(i int) stubPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts[i]
}

// Channel IDs of the unit tests.
const (
	testSupport  = "C0SUPPORT01"
	testStaff    = "C0STAFF0001"
	testShowcase = "C0SHOWCASE1"
)

// newStubAdapter returns a started adapter on a stub API.
func newStubAdapter(t *testing.T, mutate ...func(*Options)) (*Adapter, *stubAPI) {
	t.Helper()
	opts := Options{
		BotToken:        "xoxb-test",
		AppToken:        "xapp-test",
		SupportChannels: []string{testSupport},
		StaffChannel:    testStaff,
		ShowcaseChannel: testShowcase,
	}
	for _, m := range mutate {
		m(&opts)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	api := newStubAPI()
	a.api = api
	a.people = newDirectory(api, opts.UserGroups, a.log, a.spawn)
	a.pace = newPacer(0)
	if err := a.start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	return a, api
}

func (s *stubAPI) GetConversationHistoryContext(context.Context, *slackgo.GetConversationHistoryParameters) (*slackgo.GetConversationHistoryResponse, error) {
	if err := s.failure("conversations.history"); err != nil {
		return nil, err
	}
	return &slackgo.GetConversationHistoryResponse{}, nil
}

func (s *stubAPI) GetConversationRepliesContext(context.Context, *slackgo.GetConversationRepliesParameters) ([]slackgo.Message, bool, string, error) {
	if err := s.failure("conversations.replies"); err != nil {
		return nil, false, "", err
	}
	return nil, false, "", nil
}
