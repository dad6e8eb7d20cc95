package outbox

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"gorm.io/gorm"
)

// Without an endpoint the worker rests: no lease is taken (a write a second) and nothing is
// read; the first endpoint registered wakes it.
func TestWorkerRestsWithoutEndpoints(t *testing.T) {
	forEachDriver(t, func(t *testing.T, g *gorm.DB) {
		s := newService(t, g, Options{Instance: "a", Timeout: time.Second})
		run(t, s)
		time.Sleep(20 * s.o.Poll)
		var held int64
		if err := g.Raw("SELECT count(*) FROM outbox_leases").Scan(&held).Error; err != nil {
			t.Fatal(err)
		}
		if held != 0 {
			t.Fatal("the worker took its lease with no endpoint to deliver to")
		}
		rcv := &receiver{}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		if _, err := s.Register(context.Background(), NewEndpoint{URL: srv.URL, Events: []string{AllTypes}}); err != nil {
			t.Fatal(err)
		}
		enqueue(t, g, s, Event{Type: TypeRoomStarted, Room: "r"})
		waitFor(t, "the delivery after the first registration", func() bool { _, acc, _ := rcv.snapshot(); return len(acc) == 1 })
	})
}
