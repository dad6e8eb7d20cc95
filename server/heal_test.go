package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

const (
	healKey    = "healkey"
	healSecret = "heal-test-secret-0123456789-0123456789-abcd"
)

// liveKitRoom is the room as the running LiveKit has it, or nil.
func liveKitRoom(t *testing.T, lk *lksdk.RoomServiceClient, name string) *livekit.Room {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := lk.ListRooms(ctx, &livekit.ListRoomsRequest{Names: []string{name}})
	if err != nil || len(resp.GetRooms()) == 0 {
		return nil
	}
	return resp.GetRooms()[0]
}

// inLiveKitRoom reports whether identity is a participant of the LiveKit room now.
func inLiveKitRoom(lk *lksdk.RoomServiceClient, room, identity string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := lk.ListParticipants(ctx, &livekit.ListParticipantsRequest{Room: room})
	if err != nil {
		return false
	}
	for _, p := range resp.GetParticipants() {
		if p.GetIdentity() == identity {
			return true
		}
	}
	return false
}

// TestMeetingHealsAfterLiveKitKill: a meeting with a publishing participant and a running
// built-in recording; kill -9 of livekit-server. Parley re-creates the LiveKit room with the
// room's settings (max participants, empty timeout, metadata) and the recorder rejoins it,
// both before anyone calls the join API again; the meeting is not ended (no room_finished,
// the recording stays active). The participant rejoins with a fresh token from the join
// API, and the recording, stopped later, is complete with a gap where LiveKit was gone and
// the participant's tracks before and after it.
func TestMeetingHealsAfterLiveKitKill(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.SkipOrFail(t, "ffmpeg", err)
	}
	env := testEnv(t, "PARLEY_RECORDING_BACKEND=builtin", "PARLEY_RECORDING_KEEP_TRACKS=true",
		"PARLEY_LIVEKIT_API_KEY="+healKey, "PARLEY_LIVEKIT_API_SECRET="+healSecret)
	p := startParley(t, env)
	c := loginAdmin(t, p.addr)
	lk := lksdk.NewRoomServiceClient("http://127.0.0.1:"+envValue(env, "PARLEY_LIVEKIT_PORT"), healKey, healSecret)
	code, created := c.do("POST", "/api/rooms", map[string]any{"name": "standup", "title": "Daily standup", "maxParticipants": 7})
	if code != 201 {
		t.Fatalf("create room: %d %v", code, created)
	}
	code, join := c.do("POST", "/api/rooms/standup/join", map[string]any{})
	if code != 200 {
		t.Fatalf("join: %d %v", code, join)
	}
	media, err := lktest.SynthMedia(context.Background(), t.TempDir(), lktest.MediaSpec{Width: 320, Height: 240, FPS: 15, VideoKbps: 200, ToneHz: 440, Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	publish := func(url, token string) func() {
		pub, err := lktest.Publish(url, token, media, lktest.PublishOptions{AudioName: "MICROPHONE", VideoName: "CAMERA", Quiet: true})
		if err != nil {
			t.Fatalf("publisher: %v", err)
		}
		return pub.Close
	}
	stop := publish(join["url"].(string), join["token"].(string))
	id := startAPIRecording(t, c)
	before := liveKitRoom(t, lk, "standup")
	if before == nil {
		t.Fatal("LiveKit does not run the room")
	}
	time.Sleep(3 * time.Second) // some media before the outage

	if err := syscall.Kill(liveKitPID(t, p), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	stop() // this participant's connection died with LiveKit; it comes back through the join API
	var again *livekit.Room
	eventually(t, 20*time.Second, "the LiveKit room re-created by Parley", func() bool {
		again = liveKitRoom(t, lk, "standup")
		return again != nil
	})
	recreated := time.Since(killed)
	if again.GetSid() == before.GetSid() {
		t.Fatalf("LiveKit room sid unchanged (%s): LiveKit was not restarted", again.GetSid())
	}
	var md struct{ ID, Title string }
	_ = json.Unmarshal([]byte(again.GetMetadata()), &md)
	if again.GetMaxParticipants() != 0 || again.GetEmptyTimeout() != before.GetEmptyTimeout() || again.GetDepartureTimeout() != before.GetDepartureTimeout() ||
		md.Title != "Daily standup" || md.ID == "" || again.GetMetadata() != before.GetMetadata() {
		t.Errorf("re-created room = max %d, empty %d s, departure %d s, metadata %q; before: max %d, empty %d s, departure %d s, metadata %q",
			again.GetMaxParticipants(), again.GetEmptyTimeout(), again.GetDepartureTimeout(), again.GetMetadata(),
			before.GetMaxParticipants(), before.GetEmptyTimeout(), before.GetDepartureTimeout(), before.GetMetadata())
	}
	eventually(t, 20*time.Second, "the recorder back in the room", func() bool {
		return inLiveKitRoom(lk, "standup", "parley-recorder-"+id)
	})
	t.Logf("kill -9 to room re-created: %s; to recorder rejoined: %s",
		recreated.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

	code, join = c.do("POST", "/api/rooms/standup/join", map[string]any{})
	if code != 200 {
		t.Fatalf("join after the restart: %d %v", code, join)
	}
	stop = publish(join["url"].(string), join["token"].(string))
	defer stop()
	t.Logf("kill -9 to the participant joined again (fresh token): %s", time.Since(killed).Round(time.Millisecond))
	time.Sleep(4 * time.Second) // media after the outage
	if _, rec := c.do("GET", "/api/recordings/"+id, nil); rec["status"] != "active" {
		t.Fatalf("recording after the restart: %v, want still active", rec)
	}
	for _, line := range strings.Split(p.Output(), "\n") {
		if strings.Contains(line, "to=ending") || strings.Contains(line, "live state repaired") && strings.Contains(line, "room_finished:") {
			t.Fatalf("the outage ended the meeting or its recording: %s", line)
		}
	}
	if code, out := c.do("POST", "/api/recordings/"+id+"/stop", nil); code != 200 {
		t.Fatalf("stop: %d %v", code, out)
	}
	rec := waitRecording(t, c, id, "complete", 90*time.Second)
	t.Logf("recording: %v s, %v bytes", rec["durationSeconds"], rec["sizeBytes"])

	b, err := os.ReadFile(filepath.Join(envValue(env, "PARLEY_SERVER_DATA_DIR"), "recorder", id, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Gaps   []struct{ Start, End float64 }
		Tracks []struct {
			Kind       string
			Start, End float64
		}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Gaps) == 0 || m.Gaps[0].End <= m.Gaps[0].Start {
		t.Fatalf("manifest gaps %+v, want the outage", m.Gaps)
	}
	gap := m.Gaps[0]
	var videoBefore, videoAfter bool
	for _, tr := range m.Tracks {
		videoBefore = videoBefore || tr.Kind == "video" && tr.Start >= 0 && tr.Start < gap.Start
		videoAfter = videoAfter || tr.Kind == "video" && tr.Start >= gap.End
	}
	if !videoBefore || !videoAfter {
		t.Errorf("tracks %+v around the gap %+v: want video before and after it", m.Tracks, gap)
	}
	t.Logf("gap in the recording: %.2f s (from %.2f s to %.2f s)", gap.End-gap.Start, gap.Start, gap.End)
}
