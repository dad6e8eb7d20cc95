package api

import (
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/live"
	"github.com/parley/parley/internal/livekit"
	"github.com/parley/parley/internal/room"
)

// The response shapes of docs/API.md that more than one resource uses. The web client's
// web/src/api/types.ts mirrors them field for field.

// userJSON is API.md's `user`.
type userJSON struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	Role          string    `json:"role"`
	Disabled      bool      `json:"disabled"`
	EmailVerified bool      `json:"emailVerified"`
	CreatedAt     time.Time `json:"createdAt"`
}

func toUserJSON(u auth.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled, EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt}
}

// grantJSON is what register, login and refresh answer.
type grantJSON struct {
	User            userJSON  `json:"user"`
	AccessToken     string    `json:"accessToken"`
	RefreshToken    string    `json:"refreshToken"`
	AccessExpiresAt time.Time `json:"accessExpiresAt"`
}

func toGrantJSON(g auth.Grant) grantJSON {
	return grantJSON{User: toUserJSON(g.User), AccessToken: g.AccessToken, RefreshToken: g.RefreshToken, AccessExpiresAt: g.AccessExpiresAt}
}

// permissionsJSON is API.md's `permissions`: a room's defaults and a participant's own.
type permissionsJSON struct {
	CanPublish        bool     `json:"canPublish"`
	CanSubscribe      bool     `json:"canSubscribe"`
	CanPublishData    bool     `json:"canPublishData"`
	CanPublishSources []string `json:"canPublishSources"`
}

func toPermissionsJSON(p room.Permissions) permissionsJSON {
	return permissionsJSON{CanPublish: p.CanPublish, CanSubscribe: p.CanSubscribe, CanPublishData: p.CanPublishData,
		CanPublishSources: orEmpty(p.Sources)}
}

// trackJSON is a participant's published track.
type trackJSON struct {
	Sid    string `json:"sid"`
	Source string `json:"source"`
	Kind   string `json:"kind"`
	Muted  bool   `json:"muted"`
}

// participantJSON is API.md's `participant`, from the live state (the participants
// lists) or from LiveKit (the answer to a permissions change, with its permissions).
type participantJSON struct {
	Identity    string           `json:"identity"`
	Sid         string           `json:"sid,omitempty"`
	Name        string           `json:"name"`
	UserID      string           `json:"userId,omitempty"`
	Role        string           `json:"role"`
	State       string           `json:"state"`
	JoinedAt    *time.Time       `json:"joinedAt"`
	LeftAt      *time.Time       `json:"leftAt,omitempty"`
	LeaveReason string           `json:"leaveReason,omitempty"`
	Tracks      []trackJSON      `json:"tracks"`
	Permissions *permissionsJSON `json:"permissions,omitempty"`
}

func fromLiveParticipant(p live.Participant) participantJSON {
	joined := p.JoinedAt
	out := participantJSON{Identity: p.Identity, Sid: p.Sid, Name: p.Name, UserID: p.UserID, Role: p.Role, State: p.State,
		JoinedAt: &joined, LeftAt: p.LeftAt, LeaveReason: p.LeaveReason, Tracks: make([]trackJSON, len(p.Tracks))}
	for i, t := range p.Tracks {
		out.Tracks[i] = trackJSON{Sid: t.Sid, Source: t.Source, Kind: t.Kind, Muted: t.Muted}
	}
	return out
}

func fromLiveParticipants(ps []live.Participant) []participantJSON {
	out := make([]participantJSON, len(ps))
	for i, p := range ps {
		out[i] = fromLiveParticipant(p)
	}
	return out
}

func fromRoomParticipant(p room.Participant) participantJSON {
	out := participantJSON{Identity: p.Identity, Name: p.Name, UserID: p.UserID, Role: p.Role, State: p.State,
		JoinedAt: p.JoinedAt, LeftAt: p.LeftAt, Tracks: make([]trackJSON, len(p.Tracks))}
	for i, t := range p.Tracks {
		out.Tracks[i] = trackJSON{Sid: t.SID, Source: t.Source, Kind: t.Kind, Muted: t.Muted}
	}
	if p.Permissions != nil {
		perm := toPermissionsJSON(*p.Permissions)
		out.Permissions = &perm
	}
	return out
}

// liveRoomJSON is a running room with the participants in it now (GET /api/admin/rooms).
type liveRoomJSON struct {
	Name         string            `json:"name"`
	Title        string            `json:"title,omitempty"`
	Sid          string            `json:"sid"`
	Active       bool              `json:"active"`
	StartedAt    time.Time         `json:"startedAt"`
	Participants []participantJSON `json:"participants"`
}

func toLiveRoomJSON(r live.RoomState, title string) liveRoomJSON {
	return liveRoomJSON{Name: r.Name, Title: title, Sid: r.Sid, Active: r.Active, StartedAt: r.StartedAt, Participants: fromLiveParticipants(r.Participants)}
}

// liveKitStatusJSON is the admin overview's `livekit`.
type liveKitStatusJSON struct {
	Mode      string     `json:"mode"`
	State     string     `json:"state"`
	Version   string     `json:"version"`
	URL       string     `json:"url"`
	Restarts  int        `json:"restarts"`
	StartedAt *time.Time `json:"startedAt,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	// RestartLog is the recent restarts with their reasons, oldest first; never null.
	RestartLog []restartJSON `json:"restartLog"`
}

// restartJSON is one entry of the overview's livekit.restartLog.
type restartJSON struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

func toLiveKitStatusJSON(st livekit.Status) liveKitStatusJSON {
	out := liveKitStatusJSON{Mode: st.Mode, State: st.State, Version: st.Version, URL: st.URL, Restarts: st.Restarts, Reason: st.Reason,
		RestartLog: make([]restartJSON, 0, len(st.RestartLog))}
	for _, r := range st.RestartLog {
		out.RestartLog = append(out.RestartLog, restartJSON{At: r.At.UTC(), Reason: r.Reason})
	}
	if !st.StartedAt.IsZero() {
		t := st.StartedAt.UTC()
		out.StartedAt = &t
	}
	return out
}

// usageJSON is the admin overview's `usage`.
type usageJSON struct {
	Since              time.Time        `json:"since"`
	ParticipantMinutes float64          `json:"participantMinutes"`
	PeakConcurrency    int              `json:"peakConcurrency"`
	Sessions           int              `json:"sessions"`
	Daily              []dailyUsageJSON `json:"daily"`
	ByRoom             []keyMinutesJSON `json:"byRoom"`
	ByUser             []keyMinutesJSON `json:"byUser"`
}

type dailyUsageJSON struct {
	Date               string  `json:"date"`
	ParticipantMinutes float64 `json:"participantMinutes"`
}

type keyMinutesJSON struct {
	Key                string  `json:"key"`
	Title              string  `json:"title,omitempty"` // byRoom: the room's title
	ParticipantMinutes float64 `json:"participantMinutes"`
}

func toUsageJSON(u live.Usage) usageJSON {
	out := usageJSON{Since: u.Since, ParticipantMinutes: u.ParticipantMinutes, PeakConcurrency: u.PeakConcurrency,
		Sessions: u.Sessions, Daily: make([]dailyUsageJSON, len(u.Daily)), ByRoom: keyMinutes(u.ByRoom), ByUser: keyMinutes(u.ByUser)}
	for i, d := range u.Daily {
		out.Daily[i] = dailyUsageJSON{Date: d.Date, ParticipantMinutes: d.ParticipantMinutes}
	}
	return out
}

func keyMinutes(in []live.KeyMinutes) []keyMinutesJSON {
	out := make([]keyMinutesJSON, len(in))
	for i, k := range in {
		out[i] = keyMinutesJSON{Key: k.Key, ParticipantMinutes: k.ParticipantMinutes}
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
