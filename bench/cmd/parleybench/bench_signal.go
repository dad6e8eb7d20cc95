package main

import (
	"context"
	"fmt"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

const (
	roomSignal = "bench-signal"
	// signalConnects is how many participants connect through each path, one at a time.
	signalConnects = 20
	// signalHeld participants stay connected while Parley's CPU is sampled.
	signalHeld   = 16
	signalWindow = 10 * time.Second
)

// benchSignal compares LiveKit's signalling through Parley's proxy (its own origin, what the
// join answer names) with LiveKit's port directly. Real lksdk participants connect one at
// a time, alternating the two paths; the figure is the time until ConnectToRoomWithToken
// returns (signalling and ICE). Then signalHeld participants stay connected through each
// path in turn and Parley's CPU is sampled: the difference, per participant, is the proxy's
// cost (LiveKit's pings, quality and speaker updates flow through it).
func (h *harness) benchSignal(ctx context.Context) {
	const g = "signalling proxy"
	if h.roomsNA != "" {
		h.rep.na(g, "connect via Parley's port", "ms", h.roomsNA)
		return
	}
	// LiveKit creates no room on join (auto_create is off): the room exists on both sides,
	// and stays between the one-at-a-time connects.
	if err := newAPI(h.main.base).createRoom(ctx, h.admin.AccessToken, roomSignal); err != nil {
		h.rep.na(g, "connect via Parley's port", "ms", "create room: "+naReason(err))
		return
	}
	rs := lksdk.NewRoomServiceClient(fmt.Sprintf("http://127.0.0.1:%d", h.main.lkPort), h.sec.LKKey, h.sec.LKSecret)
	if _, err := rs.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: roomSignal, EmptyTimeout: 600}); err != nil {
		h.rep.na(g, "connect via Parley's port", "ms", "create LiveKit room: "+short(err.Error()))
		return
	}
	proxied, direct := "ws://"+h.main.addr, fmt.Sprintf("ws://127.0.0.1:%d", h.main.lkPort)
	paths := []struct{ name, url string }{{"via Parley's port", proxied}, {"direct to LiveKit", direct}}
	times := map[string][]float64{}
	var failures []string
	for i := 0; i < 2*signalConnects && ctx.Err() == nil; i++ {
		p := paths[i%2]
		t0 := time.Now()
		room, err := h.connectSignal(p.url, fmt.Sprintf("connect-%d", i))
		if err != nil {
			failures = append(failures, p.name+": "+short(err.Error()))
			continue
		}
		times[p.name] = append(times[p.name], ms(time.Since(t0)))
		room.Disconnect()
	}
	note := ""
	if len(failures) > 0 {
		note = fmt.Sprintf("; %d failures, first: %s", len(failures), failures[0])
	}
	for _, p := range paths {
		v := times[p.name]
		if len(v) == 0 {
			h.rep.na(g, "connect "+p.name, "ms", "no successful connect"+note)
			continue
		}
		p50 := stat(g, "connect "+p.name+" p50", "ms", v)
		p50.Note = fmt.Sprintf("%d connects, ConnectToRoomWithToken (signalling + ICE), alternating paths%s", len(v), note)
		h.rep.add(p50)
		p99 := stat(g, "connect "+p.name+" p99", "ms", v)
		p99.Median = quantile(v, 0.99)
		p99.Note = "p99 of the connects; min/max over them"
		h.rep.add(p99)
	}

	cpu := map[string]float64{}
	for _, p := range paths {
		v, err := h.heldCPU(ctx, p.url, p.name)
		if err != nil {
			h.rep.na(g, "Parley CPU per participant, proxy's share", "% of a core", short(err.Error()))
			return
		}
		cpu[p.name] = v
		f := stat(g, fmt.Sprintf("Parley CPU, %d participants %s", signalHeld, p.name), "% of a core", []float64{v})
		f.Note = fmt.Sprintf("idle participants held %s; /proc ticks: resolution %.2f%%", signalWindow, 100*0.01/signalWindow.Seconds())
		h.rep.add(f)
	}
	f := stat(g, "Parley CPU per participant, proxy's share", "% of a core",
		[]float64{(cpu[paths[0].name] - cpu[paths[1].name]) / signalHeld})
	f.Note = "the difference of the two lines above, divided by the participants"
	h.rep.add(f)
}

// heldCPU connects signalHeld participants to url, lets the joins settle and returns
// Parley's CPU over signalWindow while they stay connected.
func (h *harness) heldCPU(ctx context.Context, url, name string) (float64, error) {
	var rooms []*lksdk.Room
	defer func() {
		for _, r := range rooms {
			r.Disconnect()
		}
	}()
	for i := 0; i < signalHeld; i++ {
		r, err := h.connectSignal(url, fmt.Sprintf("held-%d", i))
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		rooms = append(rooms, r)
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(2 * time.Second): // webhooks of the joins and first updates
	}
	return cpuPercent(h.main.pid(), signalWindow), nil
}

// connectSignal joins roomSignal with a token of its own (the proxy is measured, not the
// join route; distinct identities so held participants coexist).
func (h *harness) connectSignal(url, identity string) (*lksdk.Room, error) {
	tok, err := auth.NewAccessToken(h.sec.LKKey, h.sec.LKSecret).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: roomSignal}).SetIdentity(identity).
		SetValidFor(time.Hour).ToJWT()
	if err != nil {
		return nil, err
	}
	return lksdk.ConnectToRoomWithToken(url, tok, &lksdk.RoomCallback{}, lksdk.WithAutoSubscribe(false))
}
