package doctor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	lkp "github.com/livekit/protocol/livekit"
	"github.com/twitchtv/twirp"
)

const keyFix = "livekit.apiKey and livekit.apiSecret (PARLEY_LIVEKIT_API_KEY, PARLEY_LIVEKIT_API_SECRET) must be a pair of LiveKit's keys:"

// isAuthError: LiveKit refused the token (wrong key pair, or another LiveKit).
func isAuthError(err error) bool {
	var te twirp.Error
	return errors.As(err, &te) && (te.Code() == twirp.Unauthenticated || te.Code() == twirp.PermissionDenied)
}

// apiFailure explains a LiveKit API error: a refused key, no answer, or LiveKit's own.
func (d *doctor) apiFailure(err error, what string) Result {
	var te twirp.Error
	switch {
	case isAuthError(err):
		return fail(keyFix+" the keys section of LiveKit's YAML (external) or Parley's generated secrets (embedded)",
			"LiveKit rejected the API key %q on %s: %v", d.t.APIKey, what, err)
	case errors.As(err, &te) && te.Code() == twirp.Unavailable:
		return fail("check livekit.internalHost (PARLEY_LIVEKIT_INTERNAL_HOST): `curl "+d.t.LiveKitAPI+"/` from this host must print OK; is LiveKit running? (Parley's log)",
			"LiveKit's API at %s does not answer: %s", d.t.LiveKitAPI, te.Msg())
	}
	return fail("read Parley's and LiveKit's logs", "LiveKit's API at %s failed %s: %v", d.t.LiveKitAPI, what, err)
}

// checkLiveKitAPI lists rooms with the configured key, the call every admin page makes.
func (d *doctor) checkLiveKitAPI(ctx context.Context) Result {
	res, err := d.e.LiveKit.ListRooms(ctx, &lkp.ListRoomsRequest{})
	if err != nil {
		return d.apiFailure(err, "ListRooms")
	}
	return pass("LiveKit at %s accepts the API key %q (%d rooms open)", d.t.LiveKitAPI, d.t.APIKey, len(res.GetRooms()))
}

// checkWebhooks opens and closes a test room: LiveKit posts room_started for it, so a
// webhook recorded since then proves the whole path (LiveKit's webhook.urls, the network,
// Parley's verification with the API key) without waiting for a real meeting.
func (d *doctor) checkWebhooks(ctx context.Context) Result {
	if d.e.LastWebhook == nil {
		return warn("", "this Parley keeps no webhook log to check")
	}
	start := d.e.Now()
	last, err := d.e.LastWebhook(ctx)
	if err != nil {
		return fail("check database.driver and database.dsn", "cannot read the webhook log: %v", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "parley-doctor-" + hex.EncodeToString(b[:])
	if _, err := d.e.LiveKit.CreateRoom(ctx, &lkp.CreateRoomRequest{Name: name, EmptyTimeout: 10}); err != nil {
		r := d.apiFailure(err, "CreateRoom (the webhook test room)")
		r.Status = Warn
		return r
	}
	defer func() {
		// The room closes itself after its empty timeout should this fail.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = d.e.LiveKit.DeleteRoom(cctx, &lkp.DeleteRoomRequest{Room: name})
	}()
	wait := d.e.WebhookWait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		got, err := d.e.LastWebhook(ctx)
		if err == nil && !got.Before(start.Truncate(time.Millisecond)) {
			return pass("LiveKit's webhook for test room %s arrived after %s", name, got.Sub(start).Round(time.Millisecond))
		}
		select {
		case <-tick.C:
			continue
		case <-deadline.C:
		case <-ctx.Done():
		}
		since := "no webhook is in the log of the last hour"
		if !last.IsZero() {
			since = "the last one arrived " + start.Sub(last).Round(time.Second).String() + " ago"
		}
		fix := "point LiveKit's webhook.urls at <Parley's URL>/api/livekit/webhook with webhook.api_key set to livekit.apiKey, and let LiveKit reach Parley's port (firewall, TLS certificate)"
		if !d.t.External {
			fix = "Parley tells the embedded LiveKit where to post: read Parley's log for LiveKit's \"failed to send webhook\" lines (the address and the error)"
		}
		return fail(fix, "LiveKit's webhook for test room %s did not reach Parley within %s; %s", name, wait, since)
	}
}
