package obs

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Access is one HTTP request's access line.
type Access struct {
	Time      time.Time
	Method    string
	Path      string
	Status    int
	Dur       time.Duration
	IP        string
	RequestID string
}

// AccessLog writes access lines from its own goroutine through a buffered writer, so a
// request only hands its line over: it never waits on formatting or on the log's writer.
// When the queue is full (the writer is slower than the traffic) the line is dropped and
// counted in parley_access_log_dropped_total rather than slowing requests down. Close
// writes what is queued and flushes.
type AccessLog struct {
	on      bool
	lines   chan Access
	dropped prometheus.Counter
	flushes chan chan struct{}
	h       slog.Handler
	buf     *bufio.Writer
}

// accessQueue is how many lines may wait for the writer: a few milliseconds of traffic at
// the request rates Parley serves, small enough that its memory does not matter.
const accessQueue = 4096

// NewAccessLog writes access lines to w at info in the log's format (the same as NewLogger's),
// or drops them unread when level is above info. reg may be nil.
func NewAccessLog(w io.Writer, level, format string, reg prometheus.Registerer) *AccessLog {
	buf := bufio.NewWriterSize(w, 32<<10)
	lg := NewLogger(buf, level, format)
	a := &AccessLog{
		on:    lg.Enabled(context.Background(), slog.LevelInfo),
		lines: make(chan Access, accessQueue),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_access_log_dropped_total",
			Help: "Access log lines dropped because the log writer fell behind.",
		}),
		flushes: make(chan chan struct{}),
		h:       lg.Handler(),
		buf:     buf,
	}
	if reg != nil {
		reg.MustRegister(a.dropped)
	}
	if a.on {
		go a.run()
	}
	return a
}

// Enabled reports whether lines are written at all (level info or lower).
func (a *AccessLog) Enabled() bool { return a != nil && a.on }

// Log queues one line without blocking.
func (a *AccessLog) Log(e Access) {
	if !a.Enabled() {
		return
	}
	select {
	case a.lines <- e:
	default:
		a.dropped.Inc()
	}
}

// run lives as long as the process: a request still finishing after Close keeps logging
// instead of sending on a closed channel. Lines reach the writer at most flushEvery after
// they were queued, in one write for all of them: a write per line would be a system call
// per request.
func (a *AccessLog) run() {
	var flush <-chan time.Time // nil while nothing waits in the buffer
	for {
		select {
		case e := <-a.lines:
			a.write(e)
			if flush == nil {
				flush = time.After(flushEvery)
			}
		case <-flush:
			flush = nil
			_ = a.buf.Flush()
		case ack := <-a.flushes:
			for n := len(a.lines); n > 0; n-- {
				a.write(<-a.lines)
			}
			_ = a.buf.Flush()
			close(ack)
		}
	}
}

// flushEvery is how late an access line may reach the log.
const flushEvery = 100 * time.Millisecond

func (a *AccessLog) write(e Access) {
	r := slog.NewRecord(e.Time, slog.LevelInfo, "http", 0)
	r.AddAttrs(slog.String("method", e.Method), slog.String("path", e.Path),
		slog.Int("status", e.Status), slog.Duration("dur", e.Dur), slog.String("ip", e.IP),
		slog.String("request_id", e.RequestID))
	_ = a.h.Handle(context.Background(), r)
}

// Close writes the lines queued so far and flushes, waiting at most until ctx ends.
func (a *AccessLog) Close(ctx context.Context) error {
	if !a.Enabled() {
		return nil
	}
	ack := make(chan struct{})
	select {
	case a.flushes <- ack:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
