package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/advocate-bot/advocate/bot"
)

const examplePath = "../config.example.yaml"

// validHash is a well-formed bcrypt hash.
const validHash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

// env is a getenv over a fixed map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// wantKeyError fails unless some line of err starts with prefix (a key path,
// possibly followed by the line), and each of contains appears in err.
func wantKeyError(t *testing.T, err error, prefix string, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one starting %q", prefix)
	}
	msg := err.Error()
	found := false
	for line := range strings.SplitSeq(msg, "\n") {
		if strings.HasPrefix(line, prefix) {
			found = true
			break
		}
	}
	if !found {
		t.Errorf("got error\n%s\nwant a line starting %q", msg, prefix)
	}
	for _, c := range contains {
		if !strings.Contains(msg, c) {
			t.Errorf("got error\n%s\nwant it to contain %q", msg, c)
		}
	}
}

func TestExampleLoadsAndValidates(t *testing.T) {
	f, err := Load(examplePath, env(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if !f.Sandbox.Enabled || f.Slack.Enabled || f.Discord.Enabled {
		t.Errorf("got sandbox %v slack %v discord %v, want only the sandbox enabled", f.Sandbox.Enabled, f.Slack.Enabled, f.Discord.Enabled)
	}
	if got, want := f.Slack.BotToken, ""; got != want {
		t.Errorf("slack.bot_token: got %q, want %q (unset variable in a disabled section)", got, want)
	}
	if got, want := f.Config.PublicURL, "http://127.0.0.1:8080"; got != want {
		t.Errorf("PublicURL: got %q, want %q", got, want)
	}
	if got, want := f.Texts, bot.DefaultTexts(); got != want {
		t.Errorf("example texts differ from bot.DefaultTexts:\ngot  %+v\nwant %+v", got, want)
	}
	var names []string
	for _, tg := range f.Share.Targets {
		names = append(names, tg.Name+"/"+tg.Kind)
	}
	if got, want := names, []string{"showcase/community_post", "x/x_post", "trustpilot/review_link"}; !slices.Equal(got, want) {
		t.Errorf("share targets: got %v, want %v", got, want)
	}
	if f.DashboardOpenOnNonLoopback() {
		t.Errorf("DashboardOpenOnNonLoopback: got true for the example's loopback listen, want false")
	}
}

func TestExampleEnablesWithEnvironment(t *testing.T) {
	// The example's token references work once a section is enabled and the
	// variables are set.
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "slack:\n  enabled: false", "slack:\n  enabled: true", 1)
	if text == string(data) {
		t.Fatal("the example has no \"slack:\\n  enabled: false\" to switch on")
	}
	f, err := Parse([]byte(text), env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := f.Slack.BotToken+" "+f.Slack.AppToken, "xoxb-1 xapp-1"; got != want {
		t.Errorf("slack tokens: got %q, want %q", got, want)
	}
	_, err = Parse([]byte(text), env(nil))
	wantKeyError(t, err, "slack.bot_token: line ", "SLACK_BOT_TOKEN")
}

// exampleTree returns the example file's top-level mapping.
func exampleTree(t *testing.T) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

// lookup returns the value of key in mapping n, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func TestExampleHasEveryText(t *testing.T) {
	texts := lookup(exampleTree(t), "texts")
	if texts == nil || texts.Kind != yaml.MappingNode {
		t.Fatal("the example has no texts mapping")
	}
	typ := reflect.TypeFor[bot.Texts]()
	for i := range typ.NumField() {
		key := typ.Field(i).Tag.Get("yaml")
		if v := lookup(texts, key); v == nil || v.Value == "" {
			t.Errorf("texts.%s: missing from %s (or empty)", key, examplePath)
		}
	}
}

func TestExampleHasEveryKey(t *testing.T) {
	// Every key of File appears in the example; in a list of structs, each key
	// appears in at least one item (an empty list is checked no further).
	var check func(n *yaml.Node, typ reflect.Type, path string)
	check = func(n *yaml.Node, typ reflect.Type, path string) {
		switch {
		case unmarshalsItself(typ):
		case typ.Kind() == reflect.Struct:
			for key, idx := range yamlFields(typ) {
				p := join(path, key)
				var found []*yaml.Node
				items := []*yaml.Node{n}
				if n.Kind == yaml.SequenceNode {
					items = n.Content
				}
				for _, item := range items {
					if v := lookup(item, key); v != nil {
						found = append(found, v)
					}
				}
				if len(items) > 0 && len(found) == 0 {
					t.Errorf("%s: missing from %s", p, examplePath)
				}
				for _, v := range found {
					check(v, typ.FieldByIndex(idx).Type, p)
				}
			}
		case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct:
			check(n, typ.Elem(), path)
		}
	}
	check(exampleTree(t), reflect.TypeFor[File](), "")
}

func TestDefault(t *testing.T) {
	f := Default()
	checks := []struct{ key, got, want string }{
		{"store.path", f.Store.Path, "advocate.db"},
		{"http.listen", f.HTTP.Listen, "127.0.0.1:8080"},
		{"http.public_url", f.HTTP.PublicURL, "http://127.0.0.1:8080"},
		{"PublicURL", f.Config.PublicURL, "http://127.0.0.1:8080"},
		{"slack.mode", f.Slack.Mode, "socket"},
		{"slack.api_url", f.Slack.APIURL, "https://slack.com/api/"},
		{"slack.post_interval", f.Slack.PostInterval.D().String(), "1s"},
		{"slack.history_rate", strconv.Itoa(f.Slack.HistoryRate), "50"},
		{"discord.api_url", f.Discord.APIURL, "https://discord.com/"},
		{"discord.interactions", f.Discord.Interactions, "gateway"},
		{"log.level", f.Log.Level, "info"},
		{"log.format", f.Log.Format, "text"},
		{"sandbox.customers", strings.Join(f.Sandbox.Customers, ","), "Ada,Grace,Linus"},
		{"sandbox.staff", strings.Join(f.Sandbox.Staff, ","), "Sam (staff)"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.key, c.got, c.want)
		}
	}
	if !f.Sandbox.Enabled || f.Slack.Enabled || f.Discord.Enabled {
		t.Errorf("got sandbox %v slack %v discord %v, want only the sandbox enabled", f.Sandbox.Enabled, f.Slack.Enabled, f.Discord.Enabled)
	}
	wantKeyError(t, f.Validate(), "secret: ")
	f.Secret = "0123456789abcdef"
	if err := f.Validate(); err != nil {
		t.Errorf("Default with a secret: got %v, want it valid", err)
	}
}

func TestParseDerivedValues(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		publicURL string
		keepText  bool
	}{
		{"empty file", "", "http://127.0.0.1:8080", false},
		{"only comments", "# nothing\n", "http://127.0.0.1:8080", false},
		{"listen", "http:\n  listen: 10.0.0.5:9000\n", "http://10.0.0.5:9000", false},
		{"wildcard listen", "http:\n  listen: :9000\n", "http://localhost:9000", false},
		{"ipv6 wildcard", "http:\n  listen: \"[::]:9000\"\n", "http://localhost:9000", false},
		{"ipv6 loopback", "http:\n  listen: \"[::1]:9000\"\n", "http://[::1]:9000", false},
		{"public url trailing slash", "http:\n  public_url: https://advocate.example.com/\n", "https://advocate.example.com", false},
		{"keep text", "store:\n  keep_message_text: true\n", "http://127.0.0.1:8080", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.yaml), env(nil))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got, want := f.HTTP.PublicURL, tt.publicURL; got != want {
				t.Errorf("http.public_url: got %q, want %q", got, want)
			}
			if got, want := f.Config.PublicURL, tt.publicURL; got != want {
				t.Errorf("bot PublicURL: got %q, want %q", got, want)
			}
			if got, want := f.Config.KeepText, tt.keepText; got != want {
				t.Errorf("bot KeepText: got %v, want %v", got, want)
			}
		})
	}
}

func TestParseKeepsDefaultsOfOmittedKeys(t *testing.T) {
	f, err := Parse([]byte("survey:\n  scale: nps\ntexts:\n  claimed: \"{{.Staff}} has it\"\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Survey.Scale, bot.NPS; got != want {
		t.Errorf("survey.scale: got %q, want %q", got, want)
	}
	if got, want := f.Survey.RemindAfter.D(), 24*time.Hour; got != want {
		t.Errorf("survey.remind_after: got %v, want the default %v", got, want)
	}
	if got, want := f.Texts.Claimed, "{{.Staff}} has it"; got != want {
		t.Errorf("texts.claimed: got %q, want %q", got, want)
	}
	if got, want := f.Texts.TakenPrivate, bot.DefaultTexts().TakenPrivate; got != want {
		t.Errorf("texts.taken_private: got %q, want the default %q", got, want)
	}
}

func TestExpand(t *testing.T) {
	vars := env(map[string]string{"A": "alpha", "B_2": "beta", "EVIL": "x\n}: ${A}"})
	tests := []struct {
		in, want string
		missing  []string
		err      string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "pre-${A}-${B_2}-post", want: "pre-alpha-beta-post"},
		{in: "$${A}", want: "${A}"},
		{in: "cost $$5", want: "cost $5"},
		{in: "price $5 and $", want: "price $5 and $"},
		{in: validHash, want: validHash},
		{in: "${EVIL}", want: "x\n}: ${A}"}, // a value is not expanded again
		{in: "${UNSET}/${A}/${UNSET}", want: "/alpha/", missing: []string{"UNSET"}},
		{in: "${A", err: "unclosed ${"},
		{in: "${}", err: "not a variable name"},
		{in: "${A:-default}", err: "not a variable name"},
		{in: "${1A}", err: "not a variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, missing, err := expand(tt.in, vars)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if !slices.Equal(missing, tt.missing) {
				t.Errorf("missing: got %v, want %v", missing, tt.missing)
			}
		})
	}
}

func TestParseEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		env   map[string]string
		check func(f *File) (got, want any)
	}{
		{
			name:  "string",
			yaml:  "secret: ${S}\n",
			env:   map[string]string{"S": "from-the-environment"},
			check: func(f *File) (any, any) { return f.Secret, "from-the-environment" },
		},
		{
			name:  "double dollar",
			yaml:  "brand: \"$${NOT_A_VAR} costs $$5\"\n",
			check: func(f *File) (any, any) { return f.Brand, "${NOT_A_VAR} costs $5" },
		},
		{
			name: "injection stays one string",
			yaml: "brand: ${B}\nslack:\n  enabled: false\n",
			env:  map[string]string{"B": "Acme\nslack:\n  enabled: true\nsecret: x: y"},
			check: func(f *File) (any, any) {
				return [2]any{f.Brand, f.Slack.Enabled}, [2]any{"Acme\nslack:\n  enabled: true\nsecret: x: y", false}
			},
		},
		{
			name:  "yaml-looking value into a string stays a string",
			yaml:  "brand: ${B}\n",
			env:   map[string]string{"B": "null"},
			check: func(f *File) (any, any) { return f.Brand, "null" },
		},
		{
			name:  "list item",
			yaml:  "discord:\n  guilds: [\"${G}\", other]\n",
			env:   map[string]string{"G": "123"},
			check: func(f *File) (any, any) { return strings.Join(f.Discord.Guilds, ","), "123,other" },
		},
		{
			name:  "bool",
			yaml:  "sandbox:\n  enabled: ${ON}\n",
			env:   map[string]string{"ON": "false"},
			check: func(f *File) (any, any) { return f.Sandbox.Enabled, false },
		},
		{
			name:  "int",
			yaml:  "survey:\n  satisfied_at: ${SAT}\n",
			env:   map[string]string{"SAT": "5"},
			check: func(f *File) (any, any) { return f.Survey.SatisfiedAt, 5 },
		},
		{
			name:  "duration",
			yaml:  "store:\n  retention: ${KEEP}\n",
			env:   map[string]string{"KEEP": "90d"},
			check: func(f *File) (any, any) { return f.Store.Retention.D(), 90 * 24 * time.Hour },
		},
		{
			name:  "sub-second duration",
			yaml:  "slack:\n  post_interval: ${PACE}\n",
			env:   map[string]string{"PACE": "40ms"},
			check: func(f *File) (any, any) { return f.Slack.PostInterval.D(), 40 * time.Millisecond },
		},
		{
			name:  "unset in a disabled section is empty",
			yaml:  "slack:\n  enabled: false\n  bot_token: ${SLACK_BOT_TOKEN}\n",
			check: func(f *File) (any, any) { return f.Slack.BotToken, "" },
		},
		{
			name:  "unset in a section disabled by default is empty",
			yaml:  "discord:\n  token: ${DISCORD_TOKEN}\n",
			check: func(f *File) (any, any) { return f.Discord.Token, "" },
		},
		{
			name:  "set in a disabled section is kept",
			yaml:  "slack:\n  enabled: false\n  bot_token: ${T}\n",
			env:   map[string]string{"T": "xoxb-1"},
			check: func(f *File) (any, any) { return f.Slack.BotToken, "xoxb-1" },
		},
		{
			name:  "enabled from the environment",
			yaml:  "slack:\n  enabled: ${SLACK_ON}\n  bot_token: ${T}\n",
			env:   map[string]string{"SLACK_ON": "true", "T": "xoxb-1"},
			check: func(f *File) (any, any) { return [2]any{f.Slack.Enabled, f.Slack.BotToken}, [2]any{true, "xoxb-1"} },
		},
		{
			name:  "alias",
			yaml:  "slack:\n  bot_token: &tok ${T}\ndiscord:\n  enabled: true\n  token: *tok\n",
			env:   map[string]string{"T": "shared"},
			check: func(f *File) (any, any) { return f.Slack.BotToken + "," + f.Discord.Token, "shared,shared" },
		},
		{
			name: "merge key",
			yaml: "share:\n  targets:\n    - &base\n      name: a\n      kind: x_post\n      label: ${L}\n    - <<: *base\n      name: b\n",
			env:  map[string]string{"L": "Post"},
			check: func(f *File) (any, any) {
				var got []string
				for _, tg := range f.Share.Targets {
					got = append(got, tg.Name+":"+tg.Label)
				}
				return strings.Join(got, ","), "a:Post,b:Post"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.yaml), env(tt.env))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, want := tt.check(f)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		env      map[string]string
		prefix   string   // the start of one line of the error: key and line
		contains []string // more text the error must hold
	}{
		{name: "unknown top-level key", yaml: "brand: x\ncolour: red\n", prefix: "colour: line 2: unknown key"},
		{name: "misspelt key", yaml: "sla:\n  first_responce: 2h\n", prefix: "sla.first_responce: line 2: unknown key (did you mean first_response?)"},
		{name: "misspelt key in capitals", yaml: "Brand: Acme\n", prefix: "Brand: line 1: unknown key (did you mean brand?)"},
		{name: "misspelt key in a list item", yaml: "share:\n  targets:\n    - nme: a\n", prefix: "share.targets[0].nme: line 3: unknown key (did you mean name?)"},
		{name: "unknown nested key", yaml: "slack:\n  enabled: false\n  bot_tokn: x\n", prefix: "slack.bot_tokn: line 3: unknown key"},
		{name: "derived key is not a key", yaml: "public_url: http://x/\n", prefix: "public_url: line 1: unknown key"},
		{name: "unknown key in a list item", yaml: "share:\n  targets:\n    - name: a\n      colour: red\n", prefix: "share.targets[0].colour: line 4: unknown key"},
		{name: "key set twice", yaml: "brand: a\nbrand: b\n", prefix: "brand: line 2: set twice (first on line 1)"},
		{name: "bad duration", yaml: "sla:\n  first_response: 3 days\n", prefix: "sla.first_response: line 2: ", contains: []string{`"3 days"`}},
		{name: "negative duration", yaml: "slack:\n  post_interval: -1s\n", prefix: "slack.post_interval: line 2: ", contains: []string{`"-1s"`}},
		{name: "number instead of duration", yaml: "slack:\n  post_interval: 1\n", prefix: "slack.post_interval: line 2: ", contains: []string{`"1"`}},
		{name: "bad bool", yaml: "survey:\n  comment: maybe\n", prefix: "survey.comment: line 2: ", contains: []string{"maybe"}},
		{name: "bad sample", yaml: "survey:\n  sample: half\n", prefix: "survey.sample: line 2: ", contains: []string{`"half"`, "0.5", "50%", "every 3"}},
		{name: "sample above one", yaml: "survey:\n  sample: 1.5\n", prefix: "survey.sample: line 2: ", contains: []string{`"1.5"`}},
		{name: "misspelt variant key", yaml: "share:\n  experiments:\n    - name: e\n      variants:\n        - name: a\n          wieght: 2\n", prefix: "share.experiments[0].variants[0].wieght: line 6: unknown key (did you mean weight?)"},
		{name: "quoted bool", yaml: "sandbox:\n  enabled: \"${ON}\"\n", env: map[string]string{"ON": "true"}, prefix: "sandbox.enabled: line 2: "},
		{name: "text instead of number", yaml: "survey:\n  unhappy_at: two\n", prefix: "survey.unhappy_at: line 2: "},
		{name: "scalar instead of list", yaml: "sandbox:\n  customers: Ada\n", prefix: "sandbox.customers: line 2: want a list"},
		{name: "list instead of mapping", yaml: "slack: [a]\n", prefix: "slack: line 1: want a mapping"},
		{name: "unset variable", yaml: "secret: ${ADVOCATE_SECRET}\n", prefix: "secret: line 1: environment variable ADVOCATE_SECRET is not set"},
		{name: "unset variable in an enabled section", yaml: "slack:\n  enabled: true\n  bot_token: ${SLACK_BOT_TOKEN}\n", prefix: "slack.bot_token: line 3: environment variable SLACK_BOT_TOKEN"},
		{name: "unset variable in a section enabled by default", yaml: "sandbox:\n  staff: [\"${STAFF}\"]\n", prefix: "sandbox.staff[0]: line 2: environment variable STAFF"},
		{name: "unset variable for enabled", yaml: "slack:\n  enabled: ${SLACK_ON}\n", prefix: "slack.enabled: line 2: environment variable SLACK_ON"},
		{name: "alias into an enabled section", yaml: "slack:\n  bot_token: &tok ${T}\ndiscord:\n  enabled: true\n  token: *tok\n", prefix: "discord.token: line 2: environment variable T"},
		{name: "malformed reference in a disabled section", yaml: "slack:\n  bot_token: ${SLACK_BOT_TOKEN\n", prefix: "slack.bot_token: line 2: unclosed ${"},
		{name: "env value cannot change the type", yaml: "survey:\n  satisfied_at: ${SAT}\n", env: map[string]string{"SAT": "4\nunhappy_at: 1"}, prefix: "survey.satisfied_at: line 2: "},
		{name: "syntax error", yaml: "brand: x\nslack:\n  enabled: [\n", prefix: "invalid YAML: yaml: line "},
		{name: "tab indentation", yaml: "slack:\n\tenabled: true\n", prefix: "invalid YAML: yaml: line 2: "},
		{name: "two documents", yaml: "brand: a\n---\nbrand: b\n", prefix: "line 2: a second YAML document"},
		{name: "not a mapping", yaml: "- brand\n", prefix: "line 1: the file must be a mapping"},
		{name: "all problems at once", yaml: "colour: red\nsla:\n  first_response: soon\n", prefix: "sla.first_response: line 3: ", contains: []string{"colour: line 1: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.yaml), env(tt.env))
			if strings.Contains(err.Error(), "colour") && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("got a suggestion for a word like no key:\n%v", err)
			}
			if f != nil {
				t.Errorf("got a File with the error, want nil")
			}
			wantKeyError(t, err, tt.prefix, tt.contains...)
		})
	}
}

func TestParseReportsAnAliasedProblemOnce(t *testing.T) {
	yml := "slack:\n  enabled: true\n  bot_token: &t ${T}\n  app_token: *t\n  signing_secret: *t\n"
	_, err := Parse([]byte(yml), env(nil))
	wantKeyError(t, err, "slack.bot_token: line 3: environment variable T")
	if got, want := strings.Count(err.Error(), "environment variable T"), 1; got != want {
		t.Errorf("got the problem %d times, want %d:\n%v", got, want, err)
	}
}

// platformSecret is a secret long enough for Slack and Discord.
const platformSecret = "0123456789abcdef0123456789abcdef"

// validBase is a minimal valid file; validation cases append to it.
const validBase = "secret: \"" + platformSecret + "\"\n"

func TestValidate(t *testing.T) {
	slackOn := "slack:\n  enabled: true\n  bot_token: xoxb-1\n  app_token: xapp-1\n  staff_channel: C1\n  showcase_channel: C2\n"
	discordOn := "discord:\n  enabled: true\n  token: t\n  application_id: \"1\"\n  staff_channel: \"3\"\n  showcase_channel: \"2\"\n"
	tests := []struct {
		name     string
		yaml     string
		prefixes []string // each must start a line of the error; none: valid
		contains []string
	}{
		{name: "minimal", yaml: ""},
		{name: "slack", yaml: slackOn},
		{name: "slack http mode", yaml: strings.Replace(slackOn, "app_token: xapp-1", "mode: http\n  signing_secret: s", 1)},
		{name: "discord", yaml: discordOn},
		{name: "discord http interactions", yaml: discordOn + "  interactions: http\n  public_key: " + strings.Repeat("aB", 32) + "\n"},
		{name: "dashboard user", yaml: "dashboard:\n  users:\n    - name: alice\n      role: admin\n      password_hash: \"" + validHash + "\"\n"},
		{name: "review gating allowed", yaml: "share:\n  allow_review_gating: true\n  targets:\n    - name: tp\n      kind: review_link\n      label: Review\n      url: https://example.com/review\n      policy: satisfied\n"},
		{name: "port 0", yaml: "http:\n  listen: 127.0.0.1:0\n"},
		{name: "network listen with a token", yaml: "http:\n  listen: \":8080\"\ndashboard:\n  token: 0123456789abcdef\n"},
		{name: "open dashboard on the network", yaml: "http:\n  listen: \":8080\"\n", prefixes: []string{"http.listen: "}, contains: []string{"not a loopback address", "dashboard.token"}},

		{name: "survey sampling and cooldown", yaml: "survey:\n  sample: every 3\n  cooldown: 30d\n"},
		{name: "survey sample fraction", yaml: "survey:\n  sample: 25%\n"},
		{name: "experiment", yaml: "share:\n  targets:\n    - {name: showcase, kind: community_post, label: Post}\n    - {name: x, kind: x_post, label: X}\n  experiments:\n    - name: wording\n      variants:\n        - {name: plain, weight: 1}\n        - {name: warm, weight: 3, prompt: \"Tell others?\", targets: [x, showcase], delay: 1d}\n"},
		{name: "experiment with an unknown target", yaml: strings.Replace("share:\n  targets:\n    - {name: showcase, kind: community_post, label: Post}\n    - {name: x, kind: x_post, label: X}\n  experiments:\n    - name: wording\n      variants:\n        - {name: plain, weight: 1}\n        - {name: warm, weight: 3, prompt: \"Tell others?\", targets: [x, showcase], delay: 1d}\n", "[x, showcase]", "[x, tiktok]", 1),
			prefixes: []string{"share.experiments[0].variants[1].targets[1]: "}, contains: []string{`"tiktok" is not the name of one of share.targets`}},
		{name: "experiment with one variant", yaml: "share:\n  experiments:\n    - name: e\n      variants:\n        - {name: a, weight: 1}\n",
			prefixes: []string{"share.experiments[0].variants: "}, contains: []string{"at least two variants"}},
		{name: "bad scale", yaml: "survey:\n  scale: stars\n", prefixes: []string{"survey.scale: "}},
		{name: "review gating", yaml: "share:\n  targets:\n    - name: tp\n      kind: review_link\n      label: Review\n      url: https://example.com/review\n      policy: satisfied\n",
			prefixes: []string{"share.targets[0].policy: "}, contains: []string{"review gating"}},
		{name: "duplicate target names", yaml: "share:\n  targets:\n    - {name: a, kind: x_post, label: X}\n    - {name: a, kind: community_post, label: Post}\n",
			prefixes: []string{"share.targets[1].name: "}, contains: []string{"used twice"}},
		{name: "text does not parse", yaml: "texts:\n  taken_private: \"Thanks {{.Customer\"\n", prefixes: []string{"texts.taken_private: "}},
		{name: "text uses an unknown field", yaml: "texts:\n  claimed: \"{{.Nobody}}\"\n", prefixes: []string{"texts.claimed: "}},

		{name: "slack without tokens", yaml: "slack:\n  enabled: true\n",
			prefixes: []string{"slack.bot_token: ", "slack.app_token: ", "slack.staff_channel: ", "slack.showcase_channel: "}},
		{name: "slack http mode without signing secret", yaml: slackOn + "  mode: http\n", prefixes: []string{"slack.signing_secret: "}},
		{name: "slack bad mode", yaml: slackOn + "  mode: rtm\n", prefixes: []string{"slack.mode: "}},
		{name: "slack api url without slash", yaml: slackOn + "  api_url: https://slack.com/api\n", prefixes: []string{"slack.api_url: "}, contains: []string{"must end with /"}},
		{name: "slack api url relative", yaml: slackOn + "  api_url: /api/\n", prefixes: []string{"slack.api_url: "}},
		{name: "slack api url not http", yaml: slackOn + "  api_url: ftp://slack.com/api/\n", prefixes: []string{"slack.api_url: "}},
		{name: "slack post interval for a fake", yaml: slackOn + "  post_interval: 40ms\n"},
		{name: "slack post interval at most", yaml: slackOn + "  post_interval: 1m\n"},
		{name: "slack post interval zero", yaml: slackOn + "  post_interval: 0s\n", prefixes: []string{"slack.post_interval: "}, contains: []string{"more than 0"}},
		{name: "slack post interval too long", yaml: slackOn + "  post_interval: 61s\n", prefixes: []string{"slack.post_interval: "}, contains: []string{"at most 1m0s"}},
		{name: "slack post interval in days", yaml: slackOn + "  post_interval: 1d\n", prefixes: []string{"slack.post_interval: "}},
		{name: "slack history rate of a non-Marketplace app", yaml: slackOn + "  history_rate: 1\n"},
		{name: "slack history rate zero", yaml: slackOn + "  history_rate: 0\n", prefixes: []string{"slack.history_rate: "}, contains: []string{"1 to 100"}},
		{name: "slack history rate too high", yaml: slackOn + "  history_rate: 101\n", prefixes: []string{"slack.history_rate: "}},
		{name: "disabled slack is not checked", yaml: "slack:\n  enabled: false\n  mode: rtm\n  api_url: nonsense\n  post_interval: 0s\n"},

		{name: "discord without settings", yaml: "discord:\n  enabled: true\n",
			prefixes: []string{"discord.token: ", "discord.application_id: ", "discord.staff_channel: ", "discord.showcase_channel: "}},
		{name: "discord without a staff channel", yaml: strings.Replace(discordOn, "  staff_channel: \"3\"\n", "", 1),
			prefixes: []string{"discord.staff_channel: "}, contains: []string{"only staff can see"}},
		{name: "discord http interactions bad key", yaml: discordOn + "  interactions: http\n  public_key: abc\n", prefixes: []string{"discord.public_key: "}},
		{name: "discord bad interactions", yaml: discordOn + "  interactions: webhook\n", prefixes: []string{"discord.interactions: "}},
		{name: "discord bad api url", yaml: discordOn + "  api_url: https://discord.com\n", prefixes: []string{"discord.api_url: "}},

		{name: "no platform", yaml: "sandbox:\n  enabled: false\n", prefixes: []string{"sandbox.enabled, slack.enabled, discord.enabled: "}},
		{name: "sandbox without personas", yaml: "sandbox:\n  customers: []\n  staff: []\n", prefixes: []string{"sandbox.customers: ", "sandbox.staff: "}},
		{name: "sandbox duplicate persona", yaml: "sandbox:\n  customers: [Ada, Sam]\n  staff: [Sam]\n", prefixes: []string{"sandbox.staff[0]: "}},
		{name: "listen without port", yaml: "http:\n  listen: localhost\n", prefixes: []string{"http.listen: "}},
		{name: "listen bad port", yaml: "http:\n  listen: localhost:http\n", prefixes: []string{"http.listen: "}},
		{name: "public url not absolute", yaml: "http:\n  public_url: advocate.example.com\n", prefixes: []string{"http.public_url: "}},
		{name: "bad bcrypt hash", yaml: "dashboard:\n  users:\n    - name: alice\n      role: admin\n      password_hash: hunter2\n", prefixes: []string{"dashboard.users[0].password_hash: "}},
		{name: "bcrypt with bad cost", yaml: "dashboard:\n  users:\n    - name: alice\n      role: admin\n      password_hash: \"" + strings.Replace(validHash, "$10$", "$99$", 1) + "\"\n", prefixes: []string{"dashboard.users[0].password_hash: "}},
		{name: "dashboard user without name or role", yaml: "dashboard:\n  users:\n    - password_hash: \"" + validHash + "\"\n", prefixes: []string{"dashboard.users[0].name: ", "dashboard.users[0].role: "}},
		{name: "dashboard duplicate user", yaml: "dashboard:\n  users:\n    - {name: a, role: admin, password_hash: \"" + validHash + "\"}\n    - {name: a, role: viewer, password_hash: \"" + validHash + "\"}\n", prefixes: []string{"dashboard.users[1].name: "}},
		{name: "short dashboard token", yaml: "dashboard:\n  token: abc\n", prefixes: []string{"dashboard.token: "}},
		{name: "bad log", yaml: "log:\n  level: verbose\n  format: xml\n", prefixes: []string{"log.level: ", "log.format: "}},
		{name: "empty store path", yaml: "store:\n  path: \"\"\n", prefixes: []string{"store.path: "}},
		{name: "unknown store driver", yaml: "store:\n  driver: mysql\n", prefixes: []string{"store.driver: "}},
		{name: "postgres without url", yaml: "store:\n  driver: postgres\n", prefixes: []string{"store.url: "}},
		{name: "postgres with a bad url", yaml: "store:\n  driver: postgres\n  url: \"postgres://ann:s3cret@db:notaport/advocate\"\n",
			prefixes: []string{"store.url: "}, contains: []string{"postgres://user:password@host"}},
		{name: "postgres url", yaml: "store:\n  driver: postgres\n  url: \"postgres://ann:s3cret@db.example.com:5432/advocate?sslmode=require\"\n  path: \"\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(validBase+tt.yaml), env(nil))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = f.Validate()
			if len(tt.prefixes) == 0 {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			for _, p := range tt.prefixes {
				wantKeyError(t, err, p, tt.contains...)
			}
		})
	}
}

func TestDashboardOpenOnNonLoopback(t *testing.T) {
	tests := []struct {
		listen string
		users  int
		token  string
		want   bool
	}{
		{listen: "127.0.0.1:8080", want: false},
		{listen: "127.0.0.2:8080", want: false},
		{listen: "localhost:8080", want: false},
		{listen: "[::1]:8080", want: false},
		{listen: ":8080", want: true},
		{listen: "0.0.0.0:8080", want: true},
		{listen: "[::]:8080", want: true},
		{listen: "192.168.1.10:8080", want: true},
		{listen: "advocate.internal:8080", want: true},
		{listen: ":8080", users: 1, want: false},
		{listen: ":8080", token: "0123456789abcdef", want: false},
	}
	for _, tt := range tests {
		f := Default()
		f.HTTP.Listen = tt.listen
		f.Dashboard.Token = tt.token
		for range tt.users {
			f.Dashboard.Users = append(f.Dashboard.Users, DashboardUser{Name: "a", Role: RoleAdmin, PasswordHash: validHash})
		}
		if got := f.DashboardOpenOnNonLoopback(); got != tt.want {
			t.Errorf("listen %q, %d users, token %q: got %v, want %v", tt.listen, tt.users, tt.token, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "advocate.yaml")
	if err := os.WriteFile(path, []byte("brand: Acme\nsecret: ${S}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path, env(map[string]string{"S": "0123456789abcdef"}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := f.Brand+" "+f.Secret, "Acme 0123456789abcdef"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	_, err = Load(path, env(nil))
	if err == nil || !strings.HasPrefix(err.Error(), path+": secret: line 2: ") {
		t.Errorf("got error %v, want it to start with the path, key and line", err)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"), env(nil))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestSlogLevel(t *testing.T) {
	tests := []struct {
		level string
		want  slog.Level
	}{
		{"debug", slog.LevelDebug},
		{"info", slog.LevelInfo},
		{"warn", slog.LevelWarn},
		{"error", slog.LevelError},
		{"loud", slog.LevelInfo},
	}
	for _, tt := range tests {
		if got := (Log{Level: tt.level}).SlogLevel(); got != tt.want {
			t.Errorf("level %q: got %v, want %v", tt.level, got, tt.want)
		}
	}
}

// The example's commented experiment is valid once uncommented.
func TestExampleExperimentValidates(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	before, after, ok := strings.Cut(string(data), "  experiments: []\n")
	if !ok {
		t.Fatal("the example has no experiments: [] line")
	}
	var b strings.Builder
	b.WriteString(before + "  experiments:\n")
	lines := strings.SplitAfter(after, "\n")
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "  #  "); i++ {
		b.WriteString("  " + strings.TrimPrefix(lines[i], "  #  "))
	}
	if i < 5 {
		t.Fatalf("the commented experiment has %d lines, want the whole example", i)
	}
	b.WriteString(strings.Join(lines[i:], ""))
	f, err := Parse([]byte(b.String()), env(nil))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	e := f.Share.Running()
	if e == nil || len(e.Variants) != 2 || e.Variants[1].Delay.D() != 24*time.Hour || len(e.Variants[1].Targets) != 2 {
		t.Errorf("the example experiment: got %+v", e)
	}
}
