package api

import "github.com/gofiber/fiber/v2"

// routes lists every route of docs/API.md in one place. Handlers live in one file per
// resource: health.go, auth.go, sso.go, passkeys.go, recovery.go, admin_users.go, rooms.go, moderation.go,
// webhook.go, events.go, admin.go, recordings.go, apikeys.go, audit.go, webhooks.go, openapi.go.
func (s *server) routes(app *fiber.App) {
	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", s.metrics())

	s.mw = s.middlewares()
	user, optional, admin := s.mw.RequireUser, s.mw.OptionalUser, s.mw.RequireAdmin
	// Event streams alone take ?access_token= (EventSource cannot send headers).
	streamUser, streamAdmin := s.authenticate(true, false, true), s.authenticate(true, true, true)
	lim := s.d.HTTP.Limits
	guestJoins := s.perMinute("guest_join", "guest joins", lim.GuestJoins, true)
	registrations := s.perMinute("register", "registrations", lim.Registrations, false)
	roomCreations := s.perMinute("room_create", "rooms created", lim.RoomCreations, false)
	recordingStarts := s.perMinute("recording_start", "recordings started", lim.RecordingStarts, false)
	streams := s.openStreams()
	api := app.Group("/api", s.auditTrail()) // audittrail.go

	// Auth (auth.go)
	api.Post("/auth/register", registrations, s.register)
	api.Post("/auth/login", s.login)
	api.Post("/auth/refresh", s.refresh)
	api.Post("/auth/logout", s.logout)
	api.Get("/auth/me", user, s.me)
	api.Patch("/auth/me", user, s.updateMe)
	api.Put("/auth/password", user, s.changePassword)

	// Single sign-on (sso.go)
	signIns := s.perMinute("oidc_login", "sign-ins", lim.Registrations, false)
	api.Get("/auth/providers", s.authProviders)
	api.Get("/auth/oidc/logout", user, s.oidcLogout)
	api.Post("/auth/oidc/exchange", s.oidcExchange)
	api.Get("/auth/oidc/:name/login", signIns, s.oidcLogin)
	api.Get("/auth/oidc/:name/callback", s.oidcCallback)

	// Passkeys (passkeys.go)
	api.Get("/auth/passkeys", user, s.listPasskeys)
	api.Post("/auth/passkeys/register/begin", user, s.beginPasskeyRegistration)
	api.Post("/auth/passkeys/register/finish", user, s.finishPasskeyRegistration)
	api.Delete("/auth/passkeys/:id", user, s.removePasskey)
	api.Post("/auth/passkeys/login/begin", noKeys, s.beginPasskeyLogin)
	api.Post("/auth/passkeys/login/finish", noKeys, s.finishPasskeyLogin)

	// Password reset and invitations (recovery.go)
	api.Post("/auth/password/forgot", s.forgotPassword)
	api.Post("/auth/password/reset", s.resetPassword)
	api.Post("/auth/email/verify", s.verifyEmail)
	api.Post("/auth/email/resend", user, s.resendVerification)
	api.Post("/admin/users/invite", admin, s.inviteUser)

	// Rooms (rooms.go)
	api.Post("/rooms", user, roomCreations, s.createRoom)
	api.Get("/rooms", user, s.listRooms)
	api.Get("/rooms/:name", optional, s.getRoom)
	api.Patch("/rooms/:name", user, s.updateRoom)
	api.Delete("/rooms/:name", user, s.deleteRoom)
	api.Post("/rooms/:name/join", optional, guestJoins, s.joinRoom)
	api.Get("/rooms/:name/participants", optional, s.listParticipants)
	api.Post("/rooms/:name/invite-code", user, s.rotateInviteCode)

	// Moderation (moderation.go)
	api.Post("/rooms/:name/participants/:identity/kick", user, s.kick)
	api.Post("/rooms/:name/participants/:identity/mute", user, s.mute)
	api.Put("/rooms/:name/participants/:identity/permissions", user, s.setPermissions)
	api.Post("/rooms/:name/moderators/:userId", user, s.addModerator)
	api.Delete("/rooms/:name/moderators/:userId", user, s.removeModerator)
	api.Post("/rooms/:name/end", user, s.endMeeting)

	// Lobby (lobby.go): the ticket is its holder's only credential
	api.Get("/lobby/:ticket", s.lobbyStatus)
	api.Delete("/lobby/:ticket", s.leaveLobby)
	api.Get("/lobby/:ticket/events", streams, s.lobbyEvents)
	api.Get("/rooms/:name/lobby", user, s.listLobby)
	api.Post("/rooms/:name/lobby/admit", user, s.decideLobby(true))
	api.Post("/rooms/:name/lobby/deny", user, s.decideLobby(false))
	api.Post("/rooms/:name/lobby/:ticket/admit", user, s.decideLobby(true))
	api.Post("/rooms/:name/lobby/:ticket/deny", user, s.decideLobby(false))

	// Breakout rooms (breakout.go)
	api.Post("/rooms/:name/breakouts", user, s.startBreakouts)
	api.Get("/rooms/:name/breakouts", user, s.getBreakouts)
	api.Delete("/rooms/:name/breakouts", user, s.endBreakouts)
	api.Post("/rooms/:name/breakouts/join", optional, guestJoins, s.joinBreakout)

	// Scheduled meetings (schedule.go); the .ics routes take ?access_token= like streams,
	// since calendar apps and download links cannot send headers
	api.Post("/rooms/:name/schedules", user, s.addSchedule)
	api.Get("/rooms/:name/schedules", user, s.listSchedules)
	api.Patch("/rooms/:name/schedules/:id", user, s.updateSchedule)
	api.Post("/rooms/:name/schedules/:id/cancel", user, s.cancelOccurrence)
	api.Delete("/rooms/:name/schedules/:id", user, s.deleteSchedule)
	api.Get("/rooms/:name/schedules/:id/ics", streamUser, s.occurrenceICS)
	api.Get("/calendar.ics", streamUser, s.calendarFeed)
	// The feed URL calendar apps subscribe to: its token is its credential (calendar_feed.go)
	api.Get("/calendar/feed", user, s.getFeed)
	api.Post("/calendar/feed", user, s.rotateFeed)
	api.Delete("/calendar/feed", user, s.deleteFeed)
	api.Get("/calendar/feed/:token/parley.ics", s.tokenFeed)

	// Live state (webhook.go, events.go)
	api.Post("/livekit/webhook", s.webhook)
	api.Get("/rooms/:name/events", streamUser, streams, s.roomEvents)

	// Recordings (recordings.go)
	api.Post("/rooms/:name/recordings", user, recordingStarts, s.startRecording)
	api.Get("/recordings", user, s.listRecordings)
	api.Get("/recordings/:id", user, s.getRecording)
	api.Post("/recordings/:id/stop", user, s.stopRecording)
	api.Post("/recordings/:id/retry", user, s.retryRecording)
	api.Get("/recordings/:id/file", user, s.recordingFile)
	api.Delete("/recordings/:id", user, s.deleteRecording)

	// Admin (admin.go, admin_users.go)
	api.Get("/admin/overview", admin, s.adminOverview)
	api.Get("/admin/rooms", admin, s.adminRooms)
	api.Get("/admin/users", admin, s.listUsers)
	api.Patch("/admin/users/:id", admin, s.patchUser)
	api.Get("/admin/events", streamAdmin, streams, s.adminEvents)
	api.Get("/admin/doctor", admin, s.adminDoctor) // doctor.go

	// API keys and the audit log (apikeys.go, audit.go; key scopes in scopes.go)
	api.Post("/admin/api-keys", admin, s.createKey)
	api.Get("/admin/api-keys", admin, s.listKeys)
	api.Delete("/admin/api-keys/:id", admin, s.revokeKey)
	api.Get("/admin/audit", admin, s.listAudit)
	api.Get("/admin/audit/export", admin, s.exportAudit)

	// Outbound webhooks (webhooks.go)
	api.Get("/admin/webhooks", admin, s.listWebhooks)
	api.Post("/admin/webhooks", admin, s.createWebhook)
	api.Delete("/admin/webhooks/:id", admin, s.deleteWebhook)
	api.Get("/admin/webhooks/:id/deliveries", admin, s.listDeliveries)
	api.Post("/admin/webhooks/:id/deliveries/:deliveryId/replay", admin, s.replayDelivery)
	api.Post("/admin/webhooks/:id/test", admin, s.testWebhook)

	// The API's own description (openapi.go)
	api.Get("/openapi.json", s.openAPI)

	api.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
	s.signallingRoutes(app) // signalling.go
	app.Get("/*", s.webHeaders(), s.d.Static)
}
