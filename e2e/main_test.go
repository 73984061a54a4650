// Package e2e runs the real advocate binary, as a separate process, against
// the loopback Slack and Discord and checks what their users and its database
// see: crashes (kill -9) and restarts lose nothing and make nothing twice on
// every way in (Slack Socket Mode and HTTP, Discord gateway and HTTP
// interactions), platform and database faults are retried, redelivered or
// reported.
//
// The binary is built once per test run (set ADVOCATE_E2E_BINARY to test a
// prebuilt one). The tests take minutes and skip under -short.
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/advocate-bot/advocate/cmd/advocate-load/sim"
)

// binaryEnv names the environment variable holding the binary under test.
const binaryEnv = "ADVOCATE_E2E_BINARY"

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() || os.Getenv(binaryEnv) != "" {
		os.Exit(m.Run())
	}
	os.Exit(buildAndRun(m))
}

// buildAndRun builds cmd/advocate into a temporary directory, points
// binaryEnv at it and runs the tests.
func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "advocate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := sim.ModuleRoot(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "advocate")
	if err := sim.Build(ctx, root, bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.Setenv(binaryEnv, bin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
