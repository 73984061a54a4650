package e2e

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
	"github.com/advocate-bot/advocate/internal/testkit"
)

// TestSecondRunOnOneFileRefused starts the binary twice on one SQLite file:
// the second must exit at once, naming the file and the first's process,
// while the read-only tools keep working beside the first.
func TestSecondRunOnOneFileRefused(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e, ctx := newEnv(t, ctx, sim.Config{}, sim.SlackOptions{})
	if err := e.slack.Conversation(1).Ask(ctx); err != nil {
		t.Fatal(err)
	}

	var logs testkit.LogBuffer
	second, err := sim.Start(e.bin, e.cfg, &logs)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.Done():
	case <-ctx.Done():
		second.Kill()
		t.Fatal("the second advocate run on the same file is still running")
	}
	if second.Err() == nil {
		t.Errorf("the second run exited with status 0")
	}
	out := logs.String()
	for _, want := range []string{e.db, "process " + strconv.Itoa(e.proc.PID()), "in use by another advocate"} {
		if !strings.Contains(out, want) {
			t.Errorf("the second run's output does not name %q:\n%s", want, out)
		}
	}
	select {
	case <-e.proc.Done():
		t.Fatalf("the first run exited: %v", e.proc.Err())
	default:
	}

	for _, args := range [][]string{{"report"}, {"export", "cases"}, {"outbox"}} {
		cmd := exec.CommandContext(ctx, e.bin, append(args, "--config", e.cfg)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("advocate %s beside the running bot: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	e.stop()
}
