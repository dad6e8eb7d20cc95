package livekit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
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

// logSink receives LiveKit's stdout and stderr, logs each line with component=livekit at
// its level, and keeps the recent lines to explain an exit.
type logSink struct {
	log  *slog.Logger
	mu   sync.Mutex
	buf  []byte
	tail []string // last lines that look like errors
}

const tailLines = 8

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		s.line(string(s.buf[:i]))
		s.buf = s.buf[i+1:]
	}
	if len(s.buf) > 64<<10 { // a line this long is logged in pieces rather than held forever
		s.line(string(s.buf))
		s.buf = nil
	}
	return len(p), nil
}

func (s *logSink) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 {
		s.line(string(s.buf))
		s.buf = nil
	}
}

// line logs one line. JSON lines (logging.json) keep their level and fields; plain lines
// are LiveKit's fatal messages ("TURN domain required") or library output, logged as warnings.
func (s *logSink) line(l string) {
	l = strings.TrimRight(l, "\r")
	if strings.TrimSpace(l) == "" {
		return
	}
	var m map[string]any
	if strings.HasPrefix(l, "{") && json.Unmarshal([]byte(l), &m) == nil {
		lvl := zapLevel(fmt.Sprint(m["level"]))
		msg, _ := m["msg"].(string)
		attrs := make([]any, 0, 2*len(m))
		for k, v := range m {
			switch k {
			case "level", "ts", "msg", "logger":
				continue
			}
			attrs = append(attrs, k, v)
		}
		s.log.Log(context.Background(), lvl, msg, attrs...)
		if lvl >= slog.LevelError {
			if e, ok := m["error"]; ok {
				msg = fmt.Sprintf("%s: %v", msg, e)
			}
			s.keep(msg)
		}
		return
	}
	s.log.Warn(l)
	s.keep(l)
}

func (s *logSink) keep(l string) {
	s.tail = append(s.tail, l)
	if len(s.tail) > tailLines {
		s.tail = s.tail[1:]
	}
}

// reason is the last error-like line LiveKit printed.
func (s *logSink) reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tail) == 0 {
		return ""
	}
	return s.tail[len(s.tail)-1]
}

func zapLevel(l string) slog.Level {
	switch strings.ToLower(l) {
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	default: // error, dpanic, panic, fatal
		return slog.LevelError
	}
}
