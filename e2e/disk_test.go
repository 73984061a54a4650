package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/adapters/slack/slackfake"
	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
	"github.com/advocate-bot/advocate/store/sqlite"
)

// smallDiskEnv names the directory on which a test running under onSmallDisk
// mounts its small filesystem; it is set only in the process that runs the
// test itself.
const smallDiskEnv = "ADVOCATE_E2E_SMALL_DISK"

// onSmallDisk gives the calling test a filesystem of size bytes of its own,
// which it may fill without filling the machine's disk. The test runs again
// in a child process with a user and mount namespace of its own, where a
// tmpfs of that size is mounted on a new directory; the child's bot and its
// database live there. In the child, onSmallDisk mounts the filesystem and
// returns its directory. In the test's own process it runs the child,
// reports its outcome as the test's and returns "": the caller then returns.
// Where the machine lets no process make a user namespace, the test is
// skipped.
func onSmallDisk(t *testing.T, ctx context.Context, size int) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test of the binary: skipped under -short")
	}
	if dir := os.Getenv(smallDiskEnv); dir != "" {
		// mounts made here stay in this process's namespace
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			t.Fatalf("make the mounts private: %v", err)
		}
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
			t.Fatalf("mount a tmpfs of %d bytes: %v", size, err)
		}
		return dir
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), smallDiskEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("needs a small filesystem of its own, mounted in a user and mount namespace, which this machine does not allow: %v", err)
	}
	err := cmd.Wait()
	switch {
	case err != nil:
		t.Errorf("on a small filesystem: %v\n%s", err, out.String())
	case strings.Contains(out.String(), "--- SKIP"):
		t.Skipf("skipped on the small filesystem:\n%s", out.String())
	case !strings.Contains(out.String(), "--- PASS: "+t.Name()):
		t.Errorf("on a small filesystem, the test did not pass:\n%s", out.String())
	}
	return ""
}

// fillDisk writes a file into dir until the filesystem has no space left,
// and returns it.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4 << 10, 1} {
		b := make([]byte, chunk)
		for err == nil {
			_, err = f.Write(b)
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("filling the disk: %v", err)
		}
		err = nil
	}
	return path
}

// readyzBody returns the status and the text of the bot's readiness check.
func readyzBody(ctx context.Context, base string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitReadyz polls /readyz until it answers want.
func waitReadyz(t *testing.T, ctx context.Context, e *env, want int) {
	t.Helper()
	for got := readyz(ctx, e.baseURL()); got != want; got = readyz(ctx, e.baseURL()) {
		select {
		case <-ctx.Done():
			t.Fatalf("/readyz: got %d until the test's end, want %d", got, want)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestFullDisk fills the disk under a running bot: a question asked then is
// not acknowledged, the log says why and /readyz answers 503. Once space is
// freed, without a restart, Slack's redelivery of the question is committed
// once and /readyz answers 200 again; no acknowledged event is lost.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := onSmallDisk(t, ctx, 32<<20)
	if dir == "" {
		return
	}
	patient := func(c *slackfake.Config) { c.MaxEventRetries = 10 }
	onDisk := func(e *env, _ *sim.Config) { e.db = filepath.Join(dir, "advocate.db") }
	e, ctx := newEnv(t, ctx, sim.Config{}, sim.SlackOptions{Fake: []slackfake.Option{patient}}, onDisk)
	first, second := e.slack.Conversation(1), e.slack.Conversation(2)
	if err := first.Ask(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.AwaitStaff(ctx); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, ctx, e, http.StatusOK)

	filler := fillDisk(t, dir)
	// The log file keeps the space it had: commits that fit in it still go
	// through (and are durable). Questions are asked until one does not fit.
	var q slackfake.Posted
	asked := 1
	for {
		if asked > 500 {
			t.Fatal("500 questions committed on a full disk")
		}
		second = e.slack.Conversation(1 + asked)
		var err error
		q, err = e.slack.Fake.UserSays(second.User, sim.SupportChannel, "Question asked while the disk is full")
		if err != nil {
			t.Fatal(err)
		}
		asked++
		if !ackedOrRefused(t, ctx, e, q.EnvelopeID) {
			break
		}
	}
	if env, _ := e.slack.Fake.Envelope(q.EnvelopeID); env.Acked {
		t.Errorf("the question was acknowledged while the disk was full")
	}
	if !strings.Contains(e.logs.String(), "database or disk is full") {
		t.Errorf("the log does not say why: want \"database or disk is full\"")
	}
	if code, body := readyzBody(ctx, e.baseURL()); code != http.StatusServiceUnavailable || !strings.Contains(body, sqlite.ErrDatabaseFull.Error()) {
		t.Errorf("/readyz on a full disk: got %d %q, want %d saying %q", code, body, http.StatusServiceUnavailable, sqlite.ErrDatabaseFull)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := e.slack.Fake.WaitAck(ctx, q.EnvelopeID); err != nil {
		t.Fatalf("the question asked on the full disk was never acknowledged once there was space: %v", err)
	}
	second.Question = q.Message
	if err := second.AwaitIntro(ctx); err != nil {
		t.Fatal(err)
	}
	if err := second.AwaitStaff(ctx); err != nil {
		t.Fatal(err)
	}
	// a full disk fails some writes and not others: /readyz keeps saying so
	// for a while after the last failure (store/sqlite/health.go)
	waitReadyz(t, ctx, e, http.StatusOK)

	logs := settle(t, ctx, e)
	if got := len(logs); got != asked {
		t.Errorf("cases: got %d, want %d", got, asked)
	}
	for _, l := range logs {
		for _, kind := range []string{bot.KindAskedPublic, bot.KindTakenPrivate} {
			if got := l.count(kind); got != 1 {
				t.Errorf("case %d: %d %s events, want 1", l.c.ID, got, kind)
			}
		}
	}
	checkEnvelopes(t, e)
	if dups := duplicates(t, e); dups != 0 {
		t.Errorf("duplicated posts: got %d, want none", dups)
	}
}

// ackedOrRefused waits until the envelope is acknowledged (true) or an event
// fails to commit (false).
func ackedOrRefused(t *testing.T, ctx context.Context, e *env, envelope string) bool {
	t.Helper()
	for {
		if env, _ := e.slack.Fake.Envelope(envelope); env.Acked {
			return true
		}
		if e.logs.Count(`"msg":"event not committed"`) > 0 {
			return false
		}
		select {
		case <-ctx.Done():
			t.Fatalf("envelope %s neither acknowledged nor refused", envelope)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
