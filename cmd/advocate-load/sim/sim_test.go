package sim

import (
	"testing"
	"time"

	"github.com/advocate-bot/advocate/config"
)

func TestConfigIsValid(t *testing.T) {
	cfg := Config{
		StorePath: "/tmp/advocate.db", SLA: 3 * time.Second, RemindAfter: 3 * time.Second, ExpireAfter: time.Hour,
		Slack: &SlackConfig{BotToken: "xoxb-1", AppToken: "xapp-1", APIURL: "http://127.0.0.1:1/api/",
			Support: SupportChannel, Staff: StaffChannel, Showcase: ShowcaseChannel, StaffUsers: []string{StaffUser}},
		Discord: &DiscordConfig{Token: "fake-bot-token", ApplicationID: "900000000000000001", APIURL: "http://127.0.0.1:2/",
			Guild: DiscordGuild, Support: DiscordSupport, StaffRole: DiscordStaffRole, Staff: DiscordStaffChannel, Showcase: DiscordShowcase},
	}
	f, err := config.Parse([]byte(cfg.YAML()), nil)
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", cfg.YAML(), err)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("validate:\n%s\n%v", cfg.YAML(), err)
	}
	if got, want := f.SLA.FirstResponse.D(), 3*time.Second; got != want {
		t.Errorf("sla.first_response: got %s, want %s", got, want)
	}
	if got, want := len(f.Share.Targets), 3; got != want {
		t.Errorf("share targets: got %d, want %d", got, want)
	}
	if !f.Slack.Enabled || !f.Discord.Enabled || f.Sandbox.Enabled {
		t.Errorf("enabled: slack %v, discord %v, sandbox %v; want slack and discord only", f.Slack.Enabled, f.Discord.Enabled, f.Sandbox.Enabled)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 200; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(ds)
	want := Dist{N: 200, P50: 100 * time.Millisecond, P99: 198 * time.Millisecond, Max: 200 * time.Millisecond}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := Summarize(nil); got != (Dist{}) {
		t.Errorf("no samples: got %+v, want the zero Dist", got)
	}
	if got, want := Summarize([]time.Duration{7}).P99, time.Duration(7); got != want {
		t.Errorf("one sample p99: got %s, want %s", got, want)
	}
}

func TestIDsFromText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"a1.42.1.rate.5.AbCdEf012345", 42},
		{"a1.42.1.rate.5", 0},
		{"b1.42.1.rate.5.x", 0},
		{"", 0},
	} {
		if got := CaseOfActionID(tc.in); got != tc.want {
			t.Errorf("CaseOfActionID(%q): got %d, want %d", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"Case #12: Ada", 12},
		{"⏰ Case #7 from Ada has had no staff response for 3s.", 7},
		{"Case # Ada", 0},
		{"no case", 0},
	} {
		if got := caseOfText(tc.in); got != tc.want {
			t.Errorf("caseOfText(%q): got %d, want %d", tc.in, got, tc.want)
		}
	}
	if got, want := TSTime("1700000000.000100"), time.Unix(1700000000, 100_000); !got.Equal(want) {
		t.Errorf("TSTime: got %s, want %s", got, want)
	}
	if got := TSTime("nonsense"); !got.IsZero() {
		t.Errorf("TSTime(nonsense): got %s, want zero", got)
	}
}

func TestAcksByKind(t *testing.T) {
	r := NewRecorder()
	at := time.Unix(1700000000, 0)
	for i, kind := range []string{"ask", "ask", "resolve"} {
		r.sentStep(Sent{Kind: kind, Queued: at, Acked: at.Add(time.Duration(i+1) * time.Millisecond)})
	}
	got := r.AcksByKind()
	if len(got) != 2 || got["ask"].N != 2 || got["ask"].Max != 2*time.Millisecond || got["resolve"].P50 != 3*time.Millisecond {
		t.Errorf("AcksByKind: got %+v, want asks (1 and 2 ms) apart from the resolve (3 ms)", got)
	}
}
