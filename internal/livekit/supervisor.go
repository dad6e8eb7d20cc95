// Package livekit knows the LiveKit SFU: it renders its config, runs and heals the embedded
// livekit-server process (or watches an external one), and provides the RoomService and
// Egress clients the other modules use.
package livekit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrUnavailable means LiveKit is not ready: not started, restarting or unreachable.
var ErrUnavailable = errors.New("livekit unavailable")

// Status is what /readyz and the admin overview report.
type Status struct {
	Mode      string // embedded | external
	State     string // starting | ready | restarting | failed | unreachable | stopped
	Version   string
	URL       string // the URL browsers connect to
	Restarts  int
	StartedAt time.Time // when the current LiveKit process was started (embedded) or first seen ready
	Reason    string
	// PID of the embedded livekit-server (0 when none or external).
	PID int
	// ReadyAt is when the current process answered its first probe; ReadyAfter how long that
	// took from Start (cold start) or from detecting the failure (restart).
	ReadyAt    time.Time
	ReadyAfter time.Duration
	// RestartLog is the most recent restarts, oldest first (at most restartLogMax).
	RestartLog []Restart
}

// Options configure a Supervisor. Zero durations take the defaults shown.
type Options struct {
	External bool
	// Embedded: the livekit-server executable (see FindBinary) and either Render (generated
	// config) or ConfigPath (a static file checked against APIKey/APISecret).
	Binary     string
	Render     RenderParams
	ConfigPath string
	// RunDir holds the generated config (0700 dir, 0600 file, removed on Stop).
	RunDir string
	// WebhookURL, when set, is called at Start to fill Render.WebhookURL (Parley's port may
	// only be known once its listener is up).
	WebhookURL func() string

	HTTPURL       string // LiveKit's HTTP API, e.g. http://127.0.0.1:7880
	PublicURL     string // what browsers use (ws:// or wss://), for Status.URL
	APIKey        string
	APISecret     string
	SkipTLSVerify bool
	RedisAddress  string // checked for reachability before start when set

	StartTimeout  time.Duration // 15 s; embedded returns LiveKit's fatal reason much sooner
	ProbeInterval time.Duration // 1 s embedded, 2 s external
	ProbeTimeout  time.Duration // 1 s; one failed probe already reports LiveKit unreachable
	FailedProbes  int           // 3 failed probes in a row = hung: killed and restarted
	BackoffMax    time.Duration // 30 s
	HealthyReset  time.Duration // 1 min of health resets the backoff
	StopTimeout   time.Duration // 5 s between SIGTERM and SIGKILL
	CallTimeout   time.Duration // per RoomService/Egress call, 5 s

	Log      *slog.Logger
	Now      func() time.Time
	Registry prometheus.Registerer
}

// Supervisor runs the embedded LiveKit and heals it, or watches an external one. It is
// safe for concurrent use.
type Supervisor struct {
	o       Options
	log     *slog.Logger
	now     func() time.Time
	hc      *http.Client
	m       *metrics
	rooms   *RoomClient
	egress  *EgressClient
	cfgFile string

	mu        sync.Mutex
	st        Status
	subs      []func()
	stateSubs []func(Status)
	proc      *process
	started   bool
	cancel    context.CancelFunc
	done      chan struct{}
	subWG     sync.WaitGroup
}

// New validates o and builds a Supervisor; nothing runs until Start.
func New(o Options) (*Supervisor, error) {
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	mode := "embedded"
	if o.External {
		mode = "external"
	}
	if o.SkipTLSVerify {
		// A process-wide change, forced by server-sdk-go: its participants dial with
		// gorilla/websocket's DefaultDialer and accept no TLS settings of their own.
		skipSignallingVerify()
	}
	s := &Supervisor{o: o, log: o.Log, now: o.Now, hc: newHTTPClient(o.SkipTLSVerify), m: newMetrics(o.Registry)}
	s.rooms = NewRoomClient(o.HTTPURL, o.APIKey, o.APISecret, s.hc, o.CallTimeout)
	s.egress = NewEgressClient(o.HTTPURL, o.APIKey, o.APISecret, s.hc, o.CallTimeout)
	s.st = Status{Mode: mode, State: StateStarting, URL: o.PublicURL}
	s.m.setState(StateStarting)
	return s, nil
}

func (o *Options) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.StartTimeout, 15*time.Second)
	if o.External {
		def(&o.ProbeInterval, 2*time.Second)
	}
	def(&o.ProbeInterval, time.Second)
	// Interval + timeout bound how long /readyz may still say ready once LiveKit stops
	// answering (one failed probe reports it unreachable); a second is generous for GET /
	// on a loaded machine, so a slow answer is not taken for a hang.
	def(&o.ProbeTimeout, time.Second)
	def(&o.BackoffMax, 30*time.Second)
	def(&o.HealthyReset, time.Minute)
	def(&o.StopTimeout, 5*time.Second)
	def(&o.CallTimeout, DefaultCallTimeout)
	if o.FailedProbes <= 0 {
		o.FailedProbes = 3
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (o *Options) validate() error {
	if !hasScheme(o.HTTPURL, "http", "https") {
		return fmt.Errorf("%w: livekit.internalHost %q must be an http:// or https:// URL Parley reaches LiveKit's API at (e.g. http://127.0.0.1:7880)", ErrConfig, o.HTTPURL)
	}
	if o.PublicURL != "" && !hasScheme(o.PublicURL, "ws", "wss") {
		return fmt.Errorf("%w: livekit.host %q must be a ws:// or wss:// URL browsers connect to", ErrConfig, o.PublicURL)
	}
	if o.APIKey == "" || o.APISecret == "" {
		return fmt.Errorf("%w: livekit.apiKey and livekit.apiSecret are required", ErrConfig)
	}
	if o.External {
		return nil
	}
	if o.Binary == "" {
		return fmt.Errorf("%w: no livekit-server binary (see FindBinary)", ErrBinaryNotFound)
	}
	if o.RunDir == "" && o.ConfigPath == "" {
		return fmt.Errorf("%w: embedded LiveKit needs a run directory for its config", ErrConfig)
	}
	if o.ConfigPath == "" {
		p := o.Render
		p.WebhookURL = "http://127.0.0.1:1/x" // filled at Start; validate the rest now
		if _, err := RenderConfig(p); err != nil {
			return err
		}
	}
	return nil
}

func hasScheme(raw string, schemes ...string) bool {
	i := strings.Index(raw, "://")
	if i <= 0 || len(raw) == i+3 {
		return false
	}
	for _, s := range schemes {
		if strings.EqualFold(raw[:i], s) {
			return true
		}
	}
	return false
}

// RoomClient is the RoomService client configured from the same settings.
func (s *Supervisor) RoomClient() *RoomClient { return s.rooms }

// EgressClient is the Egress client configured from the same settings.
func (s *Supervisor) EgressClient() *EgressClient { return s.egress }

// Status returns a snapshot of LiveKit's state.
func (s *Supervisor) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.RestartLog = append([]Restart(nil), s.st.RestartLog...)
	return st
}

// OnReady registers fn, called (on its own goroutine, in registration order) after every
// start or restart that reaches ready, the first included: rooms in LiveKit's memory are
// gone after a restart, so listeners reconcile.
func (s *Supervisor) OnReady(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, fn)
}

// OnStateChange registers fn, called synchronously with the new status on every state
// change (for the live event bus's livekit_state events). fn must not block.
func (s *Supervisor) OnStateChange(fn func(Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stateSubs = append(s.stateSubs, fn)
}

// Check is the /readyz probe: "ok" | "starting" | "restarting" | "unreachable: <reason>".
func (s *Supervisor) Check(context.Context) (string, bool) {
	st := s.Status()
	switch st.State {
	case StateReady:
		return "ok", true
	case StateStarting, StateRestarting:
		return st.State, false
	default:
		return "unreachable: " + orDefault(st.Reason, st.State), false
	}
}

// Start starts (embedded) or connects to (external) LiveKit and returns once it answers its
// health probe, or with LiveKit's own reason for refusing. The supervisor then heals or
// watches it until Stop.
func (s *Supervisor) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("livekit supervisor already started")
	}
	s.started = true
	s.mu.Unlock()
	var err error
	if s.o.External {
		err = s.startExternal(ctx)
	} else {
		err = s.startEmbedded(ctx)
	}
	if err != nil {
		s.setState(StateFailed, err.Error())
		return err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.cancel, s.done = cancel, make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.done)
		if s.o.External {
			s.watchExternal(wctx)
		} else {
			s.heal(wctx)
		}
	}()
	return nil
}

// Stop ends the watch loop and stops the embedded LiveKit: SIGTERM, then SIGKILL after the
// stop timeout or when ctx ends. The generated config file is removed.
func (s *Supervisor) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.stop(ctx)
		s.log.Info("livekit stopped", "pid", p.pid())
	}
	s.removeConfig()
	s.setState(StateStopped, "")
	waited := make(chan struct{})
	go func() { s.subWG.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
	}
	return nil
}

func (s *Supervisor) setState(state, reason string) {
	s.mu.Lock()
	changed := s.st.State != state || s.st.Reason != reason
	s.st.State, s.st.Reason = state, reason
	st, watch := s.st, append([]func(Status){}, s.stateSubs...)
	s.mu.Unlock()
	s.m.setState(state)
	if changed {
		for _, fn := range watch {
			fn(st)
		}
	}
}

// markReady records a (re)start that reached ready and notifies the subscribers.
func (s *Supervisor) markReady(p *process, since time.Time) {
	now := s.now()
	s.mu.Lock()
	s.st.State, s.st.Reason, s.st.ReadyAt, s.st.ReadyAfter = StateReady, "", now, now.Sub(since)
	if p != nil {
		s.st.PID, s.st.StartedAt = p.pid(), p.started
	} else if s.st.StartedAt.IsZero() {
		s.st.StartedAt = now
	}
	subs := append([]func(){}, s.subs...)
	st, watch := s.st, append([]func(Status){}, s.stateSubs...)
	s.subWG.Add(1)
	s.mu.Unlock()
	s.m.setState(StateReady)
	for _, fn := range watch {
		fn(st)
	}
	s.m.observeReady(now.Sub(since))
	go func() {
		defer s.subWG.Done()
		for _, fn := range subs {
			fn()
		}
	}()
}

// probe is GET / answering "OK", LiveKit's health endpoint.
func (s *Supervisor) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.o.ProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(s.o.HTTPURL, "/")+"/", nil)
	if err != nil {
		return err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var b [64]byte
	n, _ := resp.Body.Read(b[:])
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b[:n])) != "OK" {
		return fmt.Errorf("GET %s/ answered %d %q, not 200 OK (is internalHost a LiveKit server?)", s.o.HTTPURL, resp.StatusCode, strings.TrimSpace(string(b[:n])))
	}
	return nil
}
