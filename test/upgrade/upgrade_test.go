package upgrade

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
	"github.com/parley/parley/internal/testenv"
)

func TestUpgradeKeepsDataSQLite(t *testing.T) {
	requireBinaries(t)
	env := serviceEnv(t)
	upgradeKeepsData(t, env, "sqlite", filepath.Join(envValue(env, "PARLEY_SERVER_DATA_DIR"), "parley.db"))
}

func TestUpgradeKeepsDataPostgres(t *testing.T) {
	requireBinaries(t)
	dsn := dbtest.PostgresDSN(t)
	env := append(serviceEnv(t), "PARLEY_DATABASE_DRIVER=postgres", "PARLEY_DATABASE_DSN="+dsn)
	upgradeKeepsData(t, env, "postgres", dsn)
}

// serviceEnv is one installation's configuration, shared by the old and the new binary: a
// data folder, free ports, the built-in recorder. Secrets are left to Parley, which generates
// them into the data folder on the first start: the upgrade must keep them too.
func serviceEnv(t *testing.T) []string {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.SkipOrFail(t, "ffmpeg (the built-in recorder and the test's media)", err)
	}
	port := testenv.FreePort(t)
	udp := testenv.FreeUDPRange(t, 20)
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		fmt.Sprintf("PARLEY_SERVER_LISTEN=127.0.0.1:%d", port),
		fmt.Sprintf("PARLEY_SERVER_PUBLIC_URL=http://127.0.0.1:%d", port),
		"PARLEY_SERVER_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		fmt.Sprintf("PARLEY_LIVEKIT_PORT=%d", testenv.FreePort(t)),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_TCP_PORT=%d", testenv.FreePort(t)),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_UDP_PORT_START=%d", udp),
		fmt.Sprintf("PARLEY_LIVEKIT_RTC_UDP_PORT_END=%d", udp+19),
		"PARLEY_LIVEKIT_BINARY=" + testenv.LiveKitBinary(t),
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_EMAIL=admin@example.com",
		"PARLEY_AUTH_BOOTSTRAP_ADMIN_PASSWORD=admin-password-1234",
		"PARLEY_RECORDING_BACKEND=builtin",
		"PARLEY_LOG_LEVEL=warn",
	}
}

// before is what the old release left behind, to be found again after the upgrade.
type before struct {
	adminRefresh string // a session opened on the old release
	aliceID      string
	room         map[string]any
	recordingID  string
	recordingSum [32]byte
}

func upgradeKeepsData(t *testing.T, env []string, driver, dsn string) {
	old := testenv.StartParley(t, "old parley", oldBin, env)
	b := fill(t, old)
	stop(t, old)

	p := testenv.StartParley(t, "new parley", newBin, env)
	check(t, p, b)
	checkMigrations(t, driver, dsn)
	stop(t, p)
	refuseNewerSchema(t, env, driver, dsn)
}

// stop is `systemctl stop`; a Parley that needs SIGKILL would lose data on every upgrade.
func stop(t *testing.T, p *testenv.Parley) {
	if !p.Stop() {
		t.Errorf("%s did not exit within 20 s of SIGTERM", p.Name)
	}
}

// fill creates, on the old release: two users, a room with settings, a ban (a kick with ban
// of a connected participant) and a complete recording of a publishing participant.
func fill(t *testing.T, p *testenv.Parley) before {
	var b before
	admin := p.Must(t, 200, "POST", "/api/auth/login", "", map[string]any{"email": "admin@example.com", "password": "admin-password-1234"})
	b.adminRefresh = admin["refreshToken"].(string)
	alice := p.Must(t, 201, "POST", "/api/auth/register", "", map[string]any{"email": "alice@example.com", "password": "alice-password-1234", "name": "Alice"})
	b.aliceID = alice["user"].(map[string]any)["id"].(string)
	aliceTok := alice["accessToken"].(string)
	bob := p.Must(t, 201, "POST", "/api/auth/register", "", map[string]any{"email": "bob@example.com", "password": "bob-password-1234", "name": "Bob"})
	bobTok := bob["accessToken"].(string)

	b.room = p.Must(t, 201, "POST", "/api/rooms", aliceTok, map[string]any{"name": "standup", "title": "Daily standup", "public": true, "maxParticipants": 7})

	// Alice is in the meeting and publishing before Bob comes and goes, so the room never
	// stands empty: LiveKit closes an empty room after its departure timeout, and the media
	// is made before the join so the token is used at once.
	media, err := lktest.SynthMedia(context.Background(), t.TempDir(), lktest.MediaSpec{Seconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	join := p.Must(t, 200, "POST", "/api/rooms/standup/join", aliceTok, map[string]any{})
	pub, err := lktest.Publish(join["url"].(string), join["token"].(string), media, lktest.PublishOptions{AudioName: "MICROPHONE", VideoName: "CAMERA", Quiet: true})
	if err != nil {
		t.Fatalf("alice publishes: %v", err)
	}
	defer pub.Close()

	// Bob joins and is kicked with a ban; from then on he may not join.
	join = p.Must(t, 200, "POST", "/api/rooms/standup/join", bobTok, map[string]any{})
	bobRoom, err := lksdk.ConnectToRoomWithToken(join["url"].(string), join["token"].(string), lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("bob connects: %v", err)
	}
	defer bobRoom.Disconnect()
	p.Must(t, 204, "POST", "/api/rooms/standup/participants/"+join["identity"].(string)+"/kick", aliceTok, map[string]any{"ban": true, "reason": "upgrade test"})
	p.Must(t, 403, "POST", "/api/rooms/standup/join", bobTok, map[string]any{})

	// A recording of Alice's tracks completes.
	rec := p.Must(t, 201, "POST", "/api/rooms/standup/recordings", aliceTok, nil)
	b.recordingID = rec["id"].(string)
	waitRecording(t, p, aliceTok, b.recordingID, "active")
	time.Sleep(3 * time.Second) // some media to record: the length is not asserted
	p.Must(t, 200, "POST", "/api/recordings/"+b.recordingID+"/stop", aliceTok, nil)
	waitRecording(t, p, aliceTok, b.recordingID, "complete")
	b.recordingSum = sha256.Sum256(download(t, p, aliceTok, b.recordingID))
	return b
}

// check finds on the new binary everything fill left: the old session, both accounts with
// their passwords, the room and its settings, the ban, the recording and its bytes.
func check(t *testing.T, p *testenv.Parley, b before) {
	refreshed := p.Must(t, 200, "POST", "/api/auth/refresh", "", map[string]any{"refreshToken": b.adminRefresh})
	adminTok := refreshed["accessToken"].(string)
	alice := p.Must(t, 200, "POST", "/api/auth/login", "", map[string]any{"email": "alice@example.com", "password": "alice-password-1234"})
	if id := alice["user"].(map[string]any)["id"]; id != b.aliceID {
		t.Errorf("alice's id after the upgrade = %v, want %s", id, b.aliceID)
	}
	aliceTok := alice["accessToken"].(string)
	bob := p.Must(t, 200, "POST", "/api/auth/login", "", map[string]any{"email": "bob@example.com", "password": "bob-password-1234"})

	got := p.Must(t, 200, "GET", "/api/rooms/standup", aliceTok, nil)
	for _, k := range []string{"title", "ownerId", "public", "maxParticipants", "inviteCode"} {
		if fmt.Sprint(got[k]) != fmt.Sprint(b.room[k]) {
			t.Errorf("room %s after the upgrade = %v, want %v", k, got[k], b.room[k])
		}
	}
	// The creation answer has the clock's nanoseconds; PostgreSQL keeps microseconds.
	if g, w := instant(t, got["createdAt"]), instant(t, b.room["createdAt"]); !g.Equal(w.Truncate(time.Microsecond)) && !g.Equal(w) {
		t.Errorf("room createdAt after the upgrade = %s, want %s", g, w)
	}
	if body := p.Must(t, 403, "POST", "/api/rooms/standup/join", bob["accessToken"].(string), map[string]any{}); !strings.Contains(fmt.Sprint(body), "banned") {
		t.Errorf("bob's ban was lost: %v", body)
	}

	rec := p.Must(t, 200, "GET", "/api/recordings/"+b.recordingID, adminTok, nil)
	if rec["status"] != "complete" {
		t.Errorf("recording after the upgrade: %v", rec)
	}
	if sha256.Sum256(download(t, p, aliceTok, b.recordingID)) != b.recordingSum {
		t.Error("the recording's file changed across the upgrade")
	}
	// The new binary still does what the old one did on this data.
	p.Must(t, 201, "POST", "/api/rooms", aliceTok, map[string]any{"name": "after-upgrade"})
}

// knownMigrations is every migration id the new binary carries (server/app.go's list).
func knownMigrations() []string {
	var ids []string
	for _, set := range [][]db.Migration{auth.Migrations(), room.Migrations(), live.Migrations(), recording.Migrations()} {
		for _, m := range set {
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func checkMigrations(t *testing.T, driver, dsn string) {
	g, err := db.Open(driver, dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(g)
	var ids []string
	if err := g.Table("schema_migrations").Order("id").Pluck("id", &ids).Error; err != nil {
		t.Fatal(err)
	}
	if want := knownMigrations(); !slices.Equal(ids, want) {
		t.Errorf("schema_migrations after the upgrade = %v, want every migration of the new binary %v", ids, want)
	}
	t.Logf("%s: schema_migrations after the upgrade: %v", driver, ids)
}

// refuseNewerSchema: a database that a later Parley migrated (a row this binary does not
// know) is refused by `parley migrate` with the fix, and left as it was.
func refuseNewerSchema(t *testing.T, env []string, driver, dsn string) {
	g, err := db.Open(driver, dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(g)
	const future = "zz_9999_from_a_later_release"
	if err := g.Exec("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)", future, time.Now().UTC()).Error; err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(newBin, "migrate")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), future) || !strings.Contains(string(out), "newer Parley") {
		t.Errorf("parley migrate on a newer database: %v\n%s\nwant an error naming %s", err, out, future)
	}
	var n int64
	g.Table("schema_migrations").Count(&n)
	if want := int64(len(knownMigrations()) + 1); n != want {
		t.Errorf("the refused migrate changed schema_migrations: %d rows, want %d", n, want)
	}
}

func waitRecording(t *testing.T, p *testenv.Parley, token, id, status string) {
	t.Helper()
	testenv.Eventually(t, 90*time.Second, "recording "+id+" "+status, func() bool {
		rec := p.Must(t, 200, "GET", "/api/recordings/"+id, token, nil)
		if s := rec["status"]; s == "failed" || s == "aborted" {
			t.Fatalf("recording %s: %v", s, rec)
		}
		return rec["status"] == status
	})
}

func download(t *testing.T, p *testenv.Parley, token, id string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", p.URL+"/api/recordings/"+id+"/file", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || len(b) == 0 {
		t.Fatalf("download recording %s: %d, %d bytes, %v", id, resp.StatusCode, len(b), err)
	}
	return b
}

func instant(t *testing.T, v any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(v))
	if err != nil {
		t.Fatalf("a time in the API: %v", err)
	}
	return at
}
