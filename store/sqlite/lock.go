package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/gofrs/flock"
)

// One SQLite file serves one running bot: two bots on one file would each
// relay the same outbox, posting every message twice. A bot therefore opens
// its store with Options.Exclusive, which holds an exclusive flock on a lock
// file beside the database (PATH.lock) for as long as the store is open, with
// the holder's process ID written in it. The operating system releases the
// lock when the process ends, however it ends, so a crashed bot leaves
// nothing to clean up. Tool commands (report, export, outbox) do not take it:
// they read beside a running bot, and their few writes wait for the bot's
// like any other writer's (busy_timeout).

// LockedError is Open's error when another process holds the lock: it says
// which database and which process.
type LockedError struct {
	Path string // the database file
	PID  int    // the holder's process ID; 0 if it could not be read
}

func (e *LockedError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("%s is in use by another advocate (%s holds %s): one SQLite file serves one running advocate; stop the other one, or use PostgreSQL (store.driver: postgres) to run several",
		e.Path, who, lockPath(e.Path))
}

func lockPath(path string) string { return path + ".lock" }

// lockFile takes the lock of the database at path, or fails at once with a
// *LockedError when another process holds it.
func lockFile(path string) (*flock.Flock, error) {
	l := flock.New(lockPath(path), flock.SetPermissions(0o600))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", l.Path(), err)
	}
	if !ok {
		return nil, &LockedError{Path: path, PID: lockHolder(l.Path())}
	}
	if err := os.WriteFile(l.Path(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return nil, errors.Join(fmt.Errorf("store: lock %s: %w", l.Path(), err), l.Close())
	}
	return l, nil
}

// lockHolder reads the process ID a lock file's holder wrote, or 0.
func lockHolder(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil {
		return 0
	}
	return pid
}
