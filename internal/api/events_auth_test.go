package api

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/room"
)

// streamEnv serves the real auth, room and live services over a real listener, since an
// event stream never ends by itself (app.Test waits for the end of the answer).
type streamEnv struct {
	base  string
	auth  *auth.Service
	rooms *room.Service
	live  *live.Service
}

func newStreamEnv(t *testing.T) *streamEnv {
	t.Helper()
	g := dbtest.SQLite(t, auth.Migrations(), room.Migrations(), live.Migrations())
	e := &streamEnv{auth: authtest.Service(t, g, nil)}
	var err error
	if e.live, err = live.New(live.Options{DB: g, APIKey: "k", APISecret: "secret-secret-secret-secret-secret-00",
		Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.live.CloseSubscribers)
	lk := &fakeLiveKit{participants: map[string]*livekit.ParticipantInfo{}}
	if e.rooms, err = room.New(room.Config{APIKey: "k", APISecret: "secret-secret-secret-secret-secret-00", URL: "ws://lk",
		TokenTTL: time.Minute, DepartureTimeout: 20 * time.Second}, g, lk, &fakeLive{joined: map[string][]string{}},
		slog.New(slog.DiscardHandler), time.Now); err != nil {
		t.Fatal(err)
	}
	d := testDeps()
	d.Auth, d.Rooms, d.Live = e.auth, e.rooms, e.live
	e.base = serveApp(t, d)
	return e
}

// open starts an event stream and returns its event names, in order, as they arrive; the
// channel closes when the stream ends.
func (e *streamEnv) open(t *testing.T, path, token string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.base+path+"?access_token="+token, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("open %s: %d", path, res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	if !sc.Scan() || !sc.Scan() || sc.Text() != ": connected" { // "retry: 3000", then the comment
		t.Fatalf("open %s: no connected comment (%q)", path, sc.Text())
	}
	names := make(chan string, 16)
	go func() {
		defer close(names)
		defer res.Body.Close()
		for sc.Scan() {
			if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				names <- name
			}
		}
	}()
	return names
}

// next is the stream's next event name, or "" once it has ended.
func next(t *testing.T, names <-chan string) string {
	t.Helper()
	select {
	case n := <-names:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no event and no end of stream within 10 s")
		return ""
	}
}

// TestEventStreamsRecheckTheirCaller: a stream stops at the first event after its caller
// lost the right to it (demoted, disabled, logged out everywhere, or its room deleted and
// its name re-created), and sends no event after that.
func TestEventStreamsRecheckTheirCaller(t *testing.T) {
	e := newStreamEnv(t)
	ctx := context.Background()
	authtest.User(t, e.auth, "root@example.com", true) // the last admin may not be demoted
	demoted := authtest.User(t, e.auth, "demoted@example.com", true)
	disabled := authtest.User(t, e.auth, "disabled@example.com", true)
	owner := authtest.User(t, e.auth, "owner@example.com", false)
	name := "standup"
	if _, err := e.rooms.Create(ctx, room.Caller{UserID: owner.User.ID}, room.Input{Name: &name}); err != nil {
		t.Fatal(err)
	}
	publish := func(typ string) {
		e.live.Publish(live.Event{Type: typ, Room: name, At: time.Now().UTC()})
	}
	role, yes := auth.RoleUser, true
	for _, tc := range []struct {
		name, path, token string
		lose              func() error
	}{
		{"admin demoted", "/api/admin/events", demoted.AccessToken, func() error {
			_, err := e.auth.UpdateUser(ctx, demoted.User.ID, auth.UserPatch{Role: &role})
			return err
		}},
		{"admin disabled", "/api/admin/events", disabled.AccessToken, func() error {
			_, err := e.auth.UpdateUser(ctx, disabled.User.ID, auth.UserPatch{Disabled: &yes})
			return err
		}},
		{"room deleted and re-created", "/api/rooms/standup/events", owner.AccessToken, func() error {
			if err := e.rooms.Delete(ctx, name, room.Caller{UserID: owner.User.ID}); err != nil {
				return err
			}
			_, err := e.rooms.Create(ctx, room.Caller{UserID: owner.User.ID}, room.Input{Name: &name})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names := e.open(t, tc.path, tc.token)
			publish(live.EventTrackMuted)
			if got := next(t, names); got != live.EventTrackMuted {
				t.Fatalf("first event: %q", got)
			}
			if err := tc.lose(); err != nil {
				t.Fatal(err)
			}
			publish(live.EventParticipantJoined)
			if got := next(t, names); got != "closed" {
				t.Fatalf("after losing the right: %q, want the stream closed", got)
			}
			if got := next(t, names); got != "" {
				t.Fatalf("after closed: %q, want the end of the stream", got)
			}
		})
	}
	// Logging out revokes the session's refresh token only; a password change revokes the
	// other sessions, and their streams stop too.
	second, err := e.auth.Login(ctx, "owner@example.com", authtest.Password, auth.Client{IP: "192.0.2.9"})
	if err != nil {
		t.Fatal(err)
	}
	names := e.open(t, "/api/rooms/standup/events", second.AccessToken)
	p, err := e.auth.Authenticate(ctx, owner.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.auth.ChangePassword(ctx, p, authtest.Password, "another horse battery"); err != nil {
		t.Fatal(err)
	}
	publish(live.EventParticipantJoined)
	if got := next(t, names); got != "closed" {
		t.Fatalf("after the session was revoked: %q, want the stream closed", got)
	}
}
