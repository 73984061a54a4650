package config

import (
	"os"
	"testing"
)

// FuzzParse feeds arbitrary YAML to the loader: it must return a config or an
// error, never panic, and a parsed config must validate without panicking.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("secret: ${ADVOCATE_SECRET}\nslack:\n  enabled: true\n  bot_token: ${SLACK_BOT_TOKEN}\n"))
	f.Add([]byte("share:\n  targets:\n    - {name: a, kind: review_link, policy: satisfied}\n"))
	f.Add([]byte("survey: {remind_after: 30d, expire_after: 1h}\n"))
	f.Add([]byte("a: &x {b: 1}\nc: *x\n<<: *x\n"))
	getenv := func(k string) string {
		if k == "ADVOCATE_SECRET" {
			return "0123456789abcdef0123"
		}
		return ""
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, getenv)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		_ = cfg.Validate()
	})
}
