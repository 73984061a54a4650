package config

import (
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary YAML to the loader: Parse must return a config or
// an error, never panic, and agree with parseValid (the check run and
// check-config make), which must neither panic, nor accept what Parse refuses,
// nor read an accepted file differently.
//
// The seeds are small, one feature each: the fuzzer mutates and minimises
// every input it keeps, so a large seed (the whole example file) costs it
// seconds per step and leaves a short run almost no time to explore.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"brand: Acme\nsecret: ${ADVOCATE_SECRET}\n",
		"secret: \"$${X} $$5 $2a$10$\"\n",
		"sla:\n  first_responce: 2h\n",
		"survey: {scale: nps, remind_after: 30d, expire_after: 1h, satisfied_at: 9}\n",
		"share:\n  targets:\n    - {name: a, kind: review_link, url: 'https://x/', policy: satisfied}\n",
		"share:\n  targets: []\n",
		"share:\n  targets:\n    - &t {name: a, kind: x_post, label: X}\n    - <<: *t\n      name: b\n",
		"a: &x {b: 1}\nc: *x\n<<: *x\n",
		"texts:\n  claimed: \"{{.Staff}} has #{{.Case}}\"\n",
		"http: {listen: \":8080\"}\ndashboard: {token: ${T}}\n",
		"dashboard:\n  users:\n    - {name: a, role: admin, password_hash: \"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy\"}\n",
		"slack:\n  enabled: ${ON}\n  bot_token: ${SLACK_BOT_TOKEN}\n  mode: http\n",
		"discord: {enabled: true, token: t, application_id: \"1\", interactions: http, public_key: ab}\n",
		"sandbox: {customers: [Ada, Ada], staff: []}\n",
		"store: {retention: 90d, keep_message_text: yes}\n",
		"brand: [x]\nbrand: y\n---\n",
	} {
		f.Add([]byte(seed))
	}
	vars := map[string]string{
		"ADVOCATE_SECRET": "0123456789abcdef0123456789abcdef",
		"SLACK_BOT_TOKEN": "xoxb-1",
		"ON":              "true",
	}
	getenv := func(k string) string { return vars[k] }
	f.Fuzz(func(t *testing.T, data []byte) {
		parsed, err := Parse(data, getenv)
		checked, checkErr := parseValid(data, getenv)
		switch {
		case err != nil && err.Error() == "", checkErr != nil && checkErr.Error() == "":
			t.Fatal("an error without a message")
		case err != nil && checkErr == nil:
			t.Fatalf("Parse refused %q (%v) but parseValid accepted it", data, err)
		case err == nil && checkErr == nil && !reflect.DeepEqual(parsed, checked):
			t.Fatalf("%q: Parse and parseValid read different files", data)
		}
	})
}
