package main

import (
	"os/exec"
	"testing"
	"time"

	"github.com/parley/parley/internal/testenv"
)

// TestScheduledAutoRecord: a schedule with autoRecord whose occurrence is under way starts
// the built-in recorder once a real participant publishes in its room (nobody presses
// record), and the recording stops and completes when the occurrence is over (its end
// moved into the past here, as the clock would), while the participant stays.
func TestScheduledAutoRecord(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.SkipOrFail(t, "ffmpeg", err)
	}
	p := startParley(t, testEnv(t, "PARLEY_RECORDING_BACKEND=builtin"))
	c := loginAdmin(t, p.addr)
	if code, out := c.do("POST", "/api/rooms", map[string]any{"name": "planned"}); code != 201 {
		t.Fatalf("create room: %d %v", code, out)
	}
	began := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	local := func(t time.Time) string { return t.Format("2006-01-02T15:04") }
	code, sc := c.do("POST", "/api/rooms/planned/schedules", map[string]any{"start": local(began), "end": local(began.Add(time.Hour)),
		"timeZone": "UTC", "autoRecord": true})
	if code != 201 || sc["autoRecord"] != true {
		t.Fatalf("schedule: %d %v", code, sc)
	}
	code, join := c.do("POST", "/api/rooms/planned/join", map[string]any{})
	if code != 200 {
		t.Fatalf("join: %d %v", code, join)
	}
	stop := publishSynthetic(t, join["url"].(string), join["token"].(string))
	defer stop()

	var id string
	eventually(t, 30*time.Second, "a recording started by the schedule", func() bool {
		for _, r := range c.recordings("planned") {
			if r["startedBy"] == "schedule" && r["status"] == "active" {
				id = r["id"].(string)
				return true
			}
		}
		return false
	})
	waitRecording(t, c, id, "active", 20*time.Second)

	// The occurrence is over: the recording it started stops and completes.
	code, out := c.do("PATCH", "/api/rooms/planned/schedules/"+sc["id"].(string), map[string]any{
		"start": local(began.Add(-2 * time.Minute)), "end": local(began.Add(-time.Minute))})
	if code != 200 {
		t.Fatalf("patch: %d %v", code, out)
	}
	rec := waitRecording(t, c, id, "complete", 90*time.Second)
	if d, _ := rec["durationSeconds"].(float64); d <= 0 {
		t.Errorf("the scheduled recording has no duration: %v", rec)
	}
	for _, r := range c.recordings("planned") {
		if r["status"] == "active" || r["status"] == "starting" {
			t.Fatalf("a recording runs after the occurrence ended: %v", r)
		}
	}
}
