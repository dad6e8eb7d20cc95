// Package outbox delivers Parley's events to the HTTP endpoints admins register (outbound
// webhooks). An event is written to the outbox in the same transaction as the state change
// that causes it (Enqueue runs inside the caller's transaction), so a change that committed
// is delivered even if the process dies right after, and a change that rolled back never is.
// One worker across every instance sharing the database (a lease) delivers in order per room
// and endpoint, signed the Standard Webhooks way, retrying with exponential backoff for a
// day before the delivery is dead-lettered. Delivery never runs on a request's path: a slow
// or dead receiver holds up nothing but its own queue.
package outbox

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/lease"
	"gorm.io/gorm"
)

// Event types an endpoint can subscribe to. TypeTest is sent by test-send only.
const (
	TypeRoomStarted         = "room.started"
	TypeRoomFinished        = "room.finished"
	TypeParticipantJoined   = "participant.joined"
	TypeParticipantLeft     = "participant.left"
	TypeTrackPublished      = "track.published"
	TypeTrackUnpublished    = "track.unpublished"
	TypeRecordingStarted    = "recording.started"
	TypeRecordingCompleted  = "recording.completed"
	TypeRecordingFailed     = "recording.failed"
	TypeRecordingAborted    = "recording.aborted"
	TypeTest                = "webhook.test"
	AllTypes                = "*"
	maxEndpointsPerInstance = 100
)

// Types lists every event type an endpoint may name.
func Types() []string {
	return []string{TypeRoomStarted, TypeRoomFinished, TypeParticipantJoined, TypeParticipantLeft,
		TypeTrackPublished, TypeTrackUnpublished, TypeRecordingStarted, TypeRecordingCompleted,
		TypeRecordingFailed, TypeRecordingAborted}
}

// Sentinel errors; the HTTP layer maps them.
var (
	ErrInvalid  = errors.New("invalid webhook endpoint")
	ErrNotFound = errors.New("not found")
)

// Event is one state change to deliver. Data is JSON-ready; Room orders deliveries (events
// of one room reach each endpoint in the order they were enqueued).
type Event struct {
	Type string
	Room string
	// Identity, when set, is the participant's identity: data.identity in the body.
	Identity string
	At       time.Time
	Data     map[string]any
}

// Execer is the caller's open transaction (a *sql.Tx, or a connection inside BEGIN).
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Options configure the service. Zero values take the documented defaults.
type Options struct {
	DB  *gorm.DB
	Log *slog.Logger
	Now func() time.Time
	// Instance names this process in the worker lease (default: random).
	Instance string
	// RetryBase is the wait after the first failed attempt, doubled after each one up to
	// RetryMax (defaults 5 s and 1 h); RetryFor is how long a delivery is retried before
	// it is dead-lettered (default 24 h).
	RetryBase, RetryMax, RetryFor time.Duration
	// Timeout bounds one attempt, connection to last byte (default 10 s).
	Timeout time.Duration
	// Poll is how often the worker looks for due deliveries (default 1 s).
	Poll time.Duration
	// Concurrency bounds attempts in flight in all (default 16) and per endpoint (default 4),
	// so that an endpoint that never answers cannot take every slot.
	Concurrency, PerEndpoint int
	// Client sends the attempts (default: a client with Timeout).
	Client *http.Client
}

// Service is the outbox. Create it with New; Run delivers.
type Service struct {
	o      Options
	st     store
	log    *slog.Logger
	leases lease.Table
	kick   chan struct{}

	mu        sync.RWMutex
	endpoints []Endpoint // the subscriptions Enqueue fans out to
	loadedAt  time.Time
}

// New opens the outbox on a migrated database and loads the registered endpoints.
func New(o Options) (*Service, error) {
	if o.DB == nil {
		return nil, errors.New("outbox: a database is required")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RetryBase, 5*time.Second)
	def(&o.RetryMax, time.Hour)
	def(&o.RetryFor, 24*time.Hour)
	def(&o.Timeout, 10*time.Second)
	def(&o.Poll, time.Second)
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.PerEndpoint <= 0 {
		o.PerEndpoint = 4
	}
	if o.Client == nil {
		// As many idle connections per host as attempts may be in flight (endpoints may share
		// a host): with net/http's default of two, every attempt past two would dial (and
		// shake hands) anew.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = o.Concurrency
		tr.MaxIdleConns = max(tr.MaxIdleConns, o.Concurrency)
		o.Client = &http.Client{Timeout: o.Timeout, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect is an answer, not a place to post the event to
		}}
	}
	if o.Instance == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		o.Instance = hex.EncodeToString(b)
	}
	sqlDB, err := o.DB.DB()
	if err != nil {
		return nil, err
	}
	pg := db.IsPostgres(o.DB)
	s := &Service{o: o, st: store{db: sqlDB, postgres: pg, gate: db.WriteGate(o.DB)}, log: o.Log.With("component", "outbox"),
		leases: lease.Table{DB: sqlDB, Postgres: pg, Name: "outbox_leases"}, kick: make(chan struct{}, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads the endpoints Enqueue fans out to. Another instance's changes arrive with the
// worker loop's periodic reload (every few seconds); this instance's at once.
func (s *Service) reload(ctx context.Context) error {
	eps, err := s.st.endpoints(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.endpoints, s.loadedAt = eps, s.o.Now()
	s.mu.Unlock()
	return nil
}

// loadedEndpoints is the endpoint list as last loaded; reload replaces it whole, so the
// slice is never changed under its readers.
func (s *Service) loadedEndpoints() []Endpoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.endpoints
}

// Kick wakes the worker (after a replay or a test-send); it never blocks.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Enqueue writes events to the outbox inside the caller's transaction x: one row per event
// some endpoint subscribed to (none when no endpoint wants it), whatever the number of
// endpoints; the worker fans them out to deliveries off the caller's path.
func (s *Service) Enqueue(ctx context.Context, x Execer, evs []Event) error {
	eps := s.loadedEndpoints()
	if len(eps) == 0 || len(evs) == 0 {
		return nil
	}
	rows := make([]deliveryRow, 0, len(evs))
	now := s.o.Now().UnixMilli()
	for _, ev := range evs {
		if !slices.ContainsFunc(eps, func(ep Endpoint) bool { return ep.Wants(ev.Type) }) {
			continue
		}
		body, err := payload(ev)
		if err != nil {
			return err
		}
		rows = append(rows, deliveryRow{eventID: NewMessageID(), eventType: ev.Type, room: ev.Room, payload: string(body), createdAt: now})
	}
	return s.st.insertEvents(ctx, x, rows)
}

// NewMessageID makes a webhook-id: unique per event, the same on every attempt and endpoint.
func NewMessageID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}
