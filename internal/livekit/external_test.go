package livekit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	lkp "github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
	"github.com/twitchtv/twirp"
)

func externalOptions(srv *lktest.Server, logs *logBuf) Options {
	return Options{
		External: true, HTTPURL: srv.HTTPURL, PublicURL: srv.WSURL, APIKey: srv.APIKey, APISecret: srv.APISecret,
		ProbeInterval: 200 * time.Millisecond, StartTimeout: 3 * time.Second,
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	}
}

// TestExternalMode: ready against a separately started livekit-server, unreachable while it
// is stopped, ready again (with OnReady) when it returns.
func TestExternalMode(t *testing.T) {
	srv := lktest.Start(t, lktest.Options{})
	logs := &logBuf{}
	s, err := New(externalOptions(srv, logs))
	if err != nil {
		t.Fatal(err)
	}
	var readies atomic.Int32
	s.OnReady(func() { readies.Add(1) })
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v\n%s", err, logs)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	if c, ok := s.Check(context.Background()); !ok || c != "ok" {
		t.Fatalf("Check = %q, want ok", c)
	}
	if st := s.Status(); st.Mode != "external" || st.URL != srv.WSURL || st.PID != 0 {
		t.Errorf("status = %+v", st)
	}

	srv.Stop()
	waitFor(t, 5*time.Second, "unreachable while the server is stopped", func() bool { return s.Status().State == StateUnreachable })
	if c, ok := s.Check(context.Background()); ok || !strings.HasPrefix(c, "unreachable: ") {
		t.Errorf("Check while down = %q %v, want \"unreachable: ...\"", c, ok)
	}
	srv.StartAgain(t)
	waitFor(t, 5*time.Second, "ready again", func() bool { return s.Status().State == StateReady })
	waitFor(t, time.Second, "OnReady after the return", func() bool { return readies.Load() == 2 })
}

func TestExternalWrongSecretIsAClearError(t *testing.T) {
	srv := lktest.Start(t, lktest.Options{})
	o := externalOptions(srv, &logBuf{})
	o.APISecret = "wrong-secret-0123456789-0123456789-0123"
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	err = s.Start(context.Background())
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), `LiveKit rejected the API key "devkey"`) || strings.Contains(err.Error(), "twirp error") {
		t.Fatalf("Start err = %v, want a clear rejection", err)
	}
	if time.Since(t0) > time.Second {
		t.Errorf("rejection took %s: wrong credentials must fail at once", time.Since(t0))
	}
}

func TestExternalUnreachableAtStart(t *testing.T) {
	port := testenv.FreePort(t)
	s, err := New(Options{External: true, HTTPURL: fmt.Sprintf("http://127.0.0.1:%d", port), APIKey: "k", APISecret: "s", StartTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Start(context.Background())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "livekit.internalHost") {
		t.Fatalf("Start err = %v, want unreachable naming livekit.internalHost", err)
	}
	if c, _ := s.Check(context.Background()); !strings.HasPrefix(c, "unreachable: ") {
		t.Errorf("Check = %q", c)
	}
}

// TestClients: the RoomService client against a real server, twirp codes preserved, and an
// unreachable server reported as twirp.Unavailable within the call timeout.
func TestClients(t *testing.T) {
	srv := lktest.Start(t, lktest.Options{})
	rc := NewRoomClient(srv.HTTPURL, srv.APIKey, srv.APISecret, nil, 2*time.Second)
	ctx := context.Background()
	if _, err := rc.CreateRoom(ctx, &lkp.CreateRoomRequest{Name: "standup"}); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	list, err := rc.ListRooms(ctx, &lkp.ListRoomsRequest{})
	if err != nil || len(list.Rooms) != 1 || list.Rooms[0].Name != "standup" {
		t.Fatalf("ListRooms = %v, %v", list, err)
	}
	_, err = rc.GetParticipant(ctx, &lkp.RoomParticipantIdentity{Room: "standup", Identity: "nobody"})
	var te twirp.Error
	if !errors.As(err, &te) || te.Code() != twirp.NotFound {
		t.Errorf("GetParticipant(unknown) err = %v, want twirp.NotFound", err)
	}
	if _, err := rc.DeleteRoom(ctx, &lkp.DeleteRoomRequest{Room: "standup"}); err != nil {
		t.Errorf("DeleteRoom: %v", err)
	}
	ec := NewEgressClient(srv.HTTPURL, srv.APIKey, srv.APISecret, nil, 2*time.Second)
	if _, err := ec.ListEgress(ctx, &lkp.ListEgressRequest{}); errors.As(err, &te) && te.Code() == twirp.Unavailable {
		t.Errorf("ListEgress against a running server reported Unavailable: %v", err)
	}

	down := NewRoomClient(fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), "k", "s", nil, time.Second)
	t0 := time.Now()
	_, err = down.ListRooms(ctx, &lkp.ListRoomsRequest{})
	if !errors.As(err, &te) || te.Code() != twirp.Unavailable {
		t.Errorf("unreachable: err = %v, want twirp.Unavailable", err)
	}
	if time.Since(t0) > 2*time.Second {
		t.Errorf("unreachable call took %s", time.Since(t0))
	}
}

// TestExternalSelfSignedTLS: behind HTTPS with a self-signed certificate, LiveKit is refused
// with a hint unless skipTLSVerify is on.
func TestExternalSelfSignedTLS(t *testing.T) {
	srv := lktest.Start(t, lktest.Options{})
	target, _ := url.Parse(srv.HTTPURL)
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	defer front.Close()
	o := externalOptions(srv, &logBuf{})
	o.HTTPURL, o.StartTimeout = front.URL, 500*time.Millisecond
	s, _ := New(o)
	if err := s.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "livekit.skipTLSVerify") {
		t.Fatalf("self-signed without skipTLSVerify: err = %v, want the skipTLSVerify hint", err)
	}
	logs := &logBuf{}
	o.SkipTLSVerify, o.Log = true, slog.New(slog.NewTextHandler(logs, nil))
	s, _ = New(o)
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("with skipTLSVerify: %v", err)
	}
	defer s.Stop(context.Background())
	if !strings.Contains(logs.String(), "skipTLSVerify is ON") {
		t.Errorf("no loud warning about skipTLSVerify:\n%s", logs)
	}
	if _, err := s.RoomClient().CreateRoom(context.Background(), &lkp.CreateRoomRequest{Name: "tls"}); err != nil {
		t.Fatalf("RoomClient through TLS with skipTLSVerify: %v", err)
	}
	// The SDK's own signalling (what the built-in recorder uses) trusts it too.
	tok, _ := auth.NewAccessToken(o.APIKey, o.APISecret).SetIdentity("rec").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "tls"}).SetValidFor(time.Minute).ToJWT()
	r, err := lksdk.ConnectToRoomWithToken("wss"+strings.TrimPrefix(front.URL, "https"), tok, lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("SDK participant through wss with skipTLSVerify: %v", err)
	}
	r.Disconnect()
}
