package sqlite

import (
	"path/filepath"
	"testing"
)

// The writer never checkpoints: a commit that leaves the log over SQLite's
// 1,000 pages does not copy it back on the writer's connection (which would
// hold up the acknowledgements of the batch behind it); the checkpointer's
// connection does.
func TestWriterLeavesCheckpointsToTheCheckpointer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advocate.db")
	db := openPath(t, path, Options{})
	if err := db.ckpt.close(); err != nil { // no tick may run during the test
		t.Fatal(err)
	}
	db.ckpt = nil
	ctx := t.Context()
	for _, q := range []string{
		"CREATE TABLE filler (b BLOB)",
		// about 1,500 pages in one commit
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) INSERT INTO filler SELECT randomblob(4000) FROM n",
		"INSERT INTO filler VALUES (x'00')", // the next commit: an automatic checkpoint would have rewound the log here
	} {
		if _, err := db.write.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	c, err := startCheckpointer(path, db.log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	var busy, logged, copied int
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logged, &copied); err != nil {
		t.Fatal(err)
	}
	if logged < 1500 {
		t.Errorf("log after the commits: %d pages, want the 1,500 and more of both commits (the writer checkpointed)", logged)
	}
	if copied != logged {
		t.Errorf("checkpointer copied %d of %d pages, want all", copied, logged)
	}
}
