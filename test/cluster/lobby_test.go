package cluster

import (
	"fmt"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

// TestLobbyAcrossInstances: a guest waits through one instance while the moderator, in the
// meeting through the other, admits or denies; the waiting person's ticket stream on the
// first instance hears of it (the live relay over PostgreSQL) and hands over the join answer,
// which connects to LiveKit.
func TestLobbyAcrossInstances(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	portA, portB := testenv.FreePort(t), testenv.FreePort(t)
	lk := lktest.Start(t, lktest.Options{APIKey: lkKey, APISecret: lkSecret,
		WebhookURL: fmt.Sprintf("http://127.0.0.1:%d/api/livekit/webhook", portA)})
	env := parleyEnv(lk.WSURL, lk.HTTPURL)
	env["PARLEY_DATABASE_DRIVER"], env["PARLEY_DATABASE_DSN"] = "postgres", dsn
	a := startParley(t, "parley-a", portA, env)
	b := startParley(t, "parley-b", portB, env)
	admin, _ := a.login(t, adminEmail, adminPass)
	room := fmt.Sprintf("lobby-%d", time.Now().UnixNano())
	a.must(t, 201, "POST", "/api/rooms", admin, map[string]any{"name": room, "public": true, "allowGuests": true, "lobby": true})
	j := a.must(t, 200, "POST", "/api/rooms/"+room+"/join", admin, nil)
	host, err := lksdk.ConnectToRoomWithToken(lk.WSURL, j["token"].(string), lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("the moderator connects: %v", err)
	}
	t.Cleanup(host.Disconnect)

	// knock asks to join through p and follows the ticket there.
	knock := func(p *parley, name string) (string, <-chan sseEvent) {
		t.Helper()
		out := p.must(t, 202, "POST", "/api/rooms/"+room+"/join", "", map[string]any{"displayName": name})
		l := out["lobby"].(map[string]any)
		return l["id"].(string), p.subscribe(t, "/api/lobby/"+l["ticket"].(string)+"/events", "")
	}
	next := func(ch <-chan sseEvent, what string, ok func(map[string]any) bool) map[string]any {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ev, open := <-ch:
				if !open {
					t.Fatalf("%s: the ticket stream ended first", what)
				}
				if ok(ev.Data) {
					return ev.Data
				}
			case <-deadline:
				t.Fatalf("%s: not within 20 s", what)
			}
		}
	}

	id, stream := knock(b, "Visitor")
	next(stream, "B tells the guest a moderator is there", func(m map[string]any) bool { return m["moderatorPresent"] == true })
	a.must(t, 204, "POST", "/api/rooms/"+room+"/lobby/"+id+"/admit", admin, nil)
	st := next(stream, "admitted through A, heard on B", func(m map[string]any) bool { return m["status"] != "waiting" })
	if st["status"] != "admitted" {
		t.Fatalf("status %v", st)
	}
	jj := st["join"].(map[string]any)
	g, err := lksdk.ConnectToRoomWithToken(lk.WSURL, jj["token"].(string), lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("the admitted guest connects: %v", err)
	}
	t.Cleanup(g.Disconnect)

	id2, stream2 := knock(a, "Pest")
	b.must(t, 204, "POST", "/api/rooms/"+room+"/lobby/"+id2+"/deny", admin, nil)
	if st := next(stream2, "denied through B, heard on A", func(m map[string]any) bool { return m["status"] != "waiting" }); st["status"] != "denied" {
		t.Fatalf("status %v", st)
	}
}
