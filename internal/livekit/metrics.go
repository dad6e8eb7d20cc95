package livekit

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// States a Supervisor reports.
const (
	StateStarting    = "starting"
	StateReady       = "ready"
	StateRestarting  = "restarting"
	StateFailed      = "failed"
	StateUnreachable = "unreachable"
	StateStopped     = "stopped"
)

var allStates = []string{StateStarting, StateReady, StateRestarting, StateFailed, StateUnreachable, StateStopped}

// metrics are the supervisor's Prometheus series; a nil registerer leaves them unregistered.
type metrics struct {
	state    *prometheus.GaugeVec
	restarts prometheus.Counter
	ready    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_livekit_state",
			Help: "1 for LiveKit's current state as seen by Parley's supervisor, 0 for the others.",
		}, []string{"state"}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_livekit_restarts_total",
			Help: "Times the supervisor restarted a LiveKit that exited or stopped answering.",
		}),
		ready: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "parley_livekit_ready_seconds",
			Help:    "Time from starting (or detecting a failure) to LiveKit answering its health probe.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.state, m.restarts, m.ready)
	}
	return m
}

func (m *metrics) setState(state string) {
	for _, s := range allStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.WithLabelValues(s).Set(v)
	}
}

func (m *metrics) observeReady(d time.Duration) { m.ready.Observe(d.Seconds()) }
