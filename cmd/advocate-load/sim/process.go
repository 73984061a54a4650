package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// modulePath is the module whose cmd/advocate Build compiles.
const modulePath = "github.com/advocate-bot/advocate"

// ModuleRoot walks up from dir to the advocate module's root, the directory
// whose go.mod declares modulePath.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(data)), "module "+modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("sim: no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// Build compiles cmd/advocate of the module at root into out with the go tool.
// The binary is built without the race detector: what runs is what ships.
func Build(ctx context.Context, root, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/advocate")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sim: go build ./cmd/advocate: %w\n%s", err, b)
	}
	return nil
}

// Process is one running `advocate run`. It is killed, not asked, when a test
// wants a crash; Stop asks it to shut down cleanly.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, set before done is closed
}

// Start runs binary with `run --config config` and any further arguments of
// run (profiling flags), sending its stdout and stderr (the JSON or text log)
// to logs.
func Start(binary, config string, logs io.Writer, args ...string) (*Process, error) {
	return StartAs(binary, config, logs, nil, args...)
}

// StartAs is Start as another user when cred is not nil (the caller must be
// allowed to switch: root). Tests of file permissions need it, since root
// ignores them.
func StartAs(binary, config string, logs io.Writer, cred *syscall.Credential, args ...string) (*Process, error) {
	cmd := exec.Command(binary, append([]string{"run", "--config", config}, args...)...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sim: start %s: %w", binary, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID is the process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Kill sends SIGKILL, the crash: no deferred function, no shutdown, no
// flush. It returns once the process is gone.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits up to timeout for a clean exit, then kills.
// It returns the exit error of a clean stop (nil for exit status 0).
func (p *Process) Stop(timeout time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.err
	case <-t.C:
		p.Kill()
		return fmt.Errorf("sim: advocate did not stop within %s after SIGTERM; killed", timeout)
	}
}

// Memory is what /proc/PID/status says about a process's resident memory.
type Memory struct {
	// RSS is the resident set size now (VmRSS), in bytes.
	RSS int64
	// Peak is the highest resident set size so far (VmHWM), in bytes.
	Peak int64
}

// Memory reads the process's resident memory (Linux only).
func (p *Process) Memory() (Memory, error) {
	return ReadMemory(p.PID())
}

// ReadMemory reads VmRSS and VmHWM of process pid from /proc.
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, fmt.Errorf("sim: read memory of %d: %w", pid, err)
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.Peak
		default:
			continue
		}
		fields := strings.Fields(val) // "12345 kB"
		if len(fields) != 2 || fields[1] != "kB" {
			return Memory{}, fmt.Errorf("sim: unexpected %s line %q", key, sc.Text())
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("sim: %s: %w", key, err)
		}
		*dst = n * 1024
	}
	if err := sc.Err(); err != nil {
		return Memory{}, err
	}
	if m.Peak == 0 {
		return Memory{}, errors.New("sim: no VmHWM in /proc status (not Linux, or the process is gone)")
	}
	return m, nil
}

// userHZ is the unit of the CPU times in /proc/PID/stat: Linux reports them
// to user space in ticks of 1/100 s on every architecture.
const userHZ = 100

// CPU is the processor time the process has used so far, user and system
// (Linux only).
func (p *Process) CPU() (time.Duration, error) {
	return ReadCPU(p.PID())
}

// ReadCPU reads the user and system time of process pid from /proc.
func ReadCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("sim: read CPU time of %d: %w", pid, err)
	}
	// the command name (field 2) is in parentheses and may hold spaces
	_, rest, ok := strings.Cut(string(data), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, fmt.Errorf("sim: unexpected /proc/%d/stat", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime and stime, fields 14 and 15
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("sim: /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
