package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// Checkpoints. In WAL mode SQLite copies the log back into the database file
// (a checkpoint) when a commit leaves the log over 1,000 pages, on the
// committing connection, and then syncs the file. On the one writer
// connection that put the copy and the sync, which a busy disk can stretch to
// seconds, between a batch of events and their acknowledgements, every
// megabytes or so. So the writer's automatic checkpoints are off
// (wal_autocheckpoint(0) in writeDSN) and a checkpointer goroutine on a
// connection of its own runs a PASSIVE checkpoint (one that waits for nobody
// and blocks nobody: the writer keeps appending to the log meanwhile) every
// checkpointEvery. The log is then rewound by the writer's next transaction
// after a checkpoint that copied it all, as before.

// checkpointEvery is how often the checkpointer copies the log back: about a
// thousand pages at the busiest, as SQLite's own default would.
const checkpointEvery = time.Second

// checkpointer runs the checkpoints on its own connection until close.
type checkpointer struct {
	conn *sql.DB
	log  *slog.Logger
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// startCheckpointer opens the checkpointer's connection to path and starts
// it.
func startCheckpointer(path string, log *slog.Logger) (*checkpointer, error) {
	conn, err := openPool(checkpointDSN(path), 1)
	if err != nil {
		return nil, err
	}
	c := &checkpointer{conn: conn, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// checkpointDSN is the checkpointer's DSN: the writer's sync level, which
// decides how a checkpoint syncs.
func checkpointDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)"
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
			if err := c.checkpoint(context.Background()); err != nil {
				c.log.Warn("checkpoint failed; the log is copied back at the next one", "err", err)
			}
		}
	}
}

// checkpoint copies what it can of the log back into the database file.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	_, err := c.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	return err
}

// close stops the checkpointer and closes its connection; the last
// connection to close checkpoints the log (SQLite does at close). Closing
// again does nothing.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.conn.Close()
}
