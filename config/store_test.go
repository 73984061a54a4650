package config

import (
	"strings"
	"testing"
)

func TestStoreURLErrorHidesPassword(t *testing.T) {
	f := Default()
	f.Store.Driver, f.Store.URL = "postgres", "postgres://ann:s3cret@db:notaport/advocate"
	err := f.Validate()
	if err == nil || !strings.Contains(err.Error(), "store.url: ") {
		t.Fatalf("got %v, want a store.url error", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error repeats the password: %v", err)
	}
}

func TestDiscordShards(t *testing.T) {
	tests := []struct {
		id, count int
		bad       string
	}{
		{0, 0, ""}, {0, 1, ""}, {1, 2, ""}, {3, 4, ""},
		{1, 0, "discord.shard_id: "}, {2, 2, "discord.shard_id: "}, {-1, 2, "discord.shard_id: "}, {0, -1, "discord.shard_count: "},
	}
	for _, tt := range tests {
		f := Default()
		f.Discord.Enabled, f.Discord.Token, f.Discord.ApplicationID = true, "t", "1"
		f.Discord.StaffChannel, f.Discord.ShowcaseChannel = "s", "c"
		f.Discord.ShardID, f.Discord.ShardCount = tt.id, tt.count
		err := f.Validate()
		var msg string
		if err != nil {
			msg = err.Error()
		}
		if got := strings.Contains(msg, "discord.shard"); got != (tt.bad != "") || (tt.bad != "" && !strings.Contains(msg, tt.bad)) {
			t.Errorf("shard %d of %d: got %v, want an error on %q", tt.id, tt.count, err, tt.bad)
		}
	}
}
