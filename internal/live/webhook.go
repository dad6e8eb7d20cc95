package live

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
)

// MaxWebhookBody is the largest webhook body accepted (LiveKit's are a few KiB).
const MaxWebhookBody = 1 << 20

// Verifier checks LiveKit webhook signatures: the Authorization header is a JWT signed with
// the API secret of its issuer key, whose sha256 claim is the base64 SHA-256 of the body.
type Verifier struct {
	secrets map[string]string
	decode  protojson.UnmarshalOptions
	macs    macs
	now     func() time.Time
}

// NewVerifier accepts webhooks signed with any of the key -> secret pairs.
func NewVerifier(secrets map[string]string) *Verifier {
	// Unknown fields are tolerated: a newer LiveKit may add some. The token is checked as
	// LiveKit's own verifier checks it (HS256 only, a minute of leeway on its times).
	return &Verifier{secrets: secrets, decode: protojson.UnmarshalOptions{DiscardUnknown: true},
		macs: newMACs(secrets), now: time.Now}
}

// Verify checks the signature and checksum, then decodes the body with protojson (LiveKit
// encodes int64 as strings and enums by name, which encoding/json rejects). A bad signature
// or checksum wraps ErrUnauthorized; a signed but unusable body wraps ErrInvalidEvent.
func (v *Verifier) Verify(authorization string, body []byte) (*livekit.WebhookEvent, error) {
	if len(body) > MaxWebhookBody {
		return nil, fmt.Errorf("webhook body of %d bytes is over %d: %w", len(body), MaxWebhookBody, ErrInvalidEvent)
	}
	token := strings.TrimSpace(authorization)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if token == "" {
		return nil, fmt.Errorf("webhook: no Authorization header: %w", ErrUnauthorized)
	}
	// One parse: the secret is looked up by the issuer the parse has just read (LiveKit's
	// ParseAPIToken and Verify would decode the token twice, a measured share of ingestion).
	claimed, err := v.checkToken(token, v.now())
	if err != nil {
		return nil, fmt.Errorf("webhook: %w: %w", err, ErrUnauthorized)
	}
	sum := sha256.Sum256(body)
	want := base64.StdEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(claimed), []byte(want)) != 1 {
		return nil, fmt.Errorf("webhook: body checksum mismatch: %w", ErrUnauthorized)
	}
	ev := &livekit.WebhookEvent{}
	if err := v.decode.Unmarshal(body, ev); err != nil {
		return nil, fmt.Errorf("webhook: undecodable body: %v: %w", err, ErrInvalidEvent)
	}
	if err := validate(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// validate refuses events whose handling would need fields they lack.
func validate(ev *livekit.WebhookEvent) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("webhook %q: %s: %w", ev.Event, fmt.Sprintf(format, args...), ErrInvalidEvent)
	}
	if ev.Id == "" {
		return bad("id is missing")
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"id", ev.Id, 128}, {"event", ev.Event, 64}, {"room.name", ev.Room.GetName(), 255}, {"room.sid", ev.Room.GetSid(), 64},
		{"participant.sid", ev.Participant.GetSid(), 64}, {"participant.identity", ev.Participant.GetIdentity(), 255},
		{"participant.name", ev.Participant.GetName(), 1 << 16}, {"track.sid", ev.Track.GetSid(), 64},
	} {
		if len(f.value) > f.max {
			return bad("%s is longer than %d bytes", f.name, f.max)
		}
		if strings.ContainsRune(f.value, 0) {
			return bad("%s contains a NUL byte", f.name)
		}
	}
	switch ev.Event {
	case "room_started", "room_finished":
		if ev.Room.GetName() == "" {
			return bad("room.name is missing")
		}
	case "participant_joined", "participant_left", "participant_connection_aborted":
		if ev.Room.GetName() == "" || ev.Participant.GetSid() == "" || ev.Participant.GetIdentity() == "" {
			return bad("room.name, participant.sid and participant.identity are required")
		}
	case "track_published", "track_unpublished":
		if ev.Room.GetName() == "" || ev.Participant.GetSid() == "" || ev.Track.GetSid() == "" {
			return bad("room.name, participant.sid and track.sid are required")
		}
	case "egress_started", "egress_updated", "egress_ended":
		if ev.EgressInfo == nil {
			return bad("egress_info is missing")
		}
	}
	return nil
}

// IngestResult says what became of a webhook.
type IngestResult struct {
	Event     string
	Duplicate bool // already processed (a retry, or another instance got it first)
}

// Ingest verifies a webhook and applies it. It returns once the state change is durable:
// concurrent webhooks are committed together (group commit), so one slow fsync serves many.
func (s *Service) Ingest(ctx context.Context, authorization string, body []byte) (IngestResult, error) {
	start := time.Now()
	ev, err := s.verifier.Verify(authorization, body)
	if err != nil {
		return IngestResult{}, err
	}
	s.rec.hooks.seen(s.now())
	res := IngestResult{Event: ev.Event}
	if strings.HasPrefix(ev.Event, "egress_") {
		return s.ingestEgress(ctx, ev)
	}
	dup, err := s.w.submit(ctx, ev)
	res.Duplicate = dup
	if err == nil && !dup {
		s.w.m.stateSeconds.Observe(time.Since(start).Seconds())
		if ev.Event == "participant_joined" {
			s.gate.admitted(ev.Room.GetName(), ev.Participant)
		}
	}
	return res, err
}

// ingestEgress hands egress events to the recording package. The event id is recorded only
// after the sink accepted it, so a failed hand-over is retried by LiveKit; the sink applies
// each transition once, so a retry racing another instance is harmless.
func (s *Service) ingestEgress(ctx context.Context, ev *livekit.WebhookEvent) (IngestResult, error) {
	res := IngestResult{Event: ev.Event}
	seen, err := s.st.eventSeen(ctx, ev.Id)
	if err != nil {
		return res, wrapUnavailable("egress event", err)
	}
	if seen {
		res.Duplicate = true
		return res, nil
	}
	if sink := s.egress; sink != nil {
		if err := sink.HandleEgress(ctx, ev.EgressInfo); err != nil {
			return res, wrapUnavailable("egress sink", err)
		}
	}
	dup, err := s.w.submit(ctx, ev)
	res.Duplicate = dup
	if errors.Is(err, ErrClosed) {
		return res, wrapUnavailable("egress event", err)
	}
	return res, err
}
