package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/livekit/lktest"
)

// The control-plane load: ctrlRooms rooms of ctrlPerRoom real participants, each publishing
// a microphone and a small camera, muting its microphone once, and leaving and joining again
// every ctrlCycle, for ctrlFor.
const (
	ctrlRooms   = 4
	ctrlPerRoom = 5
	ctrlCycle   = 20 * time.Second
	ctrlFor     = 60 * time.Second
	// ctrlSettle is how long after the last leave the memory "after the meeting" is read.
	ctrlSettle = 5 * time.Second
)

// ctrlRun is what one run of the load measured.
type ctrlRun struct {
	parleyCPU, livekitCPU float64 // % of one core over the run
	idleRSS, idleHeap     float64 // MiB, right before the load
	peakRSS, loadHeap     float64 // MiB, highest during / heap at the end of the load
	afterRSS, afterHeap   float64 // MiB, ctrlSettle after the last leave
	// RssAnon, MiB: the process's own memory, without its binary's pages.
	idleAnon, loadAnon, afterAnon float64
	hookP99                       float64 // ms, parley_webhook_state_seconds over the run
	joins, leaves                 []float64
	closes                        []float64 // ms the SDK's Close took (part of each leave)
	failures                      []string
}

// benchCtrl: Parley's CPU beside LiveKit's under that load, Parley's RSS and Go heap before,
// during and after it, and how long the live state takes to show each join and leave (timed
// on the rooms' event streams, so the benchmark adds no requests of its own during the load).
func (h *harness) benchCtrl(ctx context.Context) {
	const g = "control plane"
	fail := func(reason string) { h.rep.na(g, "Parley CPU / LiveKit CPU", "%", reason) }
	if reason := h.authNA + h.roomsNA; reason != "" {
		fail(reason)
		return
	}
	lk := childNamed(h.main.pid(), "livekit-server")
	if lk == 0 {
		fail("no livekit-server child of bin/parley")
		return
	}
	media, err := lktest.SynthMedia(ctx, h.tmp, lktest.MediaSpec{Width: 160, Height: 120, FPS: 10, VideoKbps: 100, Seconds: 2})
	if err != nil {
		fail("synthetic media: " + err.Error())
		return
	}
	a := newAPI(h.main.base)
	// Registrations are rate limited per address: the admin and the bench user take two places.
	bearers := []string{h.admin.AccessToken, h.user.AccessToken}
	for i := len(bearers); i < ctrlRooms*ctrlPerRoom; i++ {
		s, err := a.register(ctx, fmt.Sprintf("bench-ctrl-%d@example.com", i), "bench-password-"+randHex(4), fmt.Sprintf("Ctrl %d", i))
		if err != nil {
			fail("register: " + naReason(err))
			return
		}
		bearers = append(bearers, s.AccessToken)
	}
	watches := make([]*roomWatch, ctrlRooms)
	for r := range ctrlRooms {
		name := fmt.Sprintf("bench-ctrl-%d", r)
		if err := a.createRoom(ctx, h.admin.AccessToken, name); err != nil {
			fail("create room: " + naReason(err))
			return
		}
		if watches[r], err = watchRoom(ctx, h.main.base, h.admin.AccessToken, name); err != nil {
			fail("event stream: " + naReason(err))
			return
		}
	}
	// The registrations' password hashes are over: Parley hands their memory back a second
	// later (internal/auth), so the first run starts from the idle it returns to.
	time.Sleep(3 * time.Second)
	h.ctrlIdle(lk)
	var runs []ctrlRun
	for i := range h.runs {
		if ctx.Err() != nil {
			break
		}
		r := h.ctrlOnce(ctx, lk, a, bearers, watches, media, "")
		fmt.Fprintf(os.Stderr, "   ctrl run %d: Parley %.2f %% core, LiveKit %.2f %%, RSS idle %.1f peak %.1f after %.1f MiB, %d joins, %d leaves, %d failures\n",
			i+1, r.parleyCPU, r.livekitCPU, r.idleRSS, r.peakRSS, r.afterRSS, len(r.joins), len(r.leaves), len(r.failures))
		runs = append(runs, r)
	}
	h.reportCtrl(runs, len(bearers))
	h.ctrlDirect(ctx, lk, a, bearers, watches, media, runs)
	h.ctrlClosed(ctx, watches)
}

// ctrlIdleFor is how long Parley's CPU at rest is measured, once, before the first run.
const ctrlIdleFor = 30 * time.Second

// ctrlIdle: Parley's CPU at rest beside an idle LiveKit, with the rooms created and their
// event streams open (the app left open in a browser), no one in a meeting.
func (h *harness) ctrlIdle(lk int) {
	_, _, p0, err := procStat(h.main.pid())
	_, _, l0, err2 := procStat(lk)
	time.Sleep(ctrlIdleFor)
	_, _, p1, err3 := procStat(h.main.pid())
	_, _, l1, err4 := procStat(lk)
	if err := errors.Join(err, err2, err3, err4); err != nil {
		h.rep.na("control plane", "Parley CPU at rest", "% core", err.Error())
		return
	}
	f := stat("control plane", "Parley CPU at rest", "% core", []float64{100 * (p1 - p0).Seconds() / ctrlIdleFor.Seconds()})
	f.Note = fmt.Sprintf("one run of %s before the load: the %d rooms' event streams open, no one in them; LiveKit %.2f %% of a core meanwhile",
		ctrlIdleFor, ctrlRooms, 100*(l1-l0).Seconds()/ctrlIdleFor.Seconds())
	h.rep.add(f)
}

// ctrlClosed reads Parley's memory once LiveKit has closed the emptied rooms (their
// departure timeout after the last leave): the meetings are over, not just paused.
func (h *harness) ctrlClosed(ctx context.Context, watches []*roomWatch) {
	const g = "control plane"
	t0 := time.Now().Add(-ctrlSettle)
	deadline := time.Now().Add(90 * time.Second)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		closed := 0
		for _, w := range watches {
			if w.seenSince("room_finished", t0) {
				closed++
			}
		}
		if closed == len(watches) {
			time.Sleep(time.Second)
			rss, _ := rssMB(h.main.pid())
			anon, _ := anonMB(h.main.pid())
			f := stat(g, "Parley RSS once the rooms closed", "MiB", []float64{rss})
			f.Note = fmt.Sprintf("%.0f s after the last leave, when LiveKit closed the empty rooms; anonymous %.1f MiB, Go heap in use %.1f MiB",
				time.Since(t0).Seconds()-float64(ctrlSettle/time.Second), anon, h.main.metrics()["go_memstats_heap_inuse_bytes"]/(1<<20))
			h.rep.add(f)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	h.rep.na(g, "Parley RSS once the rooms closed", "MiB", "LiveKit did not close the rooms within 90 s")
}

// ctrlOnce runs the load once. With signalURL the participants signal there instead of the
// URL their join answer names.
func (h *harness) ctrlOnce(ctx context.Context, lk int, a *api, bearers []string, watches []*roomWatch, media lktest.Media, signalURL string) ctrlRun {
	var r ctrlRun
	r.idleRSS, _ = rssMB(h.main.pid())
	r.idleAnon, _ = anonMB(h.main.pid())
	m0 := h.main.metrics()
	r.idleHeap = m0["go_memstats_heap_inuse_bytes"] / (1 << 20)
	var (
		mu          sync.Mutex
		wg          sync.WaitGroup
		peaks       []float64
		stopRSS     = sampleRSS(h.main.pid(), &peaks)
		_, _, p0, _ = procStat(h.main.pid())
		_, _, l0, _ = procStat(lk)
		t0          = time.Now()
	)
	record := func(v *[]float64, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			r.failures = append(r.failures, err.Error())
			return
		}
		*v = append(*v, ms(max(d, 0)))
	}
	for i, bearer := range bearers {
		w := watches[i%ctrlRooms]
		room := fmt.Sprintf("bench-ctrl-%d", i%ctrlRooms)
		start := t0.Add(time.Duration(i) * ctrlCycle / time.Duration(len(bearers)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctrlParticipant(ctx, a, bearer, room, w, media, start, signalURL, record, &r.joins, &r.leaves, &r.closes)
		}()
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	_, _, p1, _ := procStat(h.main.pid())
	_, _, l1, _ := procStat(lk)
	stopRSS()
	m1 := h.main.metrics()
	r.loadHeap = m1["go_memstats_heap_inuse_bytes"] / (1 << 20)
	r.loadAnon, _ = anonMB(h.main.pid())
	r.hookP99 = 1000 * histogramQuantile(m0, m1, "parley_webhook_state_seconds", 0.99)
	r.parleyCPU, r.livekitCPU = 100*(p1-p0).Seconds()/secs, 100*(l1-l0).Seconds()/secs
	if len(peaks) > 0 {
		r.peakRSS = peaks[0]
	}
	time.Sleep(ctrlSettle)
	r.afterRSS, _ = rssMB(h.main.pid())
	r.afterAnon, _ = anonMB(h.main.pid())
	r.afterHeap = h.main.metrics()["go_memstats_heap_inuse_bytes"] / (1 << 20)
	return r
}

func (h *harness) reportCtrl(runs []ctrlRun, participants int) {
	const g = "control plane"
	if len(runs) == 0 {
		h.rep.na(g, "Parley CPU / LiveKit CPU", "%", "no run")
		return
	}
	col := func(f func(ctrlRun) float64) []float64 {
		var v []float64
		for _, r := range runs {
			v = append(v, f(r))
		}
		return v
	}
	failures, first := 0, ""
	for _, r := range runs {
		failures += len(r.failures)
		if first == "" && len(r.failures) > 0 {
			first = r.failures[0]
		}
	}
	note := ""
	if failures > 0 {
		note = fmt.Sprintf("; %d failures, first: %s", failures, short(first))
	}
	add := func(name, unit string, v []float64, n string) {
		f := stat(g, name, unit, v)
		f.Note = n
		h.rep.add(f)
	}
	add("Parley CPU", "% core", col(func(r ctrlRun) float64 { return r.parleyCPU }),
		fmt.Sprintf("%d x %d participants subscribed to each other, leave/rejoin every %s, %s each a run; bin/parley's own process, its signalling proxy included", ctrlRooms, ctrlPerRoom, ctrlCycle, ctrlFor))
	add("LiveKit CPU", "% core", col(func(r ctrlRun) float64 { return r.livekitCPU }), "its livekit-server child")
	add("Parley CPU / LiveKit CPU", "%", col(func(r ctrlRun) float64 { return 100 * r.parleyCPU / max(r.livekitCPU, 0.01) }), "target < 3 %, per run"+note)
	add("Parley RSS idle before the load", "MiB", col(func(r ctrlRun) float64 { return r.idleRSS }),
		fmt.Sprintf("after the registrations and the run before; anonymous %.1f MiB, Go heap in use %.1f MiB (first run)", runs[0].idleAnon, runs[0].idleHeap))
	add("Parley RSS during the load (peak)", "MiB", col(func(r ctrlRun) float64 { return r.peakRSS }),
		fmt.Sprintf("target < 80 MiB; at the end of the load anonymous %.1f MiB, Go heap in use %.1f MiB (first run)", runs[0].loadAnon, runs[0].loadHeap))
	add("Parley anonymous memory per participant", "KiB", col(func(r ctrlRun) float64 { return 1024 * (r.loadAnon - r.idleAnon) / float64(participants) }),
		"(RssAnon at the end of the load - before) / participants, in the meetings at once")
	add("Parley RSS after the meetings", "MiB", col(func(r ctrlRun) float64 { return r.afterRSS }),
		fmt.Sprintf("%s after the last leave; anonymous %.1f MiB (before the load %.1f), Go heap in use %.1f MiB (first run)",
			ctrlSettle, runs[0].afterAnon, runs[0].idleAnon, runs[0].afterHeap))
	add("webhook->state p99", "ms", col(func(r ctrlRun) float64 { return r.hookP99 }),
		"target < 50 ms; Parley's parley_webhook_state_seconds over each run: a webhook's arrival -> its change committed and published (bucket-interpolated)")
	for _, f := range []struct {
		name string
		v    func(ctrlRun) []float64
	}{{"join->state", func(r ctrlRun) []float64 { return r.joins }}, {"leave->state", func(r ctrlRun) []float64 { return r.leaves }}} {
		var p99s []float64
		n := 0
		for _, r := range runs {
			if v := f.v(r); len(v) > 0 {
				p99s = append(p99s, quantile(v, 0.99))
				n += len(v)
			}
		}
		if len(p99s) == 0 {
			h.rep.na(g, f.name+" p99", "ms", "none measured"+note)
			continue
		}
		extra := ""
		if f.name == "leave->state" {
			var c []float64
			for _, r := range runs {
				c = append(c, r.closes...)
			}
			if len(c) > 0 {
				extra = fmt.Sprintf("; the SDK's Close itself took p50 %.0f ms, p99 %.0f ms", quantile(c, 0.5), quantile(c, 0.99))
			}
		}
		add(f.name+" p99", "ms", p99s, fmt.Sprintf("p99 of each run (%d in all); from the SDK's call, so LiveKit's own handling and webhook queue are in it%s", n, extra))
	}
}

// ctrlParticipant runs ctrlFor / ctrlCycle cycles on its own schedule, which starts offset
// after start: join, mute the microphone a quarter cycle later, leave three quarters of a
// cycle after the join, join again at the next cycle. Each join and leave is timed until the
// room's event stream shows it. The schedules are spread over one cycle, so joins and leaves
// arrive evenly, as in the meetings of a busy server; the run is over when the last one ends.
func ctrlParticipant(ctx context.Context, a *api, bearer, room string, w *roomWatch, media lktest.Media, start time.Time, signalURL string,
	record func(*[]float64, time.Duration, error), joins, leaves, closes *[]float64) {
	until := func(t time.Time) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(t)):
			return true
		}
	}
	for k := range int(ctrlFor / ctrlCycle) {
		joinAt := start.Add(time.Duration(k) * ctrlCycle)
		if !until(joinAt) {
			return
		}
		j, err := a.join(ctx, bearer, room)
		if err != nil {
			record(joins, 0, fmt.Errorf("join: %w", err))
			continue
		}
		// Participants subscribe to each other's tracks, as in a meeting: LiveKit forwards
		// every publisher to the 4 others.
		url := j.URL
		if signalURL != "" {
			url = signalURL
		}
		pub, err := lktest.Publish(url, j.Token, media, lktest.PublishOptions{AudioName: "microphone", VideoName: "camera", Quiet: true,
			Connect: []lksdk.ConnectOption{lksdk.WithAutoSubscribe(true)}})
		if err != nil {
			record(joins, 0, fmt.Errorf("publish: %w", err))
			continue
		}
		t := time.Now()
		sid := pub.Room.LocalParticipant.SID()
		at, err := w.wait(ctx, "participant_joined", sid)
		record(joins, at.Sub(t), err)
		if until(joinAt.Add(ctrlCycle / 4)) {
			for _, tp := range pub.Room.LocalParticipant.TrackPublications() {
				if tp.Source() == livekit.TrackSource_MICROPHONE {
					if lt, ok := tp.(interface{ SetMuted(bool) }); ok {
						lt.SetMuted(true)
					}
				}
			}
		}
		until(joinAt.Add(ctrlCycle * 3 / 4))
		t = time.Now()
		pub.Close()
		record(closes, time.Since(t), nil)
		at, err = w.wait(context.WithoutCancel(ctx), "participant_left", sid)
		record(leaves, at.Sub(t), err)
	}
}

// histogramQuantile is the q-quantile of what a Prometheus histogram counted between two
// scrapes, interpolated linearly inside its bucket; 0 when it counted nothing.
func histogramQuantile(before, after map[string]float64, name string, q float64) float64 {
	type bucket struct{ le, n float64 }
	var bs []bucket
	prefix := name + `_bucket{le="`
	for k, v := range after {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		le, err := strconv.ParseFloat(strings.TrimSuffix(k[len(prefix):], `"}`), 64)
		if err != nil {
			le = math.Inf(1)
		}
		bs = append(bs, bucket{le, v - before[k]})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0
	}
	want := q * bs[len(bs)-1].n
	lo, below := 0.0, 0.0
	for _, b := range bs {
		if b.n >= want {
			if math.IsInf(b.le, 1) {
				return lo
			}
			return lo + (b.le-lo)*(want-below)/max(b.n-below, 1)
		}
		lo, below = b.le, b.n
	}
	return lo
}
