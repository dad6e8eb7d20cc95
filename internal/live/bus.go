package live

import (
	"sync"
	"time"
)

// Event types published on the bus.
const (
	EventRoomStarted       = "room_started"
	EventRoomFinished      = "room_finished"
	EventParticipantJoined = "participant_joined"
	EventParticipantLeft   = "participant_left"
	EventTrackPublished    = "track_published"
	EventTrackUnpublished  = "track_unpublished"
	EventTrackMuted        = "track_muted"
	EventRecordingStatus   = "recording_status"
	EventLiveKitState      = "livekit_state"
)

// Event is one state change. Participant is the identity, when the change concerns one.
// Data is a JSON-ready value (maps of strings, numbers and booleans, or an API shape the
// publisher chose): the events stream to browsers and between instances as JSON.
type Event struct {
	Type        string
	Room        string
	Participant string
	Data        any
	At          time.Time
	// Hidden marks a participant event of a recorder (hidden, recorder or egress), which
	// the lists never show: outbound webhooks leave it out.
	Hidden bool
}

// Bus is an in-process publish/subscribe of Events. Publish never blocks: a subscriber
// whose buffer is full is dropped (its channel closed), so a slow dashboard can never hold
// up the webhook path.
type Bus struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	done   chan struct{}
}

type subscriber struct {
	ch     chan Event
	types  []string // nil: every type
	closed bool
}

func (s *subscriber) wants(typ string) bool {
	if s.types == nil {
		return true
	}
	for _, t := range s.types {
		if t == typ {
			return true
		}
	}
	return false
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[*subscriber]struct{}{}, done: make(chan struct{})} }

// Subscribe returns a channel of events buffered to buf (at least 1) and a cancel func that
// unsubscribes. The channel is closed on cancel, or when the subscriber fell behind.
func (b *Bus) Subscribe(buf int) (<-chan Event, func()) { return b.SubscribeTypes(buf) }

// SubscribeTypes is Subscribe for the given event types only (all when none is given). An
// internal worker that acts on a few types says so: it is then neither woken for, nor dropped
// because of, the participant and track events that make up most of the traffic.
func (b *Bus) SubscribeTypes(buf int, types ...string) (<-chan Event, func()) {
	if buf < 1 {
		buf = 1
	}
	s := &subscriber{ch: make(chan Event, buf)}
	if len(types) > 0 {
		s.types = types
	}
	b.mu.Lock()
	if b.closed {
		s.closed = true
		close(s.ch)
	} else {
		b.subs[s] = struct{}{}
	}
	b.mu.Unlock()
	return s.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.dropLocked(s)
	}
}

// Publish hands e to every subscriber without waiting; a full subscriber is dropped.
func (b *Bus) Publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if !s.wants(e.Type) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			b.dropLocked(s)
		}
	}
}

// CloseSubscribers ends every subscription and refuses new ones, so that open event streams
// end when the server shuts down instead of holding the HTTP drain.
func (b *Bus) CloseSubscribers() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		close(b.done)
	}
	b.closed = true
	for s := range b.subs {
		b.dropLocked(s)
	}
}

// Closed is closed once CloseSubscribers ran: long-lived internal subscribers stop
// resubscribing then.
func (b *Bus) Closed() <-chan struct{} { return b.done }

// Subscribers is how many subscribers are attached.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

func (b *Bus) dropLocked(s *subscriber) {
	if s.closed {
		return
	}
	s.closed = true
	delete(b.subs, s)
	close(s.ch)
}
