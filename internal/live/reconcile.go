package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twitchtv/twirp"
)

// Repair kinds counted by parley_reconcile_repairs_total{kind}.
const (
	RepairRoomStarted      = "room_started"
	RepairRoomFinished     = "room_finished"
	RepairParticipantAdded = "participant_joined"
	RepairParticipantState = "participant_state"
	RepairParticipantLeft  = "participant_left"
	RepairTrackPublished   = "track_published"
	RepairTrackUnpublished = "track_unpublished"
	RepairTrackMuted       = "track_muted"
)

const leaseName = "reconciler"

type metrics struct {
	repairs       *prometheus.CounterVec
	passes        *prometheus.CounterVec
	batchSize     prometheus.Histogram
	commitSeconds prometheus.Histogram
	stateSeconds  prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_reconcile_repairs_total",
			Help: "Live state repairs made by the reconciler (drift the webhooks missed), by kind."}, []string{"kind"}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parley_reconcile_passes_total",
			Help: "Reconciliation passes by result (ok, error, standby when another instance holds the lease, held while LiveKit is down)."}, []string{"result"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_webhook_batch_events",
			Help: "Webhook events committed per transaction (group commit).", Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_webhook_commit_seconds",
			Help: "Time to write and commit one batch of webhook events.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		stateSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "parley_webhook_state_seconds",
			Help:    "Time from a webhook's arrival to its state change committed and published (what the participant lists and event streams show).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
	}
	for _, c := range []prometheus.Collector{m.repairs, m.passes, m.batchSize, m.commitSeconds, m.stateSeconds} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err) // a programming error: two different collectors with one name
			}
		}
	}
	return m
}

// reconciler compares the live state with LiveKit's RoomService and repairs both ways.
type reconciler struct {
	st       *store
	bus      *Bus
	m        *metrics
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration
	instance string
	trig     chan struct{}
	lk       LiveKitRooms
	passMu   sync.Mutex
	hold     hold // see HoldRooms
	hooks    *webhookHealth
	nodes    NodeHealth
	gate     *gateQueue
	outbox   Outbox
	// nodesWarned is when an unanswered node health check was last logged (unix ms; passMu).
	nodesWarned int64
	// lastPrune is when webhook ids were last pruned (unix ms; guarded by passMu).
	lastPrune int64
}

func newReconciler(st *store, bus *Bus, lk LiveKitRooms, m *metrics, log *slog.Logger, now func() time.Time, interval time.Duration, instance string) *reconciler {
	if instance == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		instance = hex.EncodeToString(b)
	}
	return &reconciler{st: st, bus: bus, lk: lk, m: m, log: log.With("part", "reconciler"), now: now,
		interval: interval, instance: instance, trig: make(chan struct{}, 1), hooks: &webhookHealth{}}
}

func (r *reconciler) trigger() {
	select {
	case r.trig <- struct{}{}:
	default:
	}
}

func (r *reconciler) run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = r.st.releaseLease(rctx, leaseName, r.instance)
	}()
	for {
		r.logged(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.trig:
		}
	}
}

func (r *reconciler) logged(ctx context.Context) {
	repairs, err := r.pass(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Warn("reconciliation failed; will retry", "err", err)
	case len(repairs) > 0:
		r.log.Info("live state repaired", "repairs", repairs)
		if msg := r.hooks.check(repairs, r.now(), r.interval); msg != "" {
			r.log.Warn(msg)
		}
	}
}

// pass runs one reconciliation. Nothing is changed unless LiveKit answered every question:
// an unreachable LiveKit must not end every meeting in the database.
func (r *reconciler) pass(ctx context.Context) (map[string]int, error) {
	r.passMu.Lock()
	defer r.passMu.Unlock()
	lk := r.lk
	if lk == nil {
		return nil, nil
	}
	if r.hold.held() {
		r.m.passes.WithLabelValues("held").Inc()
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.interval+10*time.Second)
	defer cancel()
	snapshot := r.now().UnixMilli()
	held, err := r.st.acquireLease(ctx, leaseName, r.instance, snapshot, snapshot+(3*r.interval).Milliseconds())
	if err != nil {
		r.m.passes.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("reconcile: lease: %w", err)
	}
	if !held {
		r.m.passes.WithLabelValues("standby").Inc()
		return nil, nil
	}
	lkState, err := fetchLiveKit(ctx, lk)
	if err != nil {
		r.m.passes.WithLabelValues("error").Inc()
		return nil, err
	}
	lost := r.lostRooms(ctx) // read after LiveKit's answer: at least as recent
	dropLost(lkState, lost)
	known, err := r.st.openSessions(ctx) // before repair: a session it adds is a fresh join
	if err != nil {
		r.m.passes.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("reconcile: sessions: %w", err)
	}
	repairs, err := r.repair(ctx, lkState, lost, snapshot)
	if err == nil {
		r.judge(ctx, lkState, known)
	}
	for kind, n := range repairs {
		r.m.repairs.WithLabelValues(kind).Add(float64(n))
	}
	if err != nil {
		r.m.passes.WithLabelValues("error").Inc()
		return repairs, fmt.Errorf("reconcile: repair: %w", err)
	}
	if snapshot-r.lastPrune > (5 * time.Minute).Milliseconds() {
		r.lastPrune = snapshot
		_, _ = r.st.pruneEvents(ctx, snapshot-time.Hour.Milliseconds())
	}
	r.m.passes.WithLabelValues("ok").Inc()
	return repairs, nil
}

// judge runs the admission gate on every participant LiveKit runs, so that a refusal
// holds even when the participant's join webhook was lost or arrived before the change.
// A session the database did not know before this pass is judged as a fresh join.
func (r *reconciler) judge(ctx context.Context, lk map[string]lkRoom, known map[string]sessionRow) {
	g := r.gate.current()
	if g == nil {
		return
	}
	for name, cur := range lk {
		for _, p := range cur.participants {
			if p.GetState() == livekit.ParticipantInfo_DISCONNECTED || ctx.Err() != nil {
				continue
			}
			_, seen := known[p.GetSid()]
			g.Admitted(ctx, name, p, !seen)
		}
	}
}

type lkRoom struct {
	room         *livekit.Room
	participants []*livekit.ParticipantInfo
}

func fetchLiveKit(ctx context.Context, lk LiveKitRooms) (map[string]lkRoom, error) {
	resp, err := lk.ListRooms(ctx, &livekit.ListRoomsRequest{})
	if err != nil {
		return nil, fmt.Errorf("reconcile: list rooms: %w", err)
	}
	out := make(map[string]lkRoom, len(resp.GetRooms()))
	for _, room := range resp.GetRooms() {
		ps, err := lk.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: room.GetName()})
		var te twirp.Error
		if errors.As(err, &te) && te.Code() == twirp.NotFound {
			continue // closed between the two calls
		}
		if err != nil {
			return nil, fmt.Errorf("reconcile: list participants of %q: %w", room.GetName(), err)
		}
		out[room.GetName()] = lkRoom{room: room, participants: ps.GetParticipants()}
	}
	return out, nil
}
