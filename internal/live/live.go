// Package live keeps Parley's view of what is happening inside LiveKit right now: which rooms
// are running, who is in them with which tracks, and every participant session for usage
// figures. Two sources feed it: LiveKit's signed webhooks (fast, but at most 5 tries, out of
// order, sometimes lost) and a reconciler that compares the database with LiveKit's
// RoomService (slow, but the truth). Every state change is also published on an in-process
// event bus for the dashboard's Server-Sent Events.
package live

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"
)

// Sentinel errors; the HTTP layer maps them to statuses.
var (
	// ErrUnauthorized: the webhook's signature or body checksum is wrong (401).
	ErrUnauthorized = errors.New("webhook signature invalid")
	// ErrInvalidEvent: the webhook is signed but not a usable event (400).
	ErrInvalidEvent = errors.New("webhook event invalid")
	// ErrUnavailable: the state could not be stored; LiveKit should retry (503).
	ErrUnavailable = errors.New("live state unavailable")
	// ErrClosed: the service is shutting down.
	ErrClosed = errors.New("live state closed")
)

// LiveKitRooms is what the reconciler asks LiveKit (lksdk.RoomServiceClient's signatures).
type LiveKitRooms interface {
	ListRooms(ctx context.Context, req *livekit.ListRoomsRequest) (*livekit.ListRoomsResponse, error)
	ListParticipants(ctx context.Context, req *livekit.ListParticipantsRequest) (*livekit.ListParticipantsResponse, error)
}

// EgressSink receives egress_* webhooks (the recording package implements it).
type EgressSink interface {
	HandleEgress(ctx context.Context, info *livekit.EgressInfo) error
}

// Execer is an open transaction handed to an Outbox: its writes commit or roll back with
// the state change.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Outbox records state changes for outbound webhooks inside the transaction that makes
// them (internal/outbox, through the wiring); an error rolls the change back.
type Outbox interface {
	Enqueue(ctx context.Context, x Execer, events []Event) error
}

// Options configure the service. DB, APIKey and APISecret are required.
type Options struct {
	DB        *gorm.DB
	APIKey    string
	APISecret string
	// LiveKit is asked by the reconciler; without it the reconciler does nothing.
	LiveKit LiveKitRooms
	// Nodes reports rooms lost with a dead cluster node; nil trusts the RoomService alone.
	Nodes NodeHealth
	// Egress receives egress_* webhooks; nil drops them (acknowledged).
	Egress EgressSink
	// Outbox receives every committed state change inside its transaction; nil: none.
	Outbox            Outbox
	ReconcileInterval time.Duration // default 10 s
	// Instance names this process in the reconciler lease (default: random).
	Instance string
	Registry prometheus.Registerer
	Log      *slog.Logger
	Now      func() time.Time
	// MaxBatch bounds how many webhook events one transaction commits (default 256).
	MaxBatch int
}

// Service is the live state. Create it with New and stop it with Close.
type Service struct {
	*Bus
	st       *store
	verifier *Verifier
	w        *writer
	rec      *reconciler
	egress   EgressSink
	gate     *gateQueue
	outbox   Outbox
	log      *slog.Logger
	now      func() time.Time
}

// New opens the live state on a migrated database and starts its webhook writer.
func New(o Options) (*Service, error) {
	if o.DB == nil {
		return nil, errors.New("live: a database is required")
	}
	if o.APIKey == "" || o.APISecret == "" {
		return nil, errors.New("live: livekit.apiKey and livekit.apiSecret are required to verify webhooks")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReconcileInterval <= 0 {
		o.ReconcileInterval = 10 * time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	log := o.Log.With("component", "live")
	st, err := newStore(o.DB)
	if err != nil {
		return nil, err
	}
	s := &Service{
		Bus:      NewBus(),
		st:       st,
		verifier: NewVerifier(map[string]string{o.APIKey: o.APISecret}),
		egress:   o.Egress,
		gate:     newGateQueue(),
		outbox:   o.Outbox,
		log:      log,
		now:      o.Now,
	}
	m := newMetrics(o.Registry)
	s.w = newWriter(st, s.Bus, m, log, o.Now, o.MaxBatch)
	s.w.outbox = o.Outbox
	s.rec = newReconciler(st, s.Bus, o.LiveKit, m, log, o.Now, o.ReconcileInterval, o.Instance)
	s.rec.outbox = o.Outbox
	s.rec.nodes = o.Nodes
	s.rec.gate = s.gate
	return s, nil
}

// Close stops the webhook writer after the events already queued are committed, then
// waits for the admission checks in flight.
func (s *Service) Close(ctx context.Context) error {
	err := s.w.close(ctx)
	s.gate.close()
	return err
}

// SetEgressSink sets the receiver of egress_* webhooks. It is a setter, not an option,
// for the wiring's one true cycle: the egress backend reports to the recording service,
// which publishes on this service's bus, and this service hands egress webhooks to it.
func (s *Service) SetEgressSink(e EgressSink) { s.egress = e }

// RunReconciler reconciles at start, every interval and on every TriggerReconcile, until
// ctx ends. Only the instance holding the database lease does the work.
func (s *Service) RunReconciler(ctx context.Context) error { return s.rec.run(ctx) }

// TriggerReconcile asks for a reconciliation soon (LiveKit restarted); it never blocks.
func (s *Service) TriggerReconcile() { s.rec.trigger() }

// ReconcileNow runs one reconciliation pass and reports its repairs by kind.
func (s *Service) ReconcileNow(ctx context.Context) (map[string]int, error) {
	return s.rec.pass(ctx)
}

func wrapUnavailable(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("live: %s: %w", what, err)
	}
	return fmt.Errorf("live: %s: %w: %w", what, ErrUnavailable, err)
}
