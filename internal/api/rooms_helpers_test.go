package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/room"
	"github.com/twitchtv/twirp"
)

// roomAuth stands in for the auth service: a bearer token is the user's id, "disabled"
// is a disabled account, "admin" an administrator.
type roomAuth struct{ AuthService }

func (roomAuth) Authenticate(_ context.Context, token string) (auth.Principal, error) {
	switch token {
	case "disabled":
		return auth.Principal{}, auth.ErrUserDisabled
	case "admin":
		return auth.Principal{UserID: "admin", Name: "Admin", Role: auth.RoleAdmin, SessionID: "s"}, nil
	}
	return auth.Principal{UserID: token, Name: "User " + token, Role: auth.RoleUser, SessionID: "s"}, nil
}

// Recheck keeps the principal as it was: these tokens never change.
func (roomAuth) Recheck(_ context.Context, p auth.Principal) (auth.Principal, error) { return p, nil }

// fakeLiveKit records calls; participants maps room/identity to what GetParticipant says.
type fakeLiveKit struct {
	mu           sync.Mutex
	creates      int
	down         bool
	participants map[string]*livekit.ParticipantInfo
	calls        []string
}

func (f *fakeLiveKit) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if f.down {
		return twirp.NewError(twirp.Unavailable, "livekit down")
	}
	return nil
}

func (f *fakeLiveKit) find(room, identity string) (*livekit.ParticipantInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.participants[room+"/"+identity]; ok {
		return p, nil
	}
	return nil, twirp.NotFoundError("participant not found")
}

func (f *fakeLiveKit) CreateRoom(_ context.Context, r *livekit.CreateRoomRequest) (*livekit.Room, error) {
	if err := f.record("create " + r.Name); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.creates++
	f.mu.Unlock()
	// A meeting in progress: Parley remembers only an occupied room as existing.
	return &livekit.Room{Name: r.Name, NumParticipants: 1}, nil
}
func (f *fakeLiveKit) DeleteRoom(_ context.Context, r *livekit.DeleteRoomRequest) (*livekit.DeleteRoomResponse, error) {
	return &livekit.DeleteRoomResponse{}, f.record("delete " + r.Room)
}
func (f *fakeLiveKit) GetParticipant(_ context.Context, r *livekit.RoomParticipantIdentity) (*livekit.ParticipantInfo, error) {
	if err := f.record("get " + r.Identity); err != nil {
		return nil, err
	}
	return f.find(r.Room, r.Identity)
}
func (f *fakeLiveKit) RemoveParticipant(_ context.Context, r *livekit.RoomParticipantIdentity) (*livekit.RemoveParticipantResponse, error) {
	if err := f.record("remove " + r.Identity); err != nil {
		return nil, err
	}
	_, err := f.find(r.Room, r.Identity)
	return &livekit.RemoveParticipantResponse{}, err
}
func (f *fakeLiveKit) MutePublishedTrack(_ context.Context, r *livekit.MuteRoomTrackRequest) (*livekit.MuteRoomTrackResponse, error) {
	return &livekit.MuteRoomTrackResponse{}, f.record("mute " + r.Identity + " " + r.TrackSid)
}
func (f *fakeLiveKit) UpdateParticipant(_ context.Context, r *livekit.UpdateParticipantRequest) (*livekit.ParticipantInfo, error) {
	if err := f.record("update " + r.Identity); err != nil {
		return nil, err
	}
	p, err := f.find(r.Room, r.Identity)
	if err != nil {
		return nil, err
	}
	return &livekit.ParticipantInfo{Identity: p.Identity, Name: p.Name, Metadata: p.Metadata, Permission: r.Permission, Tracks: p.Tracks}, nil
}

// fakeLive is the live state: joined users per room.
type fakeLive struct {
	mu     sync.Mutex
	joined map[string][]string
	ended  []string
	muted  map[string]bool // track sid -> muted, as recorded by moderation
}

func (f *fakeLive) SetTrackMuted(_ context.Context, _, trackSid string, muted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.muted == nil {
		f.muted = map[string]bool{}
	}
	f.muted[trackSid] = muted
	return nil
}

func (f *fakeLive) ActiveCount(_ context.Context, room string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.joined[room]), nil
}
func (f *fakeLive) IsParticipant(_ context.Context, room, userID string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.joined[room] {
		if u == userID {
			return true, nil
		}
	}
	return false, nil
}
func (f *fakeLive) MarkRoomEnded(_ context.Context, room string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, room)
	delete(f.joined, room)
	return nil
}

type roomEnv struct {
	t    *testing.T
	app  *fiber.App
	svc  *room.Service
	lk   *fakeLiveKit
	live *fakeLive
}

func newRoomEnv(t *testing.T) *roomEnv {
	t.Helper()
	g := dbtest.SQLite(t, room.Migrations())
	e := &roomEnv{t: t, lk: &fakeLiveKit{participants: map[string]*livekit.ParticipantInfo{}}, live: &fakeLive{joined: map[string][]string{}}}
	svc, err := room.New(room.Config{APIKey: "k", APISecret: "secret-secret-secret-secret-secret-00", URL: "ws://lk",
		TokenTTL: 10 * time.Minute, EmptyTimeout: 5 * time.Minute, DepartureTimeout: 20 * time.Second},
		g, e.lk, e.live, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	d := testDeps()
	d.Rooms = svc
	e.app = newTestApp(t, d)
	return e
}

type roomResp struct {
	status int
	body   map[string]any
	raw    string
}

func (r roomResp) errCode() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// call sends a request with token as bearer ("" for anonymous).
func (e *roomEnv) call(method, path string, body any, token string) roomResp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.app.Test(req, 10000)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := roomResp{status: res.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// seed creates a private room owned by "owner" with "mod" as moderator, "member" joined
// and "target" connected in LiveKit with a microphone track.
func (e *roomEnv) seed(name string, in room.Input) room.View {
	e.t.Helper()
	if in.Moderators == nil {
		in.Moderators = &[]string{"mod"}
	}
	in.Name = &name
	v, err := e.svc.Create(context.Background(), room.Caller{UserID: "owner"}, in)
	if err != nil {
		e.t.Fatalf("seed %s: %v", name, err)
	}
	e.live.mu.Lock()
	e.live.joined[name] = []string{"member", "target"}
	e.live.mu.Unlock()
	e.lk.mu.Lock()
	e.lk.participants[name+"/target"] = targetParticipant()
	e.lk.mu.Unlock()
	return v
}

// targetParticipant is "target" as LiveKit lists it: connected with a microphone track.
func targetParticipant() *livekit.ParticipantInfo {
	return &livekit.ParticipantInfo{Identity: "target", Name: "Target",
		Metadata: `{"role":"participant","userId":"target"}`, Permission: &livekit.ParticipantPermission{CanPublish: true, CanSubscribe: true},
		Tracks: []*livekit.TrackInfo{{Sid: "TR_mic", Source: livekit.TrackSource_MICROPHONE, Type: livekit.TrackType_AUDIO}}}
}
