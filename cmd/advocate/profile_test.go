package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestProfilesWritten(t *testing.T) {
	dir := t.TempDir()
	p := profiles{
		cpu: filepath.Join(dir, "cpu"), trace: filepath.Join(dir, "trace"),
		block: filepath.Join(dir, "block"), mutex: filepath.Join(dir, "mutex"),
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 { // some contention for the block and mutex profiles
		wg.Go(func() {
			for range 1000 {
				mu.Lock()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	gzipped := []byte{0x1f, 0x8b} // pprof's format
	for path, magic := range map[string][]byte{p.cpu: gzipped, p.block: gzipped, p.mutex: gzipped, p.trace: []byte("go 1.")} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, magic) {
			t.Errorf("%s: got %d bytes starting %q, want a profile starting %q", filepath.Base(path), len(b), b[:min(len(b), 8)], magic)
		}
	}
}
