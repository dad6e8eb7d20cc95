package live

import (
	"fmt"
	"sync/atomic"
	"time"
)

// webhookHealth notices when LiveKit's webhooks do not reach Parley: the reconciler keeps
// having to add or end participants while no signed webhook has arrived. That is the
// "stale participants after disconnect" and "participants never marked inactive" rows of
// LiveKit integration guides, explained in Parley's log instead of left to a wiki page.
type webhookHealth struct {
	lastWebhook atomic.Int64 // unix ms of the last verified webhook
	lastWarn    atomic.Int64 // unix ms of the last warning, to say it every 10 minutes at most
}

func (h *webhookHealth) seen(now time.Time) { h.lastWebhook.Store(now.UnixMilli()) }

// check returns a warning when participant repairs were needed and no webhook arrived
// within two reconcile intervals, or "" when all is well or the warning was given lately.
func (h *webhookHealth) check(repairs map[string]int, now time.Time, interval time.Duration) string {
	n := repairs[RepairParticipantAdded] + repairs[RepairParticipantLeft]
	if n == 0 {
		return ""
	}
	last := h.lastWebhook.Load()
	if last != 0 && now.Sub(time.UnixMilli(last)) < 2*interval {
		return ""
	}
	if w := h.lastWarn.Load(); w != 0 && now.Sub(time.UnixMilli(w)) < 10*time.Minute {
		return ""
	}
	h.lastWarn.Store(now.UnixMilli())
	since := "since Parley started"
	if last != 0 {
		since = "for " + now.Sub(time.UnixMilli(last)).Round(time.Second).String()
	}
	return fmt.Sprintf("LiveKit's webhooks are not reaching Parley: the reconciler repaired %d joins/leaves and no signed webhook arrived %s. "+
		"Point LiveKit's webhook.urls at <Parley's URL>/api/livekit/webhook with webhook.api_key set to livekit.apiKey, and check that "+
		"LiveKit can reach Parley's port (firewall, TLS). Until then the live state lags by up to one reconcile interval", n, since)
}
