package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"

	"github.com/spf13/cobra"
)

// profiles are run's optional profiling outputs, as `go test` names them:
// a CPU profile and an execution trace for the whole run, and the block and
// mutex profiles written when it stops. They are for measuring the bot under
// load (cmd/advocate-load passes them through); each costs some speed.
type profiles struct {
	cpu, trace, block, mutex string

	files []*os.File
}

func (p *profiles) flags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&p.trace, "trace", "", "write an execution trace of the run to this file")
	fs.StringVar(&p.block, "blockprofile", "", "write a goroutine blocking profile to this file when the run stops")
	fs.StringVar(&p.mutex, "mutexprofile", "", "write a mutex contention profile to this file when the run stops")
}

// start begins the requested profiles; stop must be called, even after an
// error, to end those that started.
func (p *profiles) start() error {
	if p.block != "" {
		runtime.SetBlockProfileRate(1)
	}
	if p.mutex != "" {
		runtime.SetMutexProfileFraction(1)
	}
	if p.cpu != "" {
		f, err := p.create(p.cpu)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
	}
	if p.trace != "" {
		f, err := p.create(p.trace)
		if err != nil {
			return err
		}
		if err := trace.Start(f); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
	}
	return nil
}

// stop ends the CPU profile and the trace, writes the block and mutex
// profiles and closes the files.
func (p *profiles) stop() error {
	if p.cpu != "" {
		pprof.StopCPUProfile()
	}
	if p.trace != "" {
		trace.Stop()
	}
	var errs []error
	for _, w := range []struct{ name, path string }{{"block", p.block}, {"mutex", p.mutex}} {
		if w.path == "" {
			continue
		}
		f, err := p.create(w.path)
		if err == nil {
			err = pprof.Lookup(w.name).WriteTo(f, 0)
		}
		errs = append(errs, err)
	}
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(0)
	for _, f := range p.files {
		errs = append(errs, f.Close())
	}
	p.files = nil
	return errors.Join(errs...)
}

func (p *profiles) create(path string) (*os.File, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	p.files = append(p.files, f)
	return f, nil
}
