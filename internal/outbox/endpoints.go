package outbox

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// NewEndpoint is what an admin registers; an empty Secret gets a generated one.
type NewEndpoint struct {
	URL    string
	Events []string
	Secret string
}

// Endpoints lists the registered endpoints with their pending and dead-lettered counts.
func (s *Service) Endpoints(ctx context.Context) ([]Endpoint, map[string][2]int, error) {
	eps, err := s.st.endpoints(ctx)
	if err != nil {
		return nil, nil, err
	}
	counts, err := s.st.counts(ctx)
	return eps, counts, err
}

// Register validates and stores an endpoint; it receives events from the next state change on.
func (s *Service) Register(ctx context.Context, n NewEndpoint) (Endpoint, error) {
	u, err := url.Parse(n.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(n.URL) > 2048 {
		return Endpoint{}, fmt.Errorf("url: %q must be an absolute http(s) URL without credentials: %w", n.URL, ErrInvalid)
	}
	if len(n.Events) == 0 {
		return Endpoint{}, fmt.Errorf("events: name at least one of %s, or %q: %w", strings.Join(Types(), ", "), AllTypes, ErrInvalid)
	}
	var events []string
	for _, e := range n.Events {
		if e != AllTypes && !slices.Contains(Types(), e) {
			return Endpoint{}, fmt.Errorf("events: %q is not one of %s, or %q: %w", e, strings.Join(Types(), ", "), AllTypes, ErrInvalid)
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	if n.Secret == "" {
		n.Secret = NewSecret()
	} else if _, err := secretKey(n.Secret); err != nil {
		return Endpoint{}, err
	}
	cur, err := s.st.endpoints(ctx)
	if err != nil {
		return Endpoint{}, err
	}
	if len(cur) >= maxEndpointsPerInstance {
		return Endpoint{}, fmt.Errorf("url: at most %d webhook endpoints; delete one first: %w", maxEndpointsPerInstance, ErrInvalid)
	}
	e := Endpoint{ID: uuid.NewString(), URL: n.URL, Events: events, Secret: n.Secret, CreatedAt: s.o.Now().UTC().Truncate(1e6)}
	if err := s.st.insertEndpoint(ctx, e); err != nil {
		return Endpoint{}, fmt.Errorf("outbox: register: %w", err)
	}
	return e, s.reload(ctx)
}

// Delete removes an endpoint and its delivery log; undelivered events to it are dropped.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.st.deleteEndpoint(ctx, id); err != nil {
		return err
	}
	return s.reload(ctx)
}

// Deliveries is an endpoint's delivery log, newest first; before is the cursor (a delivery
// id, 0 for the newest) and status filters (empty: all).
func (s *Service) Deliveries(ctx context.Context, endpointID, status string, before int64, limit int) ([]Delivery, error) {
	if status != "" && status != StatusPending && status != StatusDelivered && status != StatusDead {
		return nil, fmt.Errorf("status: %q is not pending, delivered or dead: %w", status, ErrInvalid)
	}
	if err := s.exists(ctx, endpointID); err != nil {
		return nil, err
	}
	return s.st.listDeliveries(ctx, endpointID, status, before, limit)
}

// Replay sends a delivery again (the same webhook-id and body) as soon as the ones before it
// in its room's queue are done.
func (s *Service) Replay(ctx context.Context, endpointID string, id int64) (Delivery, error) {
	if err := s.st.requeue(ctx, endpointID, id, s.o.Now().UnixMilli()); err != nil {
		return Delivery{}, err
	}
	s.Kick()
	return s.st.delivery(ctx, endpointID, id)
}

// SendTest queues a webhook.test event to one endpoint, whatever it subscribed to.
func (s *Service) SendTest(ctx context.Context, endpointID string) (Delivery, error) {
	if err := s.exists(ctx, endpointID); err != nil {
		return Delivery{}, err
	}
	body, err := payload(Event{Type: TypeTest, At: s.o.Now(), Data: map[string]any{"endpointId": endpointID}})
	if err != nil {
		return Delivery{}, err
	}
	now := s.o.Now().UnixMilli()
	row := deliveryRow{endpointID: endpointID, eventID: NewMessageID(), eventType: TypeTest, payload: string(body), createdAt: now}
	if err := s.st.insertDeliveries(ctx, s.st.db, []deliveryRow{row}); err != nil {
		return Delivery{}, err
	}
	s.Kick()
	ds, err := s.st.listDeliveries(ctx, endpointID, "", 0, 1)
	if err != nil || len(ds) == 0 {
		return Delivery{}, fmt.Errorf("outbox: test delivery not found after insert: %v", err)
	}
	return ds[0], nil
}

func (s *Service) exists(ctx context.Context, id string) error {
	eps, err := s.st.endpoints(ctx)
	if err != nil {
		return err
	}
	for _, e := range eps {
		if e.ID == id {
			return nil
		}
	}
	return fmt.Errorf("webhook endpoint %q: %w", id, ErrNotFound)
}
