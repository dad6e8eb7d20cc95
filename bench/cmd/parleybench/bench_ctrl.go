package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
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
)

// benchCtrl: Parley's CPU beside LiveKit's under that load (Parley's includes answering the
// state polls of the timing, one every 5 ms while a join or leave is awaited), Parley's RSS and Go heap during
// it and after, and how long the live state takes to show each join and leave.
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
	for r := range ctrlRooms {
		if err := a.createRoom(ctx, h.admin.AccessToken, fmt.Sprintf("bench-ctrl-%d", r)); err != nil {
			fail("create room: " + naReason(err))
			return
		}
	}
	idleRSS := h.idleRSS // just ready: the registrations above leave argon2id garbage
	var (
		mu          sync.Mutex
		joins       []float64
		leaves      []float64
		failures    []string
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
			failures = append(failures, err.Error())
			return
		}
		*v = append(*v, ms(d))
	}
	runCtx, cancel := context.WithTimeout(ctx, ctrlFor)
	defer cancel()
	for i, bearer := range bearers {
		room := fmt.Sprintf("bench-ctrl-%d", i%ctrlRooms)
		offset := time.Duration(i) * ctrlCycle / time.Duration(len(bearers))
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ctrlParticipant(runCtx, a, bearer, room, media, offset, record, &joins, &leaves)
		}()
	}
	wg.Wait()
	secs := time.Since(t0).Seconds()
	_, _, p1, _ := procStat(h.main.pid())
	_, _, l1, _ := procStat(lk)
	stopRSS()
	heapLoad := h.main.metrics()["go_memstats_heap_inuse_bytes"] / (1 << 20)
	pc, lc := 100*(p1-p0).Seconds()/secs, 100*(l1-l0).Seconds()/secs
	note := ""
	if len(failures) > 0 {
		note = fmt.Sprintf("%d failures, first: %s", len(failures), short(failures[0]))
	}
	add := func(name, unit string, v float64, n string) {
		f := stat(g, name, unit, []float64{v})
		f.Note = n
		h.rep.add(f)
	}
	add("Parley CPU", "% core", pc, fmt.Sprintf("%d x %d participants, leave/rejoin every %s, %s", ctrlRooms, ctrlPerRoom, ctrlCycle, ctrlFor))
	add("LiveKit CPU", "% core", lc, "")
	if lc > 0 {
		add("Parley CPU / LiveKit CPU", "%", 100*pc/lc, "target < 3 %; "+note)
	}
	peak := 0.0
	if len(peaks) > 0 {
		peak = peaks[0]
	}
	add("Parley RSS during the load (peak)", "MiB", peak, fmt.Sprintf("Go heap in use at the end %.1f MiB; idle at start %.1f MiB", heapLoad, idleRSS))
	add("Parley RSS per participant", "MiB", (peak-idleRSS)/float64(len(bearers)), "(peak - idle at start) / participants; the peak also holds the registrations' argon2id garbage")
	time.Sleep(2 * time.Second) // the participants' last leaves reach the state
	if v, err := rssMB(h.main.pid()); err == nil {
		add("Parley RSS after the meetings", "MiB", v, fmt.Sprintf("Go heap in use %.1f MiB", h.main.metrics()["go_memstats_heap_inuse_bytes"]/(1<<20)))
	}
	for _, f := range []struct {
		name string
		v    []float64
	}{{"join->state", joins}, {"leave->state", leaves}} {
		if len(f.v) == 0 {
			h.rep.na(g, f.name+" p99", "ms", "none measured: "+note)
			continue
		}
		p99 := stat(g, f.name+" p99", "ms", f.v)
		p99.Median = quantile(f.v, 0.99)
		p99.Note = fmt.Sprintf("%d under the load, target < 50 ms; min/max over them", len(f.v))
		h.rep.add(p99)
	}
}

// ctrlParticipant joins after offset, then leaves and joins again every ctrlCycle until
// ctx ends, timing each join and leave until the live state shows it.
func (h *harness) ctrlParticipant(ctx context.Context, a *api, bearer, room string, media lktest.Media, offset time.Duration,
	record func(*[]float64, time.Duration, error), joins, leaves *[]float64) {
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	if !wait(offset) {
		return
	}
	for ctx.Err() == nil {
		j, err := a.join(ctx, bearer, room)
		if err != nil {
			record(joins, 0, fmt.Errorf("join: %w", err))
			wait(time.Second)
			continue
		}
		pub, err := lktest.Publish(j.URL, j.Token, media, lktest.PublishOptions{AudioName: "microphone", VideoName: "camera", Quiet: true})
		if err != nil {
			record(joins, 0, fmt.Errorf("publish: %w", err))
			wait(time.Second)
			continue
		}
		t := time.Now()
		_, err = waitState(ctx, a, h.admin.AccessToken, room, j.Identity, func(s string) bool { return s == "joined" })
		record(joins, time.Since(t), err)
		if wait(ctrlCycle / 4) {
			for _, tp := range pub.Room.LocalParticipant.TrackPublications() {
				if tp.Source() == livekit.TrackSource_MICROPHONE {
					if lt, ok := tp.(interface{ SetMuted(bool) }); ok {
						lt.SetMuted(true)
					}
				}
			}
		}
		wait(ctrlCycle * 3 / 4)
		t = time.Now()
		pub.Close()
		_, err = waitState(context.WithoutCancel(ctx), a, h.admin.AccessToken, room, j.Identity, func(s string) bool { return s == "left" || s == "" })
		record(leaves, time.Since(t), err)
	}
}
