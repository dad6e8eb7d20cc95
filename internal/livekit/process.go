package livekit

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is one run of livekit-server.
type process struct {
	cmd     *exec.Cmd
	cancel  context.CancelFunc // SIGTERM, then SIGKILL after the stop timeout (cmd.WaitDelay)
	exited  chan struct{}      // closed when Wait returned and all output was logged
	waitErr error
	out     *logSink
	started time.Time
}

// spawn starts livekit-server with args. The child gets SIGKILL if Parley dies (Pdeathsig),
// so no orphan keeps LiveKit's ports.
func spawn(bin string, args []string, log *slog.Logger, stopTimeout time.Duration, now func() time.Time) (*process, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	exited := make(chan struct{})
	cmd.Cancel = func() error { return terminate(cmd.Process, exited) }
	cmd.WaitDelay = stopTimeout // then SIGKILL
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = childEnv(os.Environ())
	sink := &logSink{log: log}
	cmd.Stdout, cmd.Stderr = sink, sink
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, cancel: cancel, exited: exited, out: sink, started: now()}
	go func() {
		p.waitErr = cmd.Wait()
		sink.flush()
		close(p.exited)
	}()
	return p, nil
}

// terminate sends SIGTERM, and again every 300 ms until the process exits: LiveKit ignores
// a SIGTERM that arrives while it is still finishing its startup, and a second one makes it
// stop without waiting for participants to leave.
func terminate(p *os.Process, exited <-chan struct{}) error {
	err := p.Signal(syscall.SIGTERM)
	go func() {
		t := time.NewTicker(300 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-exited:
				return
			case <-t.C:
				if p.Signal(syscall.SIGTERM) != nil {
					return
				}
			}
		}
	}()
	return err
}

// childEnv drops LIVEKIT_* variables: LIVEKIT_CONFIG or LIVEKIT_KEYS from the environment
// would silently override the config Parley passes with --config.
func childEnv(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, "LIVEKIT_") {
			out = append(out, e)
		}
	}
	return out
}

// stop asks LiveKit to leave (SIGTERM) and kills it after the stop timeout or when ctx ends.
func (p *process) stop(ctx context.Context) {
	p.cancel()
	select {
	case <-p.exited:
	case <-ctx.Done():
		p.kill()
	}
}

// kill sends SIGKILL (which also ends a SIGSTOPped process) and waits for the exit.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cancel()
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// exitReason is LiveKit's own explanation of why it stopped: it exits with status 0 after
// printing the fatal error, so the status alone says nothing.
func (p *process) exitReason() string {
	status := "exit status 0"
	if p.waitErr != nil {
		status = p.waitErr.Error()
	}
	if r := p.out.reason(); r != "" {
		return fmt.Sprintf("%s (%s)", r, status)
	}
	return status
}
