package discord

import "testing"

func TestShardedIdentify(t *testing.T) {
	a, err := New(Options{Token: "t", ShardID: 1, ShardCount: 3, StaffChannel: "s", ShowcaseChannel: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if s := a.session.Identify.Shard; s == nil || *s != [2]int{1, 3} {
		t.Errorf("IDENTIFY shard: got %v, want [1 3]", s)
	}
	one, err := New(Options{Token: "t", StaffChannel: "s", ShowcaseChannel: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if one.session.Identify.Shard != nil {
		t.Errorf("unsharded IDENTIFY carries shard %v", *one.session.Identify.Shard)
	}
	if _, err := New(Options{Token: "t", ShardID: 3, ShardCount: 3}); err == nil {
		t.Error("shard 3 of 3: got no error")
	}
}
