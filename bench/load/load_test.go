package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.Quantile(tc.q)
		if d := float64(got-tc.want) / float64(tc.want); d < -0.011 || d > 0.011 {
			t.Errorf("Quantile(%v) = %v, want %v within 1%%", tc.q, got, tc.want)
		}
	}
	if h.Count() != 1000 || h.Max() != time.Second {
		t.Errorf("Count, Max = %d, %v; want 1000, 1s", h.Count(), h.Max())
	}
}

func TestRunSendsEachPreparedRequestOnceWithoutCycle(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") != "1" {
			w.WriteHeader(400)
		}
		n.Add(1)
	}))
	defer srv.Close()
	reqs := make([]Request, 500)
	for i := range reqs {
		reqs[i] = Request{Method: "POST", Path: "/", Header: [][2]string{{"X-Test", "1"}}, Body: []byte("x")}
	}
	res, err := Run(context.Background(), Options{Addrs: []string{strings.TrimPrefix(srv.URL, "http://")},
		Conns: 4, Duration: 5 * time.Second, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Exhausted || res.OK != 500 || res.Errors != 0 || n.Load() != 500 {
		t.Errorf("got exhausted=%v ok=%d errors=%d served=%d; want true 500 0 500 (first error %q)",
			res.Exhausted, res.OK, res.Errors, n.Load(), res.FirstErr)
	}
}
