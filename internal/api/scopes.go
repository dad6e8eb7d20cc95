package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/apikey"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/httpx"
)

// routeScopes is the scope an API key needs for each route it may call, by method and
// route pattern. A route missing here is for signed-in users only (keysRefused): a key
// never reaches a new route by accident. TestEveryRouteHasAKeyRule keeps the two complete.
var routeScopes = byRoute(map[string]string{
	"GET /api/rooms":                             apikey.ScopeRoomsRead,
	"GET /api/rooms/:name":                       apikey.ScopeRoomsRead,
	"GET /api/rooms/:name/participants":          apikey.ScopeRoomsRead,
	"GET /api/rooms/:name/events":                apikey.ScopeRoomsRead,
	"GET /api/admin/rooms":                       apikey.ScopeRoomsRead,
	"POST /api/rooms":                            apikey.ScopeRoomsWrite,
	"PATCH /api/rooms/:name":                     apikey.ScopeRoomsWrite,
	"DELETE /api/rooms/:name":                    apikey.ScopeRoomsWrite,
	"POST /api/rooms/:name/join":                 apikey.ScopeRoomsWrite,
	"POST /api/rooms/:name/invite-code":          apikey.ScopeRoomsWrite,
	"POST /api/rooms/:name/moderators/:userId":   apikey.ScopeRoomsWrite,
	"DELETE /api/rooms/:name/moderators/:userId": apikey.ScopeRoomsWrite,

	"POST /api/rooms/:name/participants/:identity/kick":       apikey.ScopeParticipantsModerate,
	"POST /api/rooms/:name/participants/:identity/mute":       apikey.ScopeParticipantsModerate,
	"PUT /api/rooms/:name/participants/:identity/permissions": apikey.ScopeParticipantsModerate,
	"POST /api/rooms/:name/end":                               apikey.ScopeParticipantsModerate,

	"GET /api/recordings":              apikey.ScopeRecordingsRead,
	"GET /api/recordings/:id":          apikey.ScopeRecordingsRead,
	"GET /api/recordings/:id/file":     apikey.ScopeRecordingsRead,
	"POST /api/rooms/:name/recordings": apikey.ScopeRecordingsWrite,
	"POST /api/recordings/:id/stop":    apikey.ScopeRecordingsWrite,
	"POST /api/recordings/:id/retry":   apikey.ScopeRecordingsWrite,
	"DELETE /api/recordings/:id":       apikey.ScopeRecordingsWrite,

	"GET /api/rooms/:name/schedules":             apikey.ScopeRoomsRead,
	"GET /api/rooms/:name/schedules/:id/ics":     apikey.ScopeRoomsRead,
	"POST /api/rooms/:name/schedules":            apikey.ScopeRoomsWrite,
	"DELETE /api/rooms/:name/schedules/:id":      apikey.ScopeRoomsWrite,
	"PATCH /api/rooms/:name/schedules/:id":       apikey.ScopeRoomsWrite,
	"POST /api/rooms/:name/schedules/:id/cancel": apikey.ScopeRoomsWrite,
	"GET /api/rooms/:name/breakouts":             apikey.ScopeRoomsRead,
	"POST /api/rooms/:name/breakouts/join":       apikey.ScopeRoomsWrite,
	"POST /api/rooms/:name/breakouts":            apikey.ScopeParticipantsModerate,
	"DELETE /api/rooms/:name/breakouts":          apikey.ScopeParticipantsModerate,

	"GET /api/rooms/:name/lobby":                apikey.ScopeParticipantsModerate,
	"POST /api/rooms/:name/lobby/admit":         apikey.ScopeParticipantsModerate,
	"POST /api/rooms/:name/lobby/deny":          apikey.ScopeParticipantsModerate,
	"POST /api/rooms/:name/lobby/:ticket/admit": apikey.ScopeParticipantsModerate,
	"POST /api/rooms/:name/lobby/:ticket/deny":  apikey.ScopeParticipantsModerate,

	"GET /api/admin/users":        apikey.ScopeUsersRead,
	"GET /api/admin/audit":        apikey.ScopeAuditRead,
	"GET /api/admin/audit/export": apikey.ScopeAuditRead,
})

// webhooksPrefix: every route of outbound webhook administration takes webhooks:manage.
const webhooksPrefix = "/api/admin/webhooks"

// keysRefused are the authenticated routes no key may call: a key managing keys or
// accounts could raise its own rights, and the session routes belong to a person.
var keysRefused = byRoute(map[string]bool{
	"GET /api/auth/me": true, "PATCH /api/auth/me": true, "PUT /api/auth/password": true,
	"GET /api/admin/overview": true, "PATCH /api/admin/users/:id": true, "GET /api/admin/events": true,
	"GET /api/admin/doctor": true, "GET /api/calendar.ics": true, // a person's own feed
	"GET /api/calendar/feed": true, "POST /api/calendar/feed": true, "DELETE /api/calendar/feed": true,
	"GET /api/auth/oidc/logout": true, "POST /api/admin/users/invite": true,
	"GET /api/auth/passkeys": true, "POST /api/auth/passkeys/register/begin": true,
	"POST /api/auth/passkeys/register/finish": true, "DELETE /api/auth/passkeys/:id": true,
	"POST /api/auth/email/resend": true,
	"POST /api/admin/api-keys":    true, "GET /api/admin/api-keys": true, "DELETE /api/admin/api-keys/:id": true,
})

// route is a method and a route pattern: a map key that costs no allocation per request.
type route struct{ method, path string }

// byRoute keys a table written as "METHOD /pattern" by route.
func byRoute[V any](m map[string]V) map[route]V {
	out := make(map[route]V, len(m))
	for k, v := range m {
		method, path, _ := strings.Cut(k, " ")
		out[route{method, path}] = v
	}
	return out
}

// routeOf is the route c matched (HEAD counts as the GET it mirrors).
func routeOf(c *fiber.Ctx) route {
	r := route{c.Method(), c.Route().Path}
	if r.method == fiber.MethodHead {
		r.method = fiber.MethodGet
	}
	return r
}

// scopeOf is the scope a key needs for the route c matched ("" when no key may call it).
func scopeOf(c *fiber.Ctx) string {
	r := routeOf(c)
	if r.path == webhooksPrefix || strings.HasPrefix(r.path, webhooksPrefix+"/") {
		return apikey.ScopeWebhooksManage
	}
	return routeScopes[r]
}

// checkScope refuses a key on a route outside its scopes, naming the scope it lacks.
func checkScope(c *fiber.Ctx, p *auth.Principal) error {
	if !p.IsKey() {
		return nil
	}
	need := scopeOf(c)
	if need == "" {
		return httpx.Forbidden("insufficient_scope", "API keys cannot call %s %s: it is for signed-in users", c.Method(), c.Route().Path)
	}
	for _, s := range p.Scopes {
		if s == need {
			return nil
		}
	}
	return httpx.Forbidden("insufficient_scope", "this API key lacks the scope %s, which %s %s needs", need, c.Method(), c.Route().Path)
}
