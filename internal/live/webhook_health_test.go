package live

import (
	"strings"
	"testing"
	"time"
)

func TestWebhookHealthWarnsWhenRepairsReplaceWebhooks(t *testing.T) {
	var h webhookHealth
	t0 := time.Unix(1_800_000_000, 0)
	iv := 10 * time.Second
	if msg := h.check(map[string]int{RepairTrackMuted: 3}, t0, iv); msg != "" {
		t.Errorf("mute repairs are expected (LiveKit sends no mute webhook), got %q", msg)
	}
	msg := h.check(map[string]int{RepairParticipantAdded: 2}, t0, iv)
	if !strings.Contains(msg, "webhooks are not reaching Parley") || !strings.Contains(msg, "webhook.urls") || !strings.Contains(msg, "since Parley started") {
		t.Errorf("warning = %q", msg)
	}
	if again := h.check(map[string]int{RepairParticipantLeft: 1}, t0.Add(time.Minute), iv); again != "" {
		t.Errorf("warned twice within 10 minutes: %q", again)
	}
	h.seen(t0.Add(11 * time.Minute))
	if msg := h.check(map[string]int{RepairParticipantLeft: 1}, t0.Add(11*time.Minute+5*time.Second), iv); msg != "" {
		t.Errorf("webhooks arrive (a lost one is normal), got %q", msg)
	}
	if msg := h.check(map[string]int{RepairParticipantLeft: 1}, t0.Add(20*time.Minute), iv); !strings.Contains(msg, "no signed webhook arrived for 9m") {
		t.Errorf("warning after webhooks stopped = %q", msg)
	}
}
