package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/bench/load"
	"google.golang.org/protobuf/encoding/protojson"
)

const webhookSenders = 16

// webhookEvents signs n participant_joined/participant_left events (in pairs per
// participant) exactly as LiveKit does: protojson body, JWT with the body's sha256, signed
// with the API key and secret. Every event has its own id so none is a duplicate.
func webhookEvents(key, secret, room, tag string, n int) ([]load.Request, error) {
	reqs := make([]load.Request, n)
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	errs := make([]error, workers)
	now := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				p := i / 2
				ev := &livekit.WebhookEvent{
					Event: "participant_joined", Id: fmt.Sprintf("EV_%s_%d", tag, i), CreatedAt: now.Unix(),
					Room: &livekit.Room{Sid: "RM_" + tag, Name: room, CreationTime: now.Unix()},
					Participant: &livekit.ParticipantInfo{Sid: fmt.Sprintf("PA_%s_%d", tag, p),
						Identity: fmt.Sprintf("hook-%s-%d", tag, p), Name: "Hook", State: livekit.ParticipantInfo_ACTIVE,
						JoinedAt: now.Unix()},
				}
				if i%2 == 1 {
					ev.Event = "participant_left"
					ev.Participant.State = livekit.ParticipantInfo_DISCONNECTED
				}
				body, err := protojson.Marshal(ev)
				if err != nil {
					errs[w] = err
					return
				}
				sum := sha256.Sum256(body)
				tok, err := auth.NewAccessToken(key, secret).SetValidFor(30 * time.Minute).
					SetSha256(base64.StdEncoding.EncodeToString(sum[:])).ToJWT()
				if err != nil {
					errs[w] = err
					return
				}
				reqs[i] = load.Request{Method: "POST", Path: "/api/livekit/webhook", Body: body,
					Header: [][2]string{{"Content-Type", "application/webhook+json"}, {"Authorization", tok}}}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return reqs, nil
}

// benchWebhook: 16 senders post signed events to the reference webhook server, then to
// Parley. Parley's events are unique (sized from the ceiling run, never reused), so each is
// really ingested.
func (h *harness) benchWebhook(ctx context.Context) {
	const g = "webhook"
	name := "webhook ingestion" + h.suffix
	pre, err := webhookEvents(h.sec.LKKey, h.sec.LKSecret, roomHooks, "probe", 2)
	if err != nil {
		h.rep.na(g, name, "events/s", err.Error())
		return
	}
	for _, r := range pre {
		if code, body := post(h.main.base+r.Path, r); code != 200 {
			h.rep.na(g, name, "events/s", "probe event: "+naReason(&apiError{Status: code, Body: body}))
			return
		}
	}
	refAddr, stopRef, err := h.startRef(ctx, "webhook")
	if err != nil {
		h.rep.na(g, name, "events/s", err.Error())
		return
	}
	defer stopRef()
	pool, err := webhookEvents(h.sec.LKKey, h.sec.LKSecret, roomHooks, "ceiling", 20000)
	if err != nil {
		h.rep.na(g, name, "events/s", err.Error())
		return
	}
	window := (h.warmup + h.duration).Seconds()
	var lastCeiling float64
	var exhausted int
	ceil, got, err := h.loadRuns(ctx, profileName("webhook"+h.suffix),
		func(int) (load.Result, error) {
			r, err := load.Run(ctx, h.opts([]string{refAddr}, webhookSenders, pool, true))
			lastCeiling = r.RPS
			return r, err
		},
		func(i int) (load.Result, error) {
			// Parley cannot beat its ceiling by much; 1.5x of it is enough unique events.
			n := int(lastCeiling*window*1.5) + 2000
			evs, err := webhookEvents(h.sec.LKKey, h.sec.LKSecret, roomHooks, fmt.Sprintf("r%d%s", i, randHex(3)), n)
			if err != nil {
				return load.Result{}, err
			}
			r, err := load.Run(ctx, h.opts([]string{h.main.addr}, webhookSenders, evs, false))
			if r.Exhausted {
				exhausted++
			}
			return r, err
		})
	if err != nil {
		h.rep.na(g, name, "events/s", err.Error())
		return
	}
	h.throughputFigures(g, name, ceil, got, true)
	if exhausted > 0 {
		h.rep.Figures[len(h.rep.Figures)-1].Note += fmt.Sprintf("; %d runs ran out of prepared events early", exhausted)
	}
	for i := range h.rep.Figures {
		if h.rep.Figures[i].Group == g && h.rep.Figures[i].Unit == "req/s" {
			h.rep.Figures[i].Unit = "events/s"
		}
	}
}
