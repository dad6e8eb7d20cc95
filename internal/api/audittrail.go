package api

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/audit"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/recording"
)

// auditRule says how one route's answer becomes an audit entry. fill returns false when
// this answer is not audited (a failure, a later range of a download).
type auditRule struct {
	action string
	body   bool // keep the request body as the entry's detail (no route here takes a secret)
	fill   func(c *fiber.Ctx, e *audit.Entry) bool
	// recordingRoom: the route names a recording by id; its room is read before the
	// handler runs (a deleted recording has none to read after).
	recordingRoom bool
}

// auditRules are the audited routes, by method and route pattern: moderation, recordings,
// administration and sign-in. A route added elsewhere is audited by adding it here.
var auditRules = byRoute(map[string]auditRule{
	"POST /api/auth/login":    {fill: auditLogin},
	"POST /api/auth/register": {action: "auth.register", fill: auditSignIn},

	"POST /api/rooms":                            {action: "room.create", body: true, fill: responseTarget("name")},
	"PATCH /api/rooms/:name":                     {action: "room.update", body: true, fill: roomLock},
	"DELETE /api/rooms/:name":                    {action: "room.delete"},
	"POST /api/rooms/:name/end":                  {action: "room.end"},
	"POST /api/rooms/:name/invite-code":          {action: "room.invite_code"},
	"POST /api/rooms/:name/moderators/:userId":   {action: "room.moderator_add"},
	"DELETE /api/rooms/:name/moderators/:userId": {action: "room.moderator_remove"},

	"POST /api/rooms/:name/participants/:identity/kick":       {action: "participant.kick", body: true, fill: kickOrBan},
	"POST /api/rooms/:name/participants/:identity/mute":       {action: "participant.mute", body: true},
	"PUT /api/rooms/:name/participants/:identity/permissions": {action: "participant.permissions", body: true},

	"POST /api/rooms/:name/recordings": {action: "recording.start", fill: responseTarget("id")},
	"POST /api/recordings/:id/stop":    {action: "recording.stop", fill: responseRoom},
	"POST /api/recordings/:id/retry":   {action: "recording.retry", fill: responseRoom},
	"GET /api/recordings/:id/file":     {action: "recording.download", fill: firstRange, recordingRoom: true},
	"DELETE /api/recordings/:id":       {action: "recording.delete", recordingRoom: true},

	"PATCH /api/admin/users/:id":     {action: "user.update", body: true},
	"POST /api/admin/api-keys":       {action: "apikey.create", body: true, fill: responseTarget("id")},
	"DELETE /api/admin/api-keys/:id": {action: "apikey.revoke"},
	"POST /api/admin/webhooks":       {action: "webhook.create", fill: responseTarget("id")}, // its body holds a secret
	"DELETE /api/admin/webhooks/:id": {action: "webhook.delete"},
	// The target is the endpoint, the detail names the delivery sent again or queued.
	"POST /api/admin/webhooks/:id/deliveries/:deliveryId/replay": {action: "webhook.replay", fill: webhookDelivery},
	"POST /api/admin/webhooks/:id/test":                          {action: "webhook.test", fill: webhookDelivery},
})

// auditTrail records the audited routes' successful answers (and failed sign-ins) after
// the handler ran, with the principal it authenticated. A failed write is logged, never
// turned into a failure of an action that already happened.
func (s *server) auditTrail() fiber.Handler {
	return func(c *fiber.Ctx) error {
		room := ""
		if id := auditedRecording(c); id != "" {
			// Read as an administrator: the caller is not authenticated yet, and this only
			// names the room of an entry written if the route then succeeds.
			if r, err := s.d.Recordings.Get(c.UserContext(), recording.Caller{Admin: true}, id); err == nil {
				room = r.Room
			}
		}
		err := c.Next()
		rule, ok := auditRules[routeOf(c)]
		if !ok {
			return err
		}
		if err != nil { // answer it now, so the entry sees the final status
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				return herr
			}
		}
		e := audit.Entry{Action: rule.action, Actor: actorOf(httpx.PrincipalFrom(c)), Room: firstNonEmpty(c.Params("name"), room),
			Target: firstNonEmpty(c.Params("identity"), c.Params("id"), c.Params("userId")), Address: httpx.ClientIP(c)}
		status := c.Response().StatusCode()
		switch {
		case rule.fill != nil:
			if !rule.fill(c, &e) {
				return nil
			}
		case status >= 400:
			return nil
		}
		if rule.body && e.Detail == "" {
			e.Detail = compactJSON(c.Body())
		}
		if err := s.d.Audit.Record(c.UserContext(), e); err != nil {
			s.d.Log.Error("audit entry not written", "action", e.Action, "err", err, "request_id", httpx.RequestID(c))
		}
		return nil
	}
}

// auditedRecording is the recording id of a request to a recordingRoom rule's route, read
// from the path: before the route runs, Fiber has not matched it yet.
func auditedRecording(c *fiber.Ctx) string {
	rest, ok := strings.CutPrefix(c.Path(), "/api/recordings/")
	if !ok || rest == "" {
		return ""
	}
	id, sub, _ := strings.Cut(rest, "/")
	pattern := "/api/recordings/:id"
	if sub != "" {
		pattern += "/" + sub
	}
	rule, ok := auditRules[route{c.Method(), pattern}]
	if !ok || !rule.recordingRoom || (rule.fill != nil && !rule.fill(c, &audit.Entry{})) {
		return ""
	}
	return id
}

// actorOf is who made the request: a user, a key, or (nil) someone not signed in.
func actorOf(p *auth.Principal) audit.Actor {
	switch {
	case p == nil:
		return audit.Actor{Type: audit.ActorGuest}
	case p.IsKey():
		return audit.Actor{Type: audit.ActorKey, ID: p.KeyID, Name: p.Name}
	}
	return audit.Actor{Type: audit.ActorUser, ID: p.UserID, Name: p.Email}
}

// auditLogin records a sign-in, or a failed one (wrong email or password) with the email
// that was tried. Rate-limited attempts are not written: the limiter bounds what a flood
// of wrong passwords can add to the log.
func auditLogin(c *fiber.Ctx, e *audit.Entry) bool {
	switch c.Response().StatusCode() {
	case fiber.StatusOK:
		e.Action = "auth.login"
		return auditSignIn(c, e)
	case fiber.StatusUnauthorized, fiber.StatusForbidden: // wrong password, or a disabled account
		var in struct {
			Email string `json:"email"`
		}
		_ = json.Unmarshal(c.Body(), &in)
		e.Action, e.Target = "auth.login_failed", strings.ToLower(strings.TrimSpace(in.Email))
		var out httpx.ErrorBody
		if json.Unmarshal(c.Response().Body(), &out) == nil && out.Error.Code != "" {
			e.Detail = `{"reason":"` + out.Error.Code + `"}` // a stable code: nothing to escape
		}
		return true
	}
	return false
}

// auditSignIn takes the actor from the answer's user (no principal yet on these routes).
func auditSignIn(c *fiber.Ctx, e *audit.Entry) bool {
	if c.Response().StatusCode() >= 400 {
		return false
	}
	var out struct {
		User struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"user"`
	}
	_ = json.Unmarshal(c.Response().Body(), &out)
	e.Actor = audit.Actor{Type: audit.ActorUser, ID: out.User.ID, Name: out.User.Email}
	e.Target = out.User.Email
	return true
}

// responseTarget takes the created object's key from the answer.
func responseTarget(field string) func(c *fiber.Ctx, e *audit.Entry) bool {
	return func(c *fiber.Ctx, e *audit.Entry) bool {
		if c.Response().StatusCode() >= 400 {
			return false
		}
		var out map[string]any
		_ = json.Unmarshal(c.Response().Body(), &out)
		if v, ok := out[field].(string); ok {
			e.Target = v
			if field == "name" { // a room created: it is the entry's room too
				e.Room = v
			}
		}
		if v, ok := out["room"].(string); ok && e.Room == "" {
			e.Room = v
		}
		return true
	}
}

// responseRoom names the recording's room, which only its answer knows.
func responseRoom(c *fiber.Ctx, e *audit.Entry) bool { return responseTarget("id")(c, e) }

// roomLock names a change of the lock as its own action.
func roomLock(c *fiber.Ctx, e *audit.Entry) bool {
	if c.Response().StatusCode() >= 400 {
		return false
	}
	var in struct {
		Locked *bool `json:"locked"`
	}
	if json.Unmarshal(c.Body(), &in) == nil && in.Locked != nil {
		e.Action = map[bool]string{true: "room.lock", false: "room.unlock"}[*in.Locked]
	}
	return true
}

func kickOrBan(c *fiber.Ctx, e *audit.Entry) bool {
	if c.Response().StatusCode() >= 400 {
		return false
	}
	var in struct {
		Ban bool `json:"ban"`
	}
	if json.Unmarshal(c.Body(), &in) == nil && in.Ban {
		e.Action = "participant.ban"
	}
	return true
}

// firstRange audits a download once: a player's later range requests are the same download.
func firstRange(c *fiber.Ctx, e *audit.Entry) bool {
	if c.Response().StatusCode() >= 400 {
		return false
	}
	r := c.Get(fiber.HeaderRange)
	return r == "" || strings.HasPrefix(strings.ReplaceAll(r, " ", ""), "bytes=0-")
}

// webhookDelivery names, as the entry's detail, the delivery a replay or test-send queued
// (its id and webhook-id, from the answer) and the room of the event it carries.
func webhookDelivery(c *fiber.Ctx, e *audit.Entry) bool {
	if c.Response().StatusCode() >= 400 {
		return false
	}
	var out struct {
		ID      string `json:"id"`
		EventID string `json:"eventId"`
		Type    string `json:"eventType"`
		Room    string `json:"room"`
	}
	_ = json.Unmarshal(c.Response().Body(), &out)
	e.Room = out.Room
	b, _ := json.Marshal(map[string]string{"delivery": out.ID, "eventId": out.EventID, "eventType": out.Type})
	e.Detail = string(b)
	return true
}

// compactJSON is a request body as an entry's detail, or "" when it is not JSON.
func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if len(b) == 0 || json.Compact(&buf, b) != nil {
		return ""
	}
	if buf.Len() > 2000 {
		return `{"truncated":true}`
	}
	return buf.String()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
