package builtin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Why a composition failed, the label of parley_recorder_composition_failures_total.
const (
	failTimeout  = "timeout"  // ran longer than its meeting-scaled budget: killed
	failSignal   = "signal"   // killed from outside (OOM killer, an operator)
	failExit     = "exit"     // ffmpeg refused: bad input or arguments (its stderr says why)
	failStart    = "start"    // ffmpeg could not be started
	failUpload   = "upload"   // composed, but the storage refused the file
	failInternal = "internal" // manifest or work folder trouble
)

// composeBudget is how long one composition may run: a minute to get going plus four
// times the meeting's length (veryfast x264 at low priority on a busy machine), so a
// stuck ffmpeg is killed and retried instead of holding the queue for ever.
func composeBudget(seconds float64) time.Duration {
	return time.Minute + time.Duration(4*seconds*float64(time.Second))
}

// ffmpegError is a failed ffmpeg run: its class, exit status and the tail of its stderr.
type ffmpegError struct {
	class  string
	status string
	tail   string
}

func (e *ffmpegError) Error() string {
	msg := "ffmpeg " + e.status
	if e.class == failTimeout {
		msg = "ffmpeg ran past its time budget and was killed (" + e.status + ")"
	}
	if e.tail != "" {
		msg += ": " + e.tail
	}
	return msg
}

// failureClass is the metrics label of a composition error.
func failureClass(err error) string {
	var fe *ffmpegError
	if errors.As(err, &fe) {
		return fe.class
	}
	return failInternal
}

// composeMetrics are the composer's Prometheus series; a nil registerer leaves them unregistered.
type composeMetrics struct {
	running  prometheus.Gauge
	queued   prometheus.Gauge
	duration prometheus.Histogram
	failures *prometheus.CounterVec
	realtime prometheus.Histogram
}

func newComposeMetrics(reg prometheus.Registerer) *composeMetrics {
	m := &composeMetrics{
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_recorder_compositions_running",
			Help: "ffmpeg compositions of the built-in recorder running now."}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{Name: "parley_recorder_compositions_queued",
			Help: "Compositions waiting for a free slot (recording.maxConcurrentCompositions)."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_recorder_composition_seconds",
			Help: "Wall time of one ffmpeg composition.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_recorder_composition_failures_total",
			Help: "Failed compositions or uploads by reason: timeout, signal, exit, start, upload, internal."}, []string{"reason"}),
		realtime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_recorder_composition_realtime_factor",
			Help:    "Meeting seconds composed per wall-clock second (above 1 is faster than real time).",
			Buckets: []float64{0.25, 0.5, 1, 2, 4, 8, 16, 32, 64}}),
	}
	for _, r := range []string{failTimeout, failSignal, failExit, failStart, failUpload, failInternal} {
		m.failures.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.running, m.queued, m.duration, m.failures, m.realtime)
	}
	return m
}

// ffmpegRun is one supervised ffmpeg: bounded by budget, cancelled with ctx (shutdown),
// at low priority, its stderr logged line by line (bounded) and its tail kept for the error.
type ffmpegRun struct {
	bin      string
	args     []string
	total    float64 // seconds of media, for progress
	budget   time.Duration
	log      *slog.Logger
	progress func(float64)
	// urgent runs at normal priority: a recording's tail after stop, which someone waits for.
	urgent bool
}

// maxLoggedLines bounds how much of one run's stderr reaches the log: a broken input can
// make ffmpeg print an error per frame.
const maxLoggedLines = 200

func (f ffmpegRun) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, f.budget)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.bin, f.args...)
	// SIGTERM first so ffmpeg can finish cleanly; SIGKILL 5 s later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	tail := &tailBuffer{max: 2048}
	stderr := &lineLogger{log: f.log, max: maxLoggedLines, tail: tail}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return &ffmpegError{class: failStart, status: err.Error()}
	}
	if err := cmd.Start(); err != nil {
		return &ffmpegError{class: failStart, status: "could not start: " + err.Error()}
	}
	// Composition must not slow the meetings still running on this machine.
	if !f.urgent {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, 10)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || k != "out_time_us" || f.total <= 0 || f.progress == nil {
			continue
		}
		if us, err := strconv.ParseInt(v, 10, 64); err == nil && us > 0 {
			f.progress(min(float64(us)/1e6/f.total, 0.99))
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	stderr.flush()
	if err == nil {
		return nil
	}
	return classify(err, ctx, f.budget, strings.TrimSpace(tail.String()))
}

// classify turns ffmpeg's end into a failure class: our budget, our shutdown, a signal
// from elsewhere, or ffmpeg's own exit status.
func classify(err error, ctx context.Context, budget time.Duration, tail string) error {
	fe := &ffmpegError{class: failExit, status: err.Error(), tail: tail}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Signaled():
				fe.class, fe.status = failSignal, "killed by signal "+ws.Signal().String()
			case ws.Exited():
				fe.status = fmt.Sprintf("exited with status %d", ws.ExitStatus())
			}
		}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		fe.class, fe.status = failTimeout, fmt.Sprintf("budget %s; %s", budget.Round(time.Second), fe.status)
	case ctx.Err() != nil:
		return fmt.Errorf("ffmpeg interrupted: %w", ctx.Err())
	}
	return fe
}

// lineLogger logs ffmpeg's stderr lines as warnings, the first max of them, and copies
// everything to tail.
type lineLogger struct {
	log    *slog.Logger
	max    int
	tail   *tailBuffer
	mu     sync.Mutex
	buf    []byte
	logged int
	cut    bool
}

func (l *lineLogger) Write(p []byte) (int, error) {
	_, _ = l.tail.Write(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 4096 {
		l.line(string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(p), nil
}

func (l *lineLogger) line(s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	if l.logged >= l.max {
		if !l.cut {
			l.cut = true
			l.log.Warn("ffmpeg: further output not logged (its tail is kept on the recording's error)")
		}
		return
	}
	l.logged++
	l.log.Warn("ffmpeg: " + s)
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.line(string(l.buf))
		l.buf = nil
	}
}

// tailBuffer keeps the last max bytes written to it, cut at a line start.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
		if i := strings.IndexByte(string(t.b), '\n'); i >= 0 {
			t.b = t.b[i+1:]
		}
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
