package api

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/auth/authtest"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/recording"
	"github.com/parley/parley/internal/room"
)

// Services that accept everything, so a test sees only what the limits refuse.
type (
	okRooms      struct{ fakeRooms }
	okRecordings struct{ fakeRecordings }
	okAuth       struct{ roomAuth }
	// okLive's streams all read one channel: closing it ends every stream.
	okLive struct {
		fakeLiveState
		events chan live.Event
	}
)

func (okRooms) Create(context.Context, room.Caller, room.Input) (room.View, error) {
	return room.View{Room: room.Room{Name: "r"}}, nil
}
func (okRooms) Join(_ context.Context, name string, _ room.Caller, _ room.JoinRequest) (room.Grant, error) {
	return room.Grant{Token: "t", Room: room.View{Room: room.Room{Name: name}}}, nil
}
func (okRooms) Access(context.Context, string, room.Caller) (room.Access, error) {
	return room.Access{Moderator: true}, nil
}
func (okRecordings) Start(_ context.Context, _ recording.Caller, name string) (recording.Recording, error) {
	return recording.Recording{ID: "rec", Room: name}, nil
}
func (okAuth) Register(context.Context, auth.Registration, auth.Client) (auth.Grant, error) {
	return auth.Grant{User: auth.User{EmailVerified: true}}, nil // as without smtp.host: no mail to send
}
func (l okLive) Subscribe(int) (<-chan live.Event, func()) { return l.events, func() {} }

// serveApp runs the app on a real loopback listener: the peer address of every request
// is 127.0.0.1, as a reverse proxy on the same machine would be.
func serveApp(t *testing.T, d Deps) string {
	t.Helper()
	app := newTestApp(t, d)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(time.Second) })
	return "http://" + ln.Addr().String()
}

func limitDeps(l Limits, proxies ...string) Deps {
	d := testDeps()
	d.Auth, d.Rooms, d.Recordings, d.Live = okAuth{}, okRooms{}, okRecordings{}, okLive{events: make(chan live.Event)}
	d.HTTP.Limits, d.HTTP.TrustedProxies = l, proxies
	return d
}

// hit sends one request; forwardedFor and token are left out when empty.
func hit(t *testing.T, method, url, forwardedFor, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func status(t *testing.T, method, url, forwardedFor, token string) int {
	t.Helper()
	res := hit(t, method, url, forwardedFor, token)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode == 429 {
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("429 without a Retry-After in seconds: %q", res.Header.Get("Retry-After"))
		}
	}
	return res.StatusCode
}

// wantStatuses sends n requests and checks each status in turn.
func wantStatuses(t *testing.T, what string, send func(i int) int, want ...int) {
	t.Helper()
	for i, w := range want {
		if got := send(i); got != w {
			t.Fatalf("%s, request %d: got %d, want %d", what, i+1, got, w)
		}
	}
}

func TestGuestJoinsLimitedPerAddressNotLoggedInJoins(t *testing.T) {
	base := serveApp(t, limitDeps(Limits{GuestJoins: 3}, "127.0.0.1"))
	join := base + "/api/rooms/standup/join"
	wantStatuses(t, "guest", func(int) int { return status(t, "POST", join, "198.51.100.1", "") }, 200, 200, 200, 429)
	wantStatuses(t, "guest from another address", func(int) int { return status(t, "POST", join, "198.51.100.2", "") }, 200)
	wantStatuses(t, "logged-in user from the limited address", func(int) int {
		return status(t, "POST", join, "198.51.100.1", "alice")
	}, 200, 200, 200, 200, 200)
}

// A client behind the trusted proxy cannot escape its bucket by sending its own
// X-Forwarded-For prefix: the proxy appends the real address on the right.
func TestForwardedForPrefixesDoNotEscapeLimits(t *testing.T) {
	base := serveApp(t, limitDeps(Limits{Registrations: 2}, "127.0.0.1", "10.0.0.0/8"))
	reg := base + "/api/auth/register"
	wantStatuses(t, "changing prefixes", func(i int) int {
		return status(t, "POST", reg, "203.0.113."+strconv.Itoa(i)+", 192.0.2.7, 10.1.2.3", "")
	}, 201, 201, 429, 429, 429)
	// The proxies' own addresses are skipped: the client is 192.0.2.8 here.
	wantStatuses(t, "another client", func(int) int { return status(t, "POST", reg, "192.0.2.8, 10.9.9.9", "") }, 201)
}

// An untrusted peer's X-Forwarded-For is ignored: it is the client, whatever it claims.
func TestForwardedForFromUntrustedPeerIgnored(t *testing.T) {
	base := serveApp(t, limitDeps(Limits{Registrations: 2}, "10.0.0.1"))
	reg := base + "/api/auth/register"
	wantStatuses(t, "spoofed", func(i int) int { return status(t, "POST", reg, "203.0.113."+strconv.Itoa(i), "") },
		201, 201, 429)
}

func TestRoomCreationsLimitedPerUserAndAddress(t *testing.T) {
	base := serveApp(t, limitDeps(Limits{RoomCreations: 2}, "127.0.0.1"))
	rooms := base + "/api/rooms"
	wantStatuses(t, "alice", func(int) int { return status(t, "POST", rooms, "198.51.100.1", "alice") }, 201, 201, 429)
	wantStatuses(t, "alice from elsewhere", func(int) int { return status(t, "POST", rooms, "198.51.100.9", "alice") }, 429)
	wantStatuses(t, "bob from alice's address", func(int) int { return status(t, "POST", rooms, "198.51.100.1", "bob") }, 429)
	wantStatuses(t, "bob elsewhere", func(int) int { return status(t, "POST", rooms, "198.51.100.2", "bob") }, 201)
}

func TestRecordingStartsLimited(t *testing.T) {
	base := serveApp(t, limitDeps(Limits{RecordingStarts: 1}))
	wantStatuses(t, "starts", func(int) int { return status(t, "POST", base+"/api/rooms/standup/recordings", "", "alice") }, 201, 429)
}

// openStream opens an event stream and reads its first line, so the slot is held.
func openStream(t *testing.T, url, token string) (*http.Response, int) {
	t.Helper()
	res := hit(t, "GET", url+"?access_token="+token, "", "")
	if res.StatusCode != 200 {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return nil, res.StatusCode
	}
	if _, err := bufio.NewReader(res.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	return res, 200
}

func TestOpenEventStreamsLimited(t *testing.T) {
	d := limitDeps(Limits{EventStreams: 2})
	base := serveApp(t, d)
	room, admin := base+"/api/rooms/standup/events", base+"/api/admin/events"
	first, _ := openStream(t, room, "alice")
	second, _ := openStream(t, admin, "admin") // another user, the same address
	if _, code := openStream(t, room, "carol"); code != 429 {
		t.Fatalf("third stream from one address: %d, want 429", code)
	}
	defer first.Body.Close()
	defer second.Body.Close()
	// Ending the streams (the bus drops them) frees their slots.
	close(d.Live.(okLive).events)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, code := openStream(t, room, "carol")
		if code == 200 {
			res.Body.Close()
			break
		}
		if code != 429 || time.Now().After(deadline) {
			t.Fatalf("after closing a stream: %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A refused stream (not a moderator: a 401 here) takes no slot.
	for range 5 {
		if _, code := openStream(t, room, ""); code != 401 {
			t.Fatalf("anonymous stream: %d", code)
		}
	}
}

// The reproduction of the review: 25 wrong logins behind the proxy, each with another
// X-Forwarded-For prefix, must meet a 429 (auth.loginRate is 10 a minute by default).
func TestWrongLoginsWithChangingPrefixesMeet429(t *testing.T) {
	d := testDeps()
	d.Auth = authtest.Service(t, dbtest.SQLite(t, auth.Migrations()), time.Now)
	d.HTTP.TrustedProxies = []string{"127.0.0.1"}
	base := serveApp(t, d)
	for i := range 25 {
		req, _ := http.NewRequest("POST", base+"/api/auth/login", strings.NewReader(`{"email":"a@example.com","password":"wrong-password"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", "203.0.113."+strconv.Itoa(i)+", 192.0.2.7")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == 429 {
			return
		}
		if res.StatusCode != 401 {
			t.Fatalf("login %d: %d", i+1, res.StatusCode)
		}
	}
	t.Fatal("25 wrong logins with changing prefixes never met a 429")
}
