package api

import (
	"fmt"
	"strings"
	"testing"
)

// TestAuthorizationMatrix sends every route of docs/API.md as every kind of caller, each cell
// against its own freshly seeded private room, and checks the status (and that a refusal
// carries an error code). The columns are: anonymous; a guest (a browser holding the guest
// cookie of an earlier guest join elsewhere); a user with no role in the room; a
// participant connected to it; its moderator; its owner; an administrator; a disabled
// account (its session revoked with it); and a user who re-created the room's name after
// the owner deleted the room, acting on the old room's recording.
func TestAuthorizationMatrix(t *testing.T) {
	const (
		ok, created, none = 200, 201, 204
		unauth, forbid    = 401, 403
		notFound          = 404
		// A disabled account is refused by authentication itself, whatever the route.
		off = 403
	)
	type route struct {
		method, path string // {r} room, {rec} recording, {mod} the moderator's user id, {u} the plain user's id
		rec          string // the recording the cell needs: "", "active", "failed", "complete"
		body         any
		want         [len(callers)]int
	}
	// anonymous, guest, user, participant, moderator, owner, admin, disabled, recreator
	var (
		everyone   = [9]int{ok, ok, ok, ok, ok, ok, ok, ok, ok}
		signedIn   = [9]int{unauth, unauth, ok, ok, ok, ok, ok, off, ok}
		moderators = [9]int{unauth, unauth, forbid, forbid, ok, ok, ok, off, ok}
		modsNone   = [9]int{unauth, unauth, forbid, forbid, none, none, none, off, none}
		ownerNone  = [9]int{unauth, unauth, forbid, forbid, forbid, none, none, off, none}
		admins     = [9]int{unauth, unauth, forbid, forbid, forbid, forbid, ok, off, forbid}
		// Moderators' routes on something the cell does not have (no such ticket, no split).
		modsNotFound = [9]int{unauth, unauth, forbid, forbid, notFound, notFound, notFound, off, notFound}
		// The old room's recording: the recreator owns the name, not the recording.
		oldRecording = [9]int{unauth, unauth, forbid, forbid, ok, ok, ok, off, forbid}
	)
	routes := []route{
		{"GET", "/healthz", "", nil, everyone},
		{"GET", "/readyz", "", nil, everyone},
		// Not loopback and no metrics token configured: nobody reads /metrics here.
		{"GET", "/metrics", "", nil, [9]int{forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid, forbid}},

		{"POST", "/api/auth/register", "", map[string]any{"email": "{r}@example.com", "password": "a-long-password-123", "name": "N"},
			[9]int{created, created, created, created, created, created, created, created, created}},
		{"POST", "/api/auth/login", "", map[string]any{"email": "owner@example.com", "password": "wrong-password-123"},
			[9]int{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}},
		{"POST", "/api/auth/refresh", "", map[string]any{"refreshToken": "not-a-token"}, [9]int{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}},
		{"POST", "/api/auth/logout", "", map[string]any{"refreshToken": "not-a-token"}, [9]int{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}},
		{"GET", "/api/auth/me", "", nil, signedIn},
		{"PATCH", "/api/auth/me", "", map[string]any{"name": "  Matrix Caller  "}, signedIn},
		{"PUT", "/api/auth/password", "", map[string]any{"currentPassword": "not-it-at-all", "newPassword": "another-long-one-123"},
			[9]int{unauth, unauth, forbid, forbid, forbid, forbid, forbid, off, forbid}},

		{"GET", "/api/auth/providers", "", nil, everyone},
		{"GET", "/api/auth/oidc/logout", "", nil, signedIn},
		{"GET", "/api/auth/oidc/{r}/login", "", nil, [9]int{notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound}},
		{"GET", "/api/auth/oidc/{r}/callback", "", nil, [9]int{notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound}},
		{"POST", "/api/auth/oidc/exchange", "", map[string]any{"code": "not-a-code"}, [9]int{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}},
		// Passkeys (passkeys.go): a person's own; the ceremonies here are unknown or unanswered.
		{"GET", "/api/auth/passkeys", "", nil, signedIn},
		{"POST", "/api/auth/passkeys/register/begin", "", nil, signedIn},
		{"POST", "/api/auth/passkeys/register/finish", "", map[string]any{"ceremony": "not-a-ceremony", "credential": map[string]any{}},
			[9]int{unauth, unauth, 400, 400, 400, 400, 400, off, 400}},
		{"DELETE", "/api/auth/passkeys/target", "", nil, [9]int{unauth, unauth, notFound, notFound, notFound, notFound, notFound, off, notFound}},
		{"POST", "/api/auth/passkeys/login/begin", "", nil, everyone},
		{"POST", "/api/auth/passkeys/login/finish", "", map[string]any{"ceremony": "not-a-ceremony", "credential": map[string]any{}},
			[9]int{400, 400, 400, 400, 400, 400, 400, 400, 400}},
		// No smtp.host in this env: the forgot form is refused for every caller alike.
		{"POST", "/api/auth/password/forgot", "", map[string]any{"email": "nobody@example.com"}, [9]int{503, 503, 503, 503, 503, 503, 503, 503, 503}},
		{"POST", "/api/auth/email/verify", "", map[string]any{"token": "not-a-token"}, [9]int{400, 400, 400, 400, 400, 400, 400, 400, 400}},
		// No smtp.host here: a resend is refused as the forgot form is.
		{"POST", "/api/auth/email/resend", "", nil, [9]int{unauth, unauth, 503, 503, 503, 503, 503, off, 503}},
		{"POST", "/api/auth/password/reset", "", map[string]any{"token": "not-a-token", "newPassword": "another-long-one-123"}, [9]int{400, 400, 400, 400, 400, 400, 400, 400, 400}},
		{"POST", "/api/admin/users/invite", "", map[string]any{"email": "new-{r}@example.com", "name": "New"},
			// no smtp.host here: an admin is told the server sends no mail
			[9]int{unauth, unauth, forbid, forbid, forbid, forbid, 503, off, forbid}},

		{"POST", "/api/rooms", "", map[string]any{"title": "New"}, [9]int{unauth, unauth, created, created, created, created, created, off, created}},
		{"GET", "/api/rooms", "", nil, signedIn},
		{"GET", "/api/rooms/{r}", "", nil, signedIn},
		{"PATCH", "/api/rooms/{r}", "", map[string]any{"locked": true}, [9]int{unauth, unauth, forbid, forbid, forbid, ok, ok, off, ok}},
		{"DELETE", "/api/rooms/{r}", "", nil, ownerNone},
		{"POST", "/api/rooms/{r}/join", "", nil, [9]int{unauth, unauth, forbid, forbid, ok, ok, ok, off, ok}},
		{"GET", "/api/rooms/{r}/participants", "", nil, [9]int{unauth, unauth, forbid, ok, ok, ok, ok, off, ok}},
		{"POST", "/api/rooms/{r}/invite-code", "", nil, moderators},
		{"POST", "/api/rooms/{r}/participants/target/kick", "", map[string]any{"ban": true}, modsNone},
		{"POST", "/api/rooms/{r}/participants/target/mute", "", map[string]any{"source": "microphone", "muted": true}, modsNone},
		{"PUT", "/api/rooms/{r}/participants/target/permissions", "", map[string]any{"canPublishSources": []string{"microphone"}}, moderators},
		{"POST", "/api/rooms/{r}/moderators/{u}", "", nil, ownerNone},
		{"DELETE", "/api/rooms/{r}/moderators/{mod}", "", nil, ownerNone},
		{"POST", "/api/rooms/{r}/end", "", nil, modsNone},
		{"GET", "/api/rooms/{r}/events", "", nil, moderators},

		// The lobby (lobby.go): a ticket is its holder's only credential, so without one
		// everybody gets 404; the waiting list and decisions are the moderators'.
		{"GET", "/api/lobby/target", "", nil, [9]int{notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound}},
		{"GET", "/api/lobby/target/events", "", nil, [9]int{notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound}},
		{"DELETE", "/api/lobby/target", "", nil, [9]int{notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound}},
		{"GET", "/api/rooms/{r}/lobby", "", nil, moderators},
		{"POST", "/api/rooms/{r}/lobby/admit", "", nil, moderators},
		{"POST", "/api/rooms/{r}/lobby/deny", "", nil, moderators},
		{"POST", "/api/rooms/{r}/lobby/target/admit", "", nil, modsNotFound},
		{"POST", "/api/rooms/{r}/lobby/target/deny", "", nil, modsNotFound},
		// Breakout rooms (breakout.go); the join is the room's join, rules and all.
		{"POST", "/api/rooms/{r}/breakouts", "", map[string]any{"rooms": 1, "assign": map[string]any{"target": 1}},
			[9]int{unauth, unauth, forbid, forbid, created, created, created, off, created}},
		{"GET", "/api/rooms/{r}/breakouts", "", nil, moderators},
		{"DELETE", "/api/rooms/{r}/breakouts", "", nil, modsNotFound},
		{"POST", "/api/rooms/{r}/breakouts/join", "", nil, [9]int{unauth, unauth, forbid, forbid, ok, ok, ok, off, ok}},
		// Scheduled meetings (schedule.go).
		{"POST", "/api/rooms/{r}/schedules", "", map[string]any{"start": "2030-01-01T09:00", "end": "2030-01-01T10:00", "timeZone": "UTC"},
			[9]int{unauth, unauth, forbid, forbid, created, created, created, off, created}},
		{"GET", "/api/rooms/{r}/schedules", "", nil, moderators},
		{"DELETE", "/api/rooms/{r}/schedules/target", "", nil, modsNotFound},
		{"PATCH", "/api/rooms/{r}/schedules/target", "", map[string]any{"title": "Renamed"}, modsNotFound},
		{"POST", "/api/rooms/{r}/schedules/target/cancel", "", map[string]any{"start": "2030-01-01T09:00:00Z"}, modsNotFound},
		{"GET", "/api/rooms/{r}/schedules/target/ics?start=2030-01-01T09:00:00Z", "", nil,
			[9]int{unauth, unauth, notFound, notFound, notFound, notFound, notFound, off, notFound}},
		{"GET", "/api/calendar.ics", "", nil, signedIn},
		{"GET", "/api/calendar/feed", "", nil, signedIn},
		{"POST", "/api/calendar/feed", "", nil, [9]int{unauth, unauth, created, created, created, created, created, off, created}},
		{"DELETE", "/api/calendar/feed", "", nil, [9]int{unauth, unauth, none, none, none, none, none, off, none}},
		{"GET", "/api/calendar/feed/target/parley.ics", "", nil,
			[9]int{notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound}},

		{"POST", "/api/livekit/webhook", "", map[string]any{"event": "room_started"}, [9]int{unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth, unauth}},

		{"POST", "/api/rooms/{r}/recordings", "", nil, [9]int{unauth, unauth, forbid, forbid, created, created, created, off, created}},
		{"GET", "/api/recordings?room={r}", "complete", nil, moderators},
		{"GET", "/api/recordings", "complete", nil, signedIn},
		{"GET", "/api/recordings/{rec}", "complete", nil, oldRecording},
		{"POST", "/api/recordings/{rec}/stop", "active", nil, oldRecording},
		{"POST", "/api/recordings/{rec}/retry", "failed", nil, oldRecording},
		{"GET", "/api/recordings/{rec}/file", "complete", nil, oldRecording},
		{"DELETE", "/api/recordings/{rec}", "complete", nil, [9]int{unauth, unauth, forbid, forbid, forbid, none, none, off, forbid}},

		{"GET", "/api/admin/overview", "", nil, admins},
		{"GET", "/api/admin/rooms", "", nil, admins},
		{"GET", "/api/admin/users", "", nil, admins},
		{"PATCH", "/api/admin/users/{u}", "", map[string]any{"disabled": false}, admins},
		{"GET", "/api/admin/events", "", nil, admins},
		{"GET", "/api/admin/doctor", "", nil, admins},
		{"POST", "/api/admin/api-keys", "", map[string]any{"name": "k", "scopes": []string{"rooms:read"}},
			[9]int{unauth, unauth, forbid, forbid, forbid, forbid, created, off, forbid}},
		{"GET", "/api/admin/api-keys", "", nil, admins},
		{"DELETE", "/api/admin/api-keys/{u}", "", nil, [9]int{unauth, unauth, forbid, forbid, forbid, forbid, notFound, off, forbid}},
		{"GET", "/api/admin/audit", "", nil, admins},
		{"GET", "/api/admin/audit/export", "", nil, admins},

		{"GET", "/api/openapi.json", "", nil, everyone},
		{"GET", "/api/admin/webhooks", "", nil, admins},
		{"POST", "/api/admin/webhooks", "", map[string]any{"url": "http://127.0.0.1:9/{r}", "events": []string{"*"}},
			[9]int{unauth, unauth, forbid, forbid, forbid, forbid, created, off, forbid}},
		{"GET", "/api/admin/webhooks/{wh}/deliveries", "", nil, admins},
		{"POST", "/api/admin/webhooks/{wh}/deliveries/{whd}/replay", "", nil, admins},
		{"POST", "/api/admin/webhooks/{wh}/test", "", nil, [9]int{unauth, unauth, forbid, forbid, forbid, forbid, 202, off, forbid}},
		{"DELETE", "/api/admin/webhooks/{wh}", "", nil, [9]int{unauth, unauth, forbid, forbid, forbid, forbid, none, off, forbid}},
		{"GET", "/api/no-such-route", "", nil, [9]int{notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound, notFound}},
	}
	e := newMatrixEnv(t)
	covered := map[string]bool{}
	for _, rt := range routes {
		covered[routeShape(rt.method, rt.path)] = true
	}
	for _, r := range e.app.GetRoutes(true) {
		if r.Method != "HEAD" && strings.HasPrefix(r.Path, "/api/") && r.Path != "/api" && !covered[routeShape(r.Method, r.Path)] {
			t.Errorf("route %s %s is missing from the matrix", r.Method, r.Path)
		}
	}
	n := 0
	for _, rt := range routes {
		for i, caller := range callers {
			t.Run(fmt.Sprintf("%s %s as %s", rt.method, rt.path, caller), func(t *testing.T) {
				n++
				c := e.seed(fmt.Sprintf("matrix-%03d", n), rt.rec, caller)
				r := strings.NewReplacer("{r}", c.room, "{rec}", c.rec, "{mod}", e.ids["moderator"], "{u}", e.ids["user"],
					"{whd}", e.hookDelivery, "{wh}", e.hook)
				var body any = rt.body
				if m, isMap := rt.body.(map[string]any); isMap {
					filled := map[string]any{}
					for k, v := range m {
						if s, isString := v.(string); isString {
							v = r.Replace(s)
						}
						filled[k] = v
					}
					body = filled
				}
				got := e.do(rt.method, r.Replace(rt.path), body, caller)
				if got.status != rt.want[i] {
					t.Errorf("got %d, want %d: %s", got.status, rt.want[i], got.raw)
				}
				if got.status >= 400 && got.raw != "" && got.errCode() == "" {
					t.Errorf("refusal without an error code: %s", got.raw)
				}
				if caller == "recreator" && c.rec != "" && strings.Contains(got.raw, c.rec) {
					t.Errorf("the re-created room's name shows the old room's recording: %s", got.raw)
				}
			})
		}
	}
}

// routeShape is a route with its query dropped and every parameter (":name", "{r}", the
// kicked "target") as "*", so the matrix's rows can be matched with the app's routes.
func routeShape(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "{") || s == "target" {
			segs[i] = "*"
		}
	}
	return method + " " + strings.Join(segs, "/")
}
