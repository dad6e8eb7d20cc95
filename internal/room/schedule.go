package room

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/teambition/rrule-go"
)

// Scheduled meetings: a room's planned occurrences, a first start and end in a time zone,
// repeated by an RFC 5545 RRULE (teambition/rrule-go expands it in that time zone, so a
// weekly 09:00 stays 09:00 local across a daylight-saving change), with invitees by e-mail.

// ErrScheduleNotFound is a schedule that does not exist in that room.
var ErrScheduleNotFound = errors.New("schedule not found")

// ErrLobbyNotOpen refuses a knock on a scheduled lobby room outside the times its schedules
// open it (from LobbyOpens before a start to the end).
var ErrLobbyNotOpen = errors.New("the lobby is not open yet")

// maxInvitees bounds one schedule's invitation list; maxOccurrences one listing.
const (
	maxInvitees    = 500
	maxOccurrences = 100
)

// Schedule is a planned meeting of a room.
type Schedule struct {
	ID       string
	Room     string
	Title    string
	Start    time.Time // the first occurrence, in Location
	Duration time.Duration
	TimeZone string
	RRule    string // "" for a single occurrence
	Invitees []string
	// LobbyOpens is how long before each start the room takes people in (0: any time).
	LobbyOpens time.Duration
	// ExDates are the starts of occurrences cancelled one by one (RFC 5545 EXDATE).
	ExDates []time.Time
	// Sequence counts the changes invitees were told of (RFC 5545 SEQUENCE): an update
	// with a higher one replaces the invitation in their calendar.
	Sequence int
	// AutoRecord has the built-in recorder record each occurrence while someone publishes.
	AutoRecord bool
	CreatedAt  time.Time
}

// ScheduleInput is a schedule as given: Start and End are local times ("2026-03-02T09:00")
// in TimeZone (an IANA name).
type ScheduleInput struct {
	Title             string
	Start, End        string
	TimeZone          string
	RRule             string
	Invitees          []string
	LobbyOpensMinutes int
	AutoRecord        bool
}

// Occurrences are the starts of the schedule's occurrences from `from` (an occurrence still
// running counts) to `to`, at most n, in its time zone.
func (sc Schedule) Occurrences(from, to time.Time, n int) []time.Time {
	if sc.RRule == "" {
		if sc.Start.Add(sc.Duration).After(from) && sc.Start.Before(to) && !sc.Cancelled(sc.Start) {
			return []time.Time{sc.Start}
		}
		return nil
	}
	r, err := sc.rule()
	if err != nil {
		return nil
	}
	// Between's bounds are exclusive: an occurrence starting exactly at from-duration has
	// ended by from and is left out, as it should be.
	var out []time.Time
	for _, at := range r.Between(from.Add(-sc.Duration), to, true) {
		if !sc.Cancelled(at) {
			out = append(out, at)
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Cancelled says whether the occurrence starting at at was cancelled on its own.
func (sc Schedule) Cancelled(at time.Time) bool {
	for _, x := range sc.ExDates {
		if x.Equal(at) {
			return true
		}
	}
	return false
}

func (sc Schedule) rule() (*rrule.RRule, error) {
	loc := sc.Start.Location()
	opt, err := rrule.StrToROptionInLocation(sc.RRule, loc)
	if err != nil {
		return nil, err
	}
	opt.Dtstart = sc.Start
	return rrule.NewRRule(*opt)
}

// parse validates the input into a schedule.
func (in ScheduleInput) parse() (Schedule, error) {
	title := strings.TrimSpace(in.Title)
	if len(title) > MaxTitleLen || strings.ContainsAny(title, "\x00\r\n") {
		return Schedule{}, fieldErr("title", "must be one line of at most %d characters", MaxTitleLen)
	}
	loc, err := time.LoadLocation(in.TimeZone)
	if err != nil || in.TimeZone == "" || in.TimeZone == "Local" {
		return Schedule{}, fieldErr("timeZone", "%q is not an IANA time zone (such as Europe/Berlin)", in.TimeZone)
	}
	start, err := time.ParseInLocation("2006-01-02T15:04", in.Start, loc)
	if err != nil {
		return Schedule{}, fieldErr("start", "%q is not a local time such as 2026-03-02T09:00", in.Start)
	}
	end, err := time.ParseInLocation("2006-01-02T15:04", in.End, loc)
	if err != nil || !end.After(start) || end.Sub(start) > 24*time.Hour {
		return Schedule{}, fieldErr("end", "must be a local time after start, at most 24 hours later")
	}
	if in.LobbyOpensMinutes < 0 || in.LobbyOpensMinutes > 24*60 {
		return Schedule{}, fieldErr("lobbyOpensMinutes", "must be from 0 (any time) to 1440")
	}
	if len(in.Invitees) > maxInvitees {
		return Schedule{}, fieldErr("invitees", "at most %d", maxInvitees)
	}
	var invitees []string
	for _, e := range in.Invitees {
		a, err := mail.ParseAddress(e)
		if err != nil || a.Name != "" || strings.ContainsAny(a.Address, ",\r\n") {
			return Schedule{}, fieldErr("invitees", "%q is not an e-mail address", e)
		}
		invitees = append(invitees, strings.ToLower(a.Address))
	}
	sc := Schedule{Title: title, Start: start, Duration: end.Sub(start), TimeZone: in.TimeZone,
		RRule: strings.TrimPrefix(strings.TrimSpace(in.RRule), "RRULE:"), Invitees: invitees,
		LobbyOpens: time.Duration(in.LobbyOpensMinutes) * time.Minute, AutoRecord: in.AutoRecord}
	if sc.RRule != "" {
		if strings.ContainsAny(sc.RRule, "\r\n") || len(sc.RRule) > 500 {
			return Schedule{}, fieldErr("rrule", "must be one RRULE line")
		}
		if _, err := sc.rule(); err != nil {
			return Schedule{}, fieldErr("rrule", "%v", err)
		}
	}
	return sc, nil
}

// AddSchedule plans a meeting of the room (moderators).
func (s *Service) AddSchedule(ctx context.Context, name string, c Caller, in ScheduleInput) (Schedule, error) {
	a, err := s.requireModerator(ctx, name, c, "schedule")
	if err != nil {
		return Schedule{}, err
	}
	sc, err := in.parse()
	if err != nil {
		return Schedule{}, err
	}
	if sc.Title == "" {
		sc.Title = a.Room.Title
	}
	sc.ID, sc.Room, sc.CreatedAt = uuid.NewString(), a.Room.Name, s.now().UTC()
	if err := s.st.addSchedule(ctx, a.Room.ID, c.UserID, sc); err != nil {
		return Schedule{}, fmt.Errorf("room %q: %w", name, err)
	}
	s.scheduleChanged(a.Room, nil, &sc)
	return sc, nil
}

// Schedules lists the room's planned meetings (moderators).
func (s *Service) Schedules(ctx context.Context, name string, c Caller) ([]Schedule, error) {
	a, err := s.requireModerator(ctx, name, c, "see the schedule")
	if err != nil {
		return nil, err
	}
	return s.st.schedules(ctx, "room_id = ?", a.Room.ID)
}

// moderatedSchedule is the schedule id of room name, for a caller who may change it.
func (s *Service) moderatedSchedule(ctx context.Context, name, id string, c Caller) (Access, Schedule, error) {
	a, err := s.requireModerator(ctx, name, c, "change the schedule")
	if err != nil {
		return Access{}, Schedule{}, err
	}
	old, err := s.schedule(ctx, a.Room, id)
	return a, old, err
}

// DeleteSchedule removes a planned meeting (moderators); its invitees are told.
func (s *Service) DeleteSchedule(ctx context.Context, name, id string, c Caller) error {
	a, old, err := s.moderatedSchedule(ctx, name, id, c)
	if err != nil {
		return err
	}
	if err := s.st.deleteSchedule(ctx, a.Room.ID, id); err != nil {
		return err
	}
	s.scheduleChanged(a.Room, &old, nil)
	return nil
}

// Calendar lists the schedules a user sees in their feed: of the rooms they own or
// moderate (every room for an admin is not meant: a feed is personal), and those they are
// invited to by e-mail.
func (s *Service) Calendar(ctx context.Context, c Caller, email string) ([]Schedule, error) {
	if c.UserID == "" {
		return nil, ErrLoginRequired
	}
	return s.st.schedules(ctx, "room_id IN (SELECT id FROM rooms WHERE owner_id = ?) OR room_id IN (SELECT room_id FROM room_moderators WHERE user_id = ?) OR (',' || invitees || ',') LIKE ?",
		c.UserID, c.UserID, "%,"+strings.ToLower(email)+",%")
}

// Occurrence returns the schedule and checks start is one of its occurrences; who may read
// it: the room's moderators and its invitees.
func (s *Service) Occurrence(ctx context.Context, name, id string, start time.Time, c Caller, email string) (Schedule, error) {
	a, err := s.Access(ctx, name, c)
	if err != nil {
		return Schedule{}, err
	}
	sc, err := s.schedule(ctx, a.Room, id)
	if err != nil {
		return Schedule{}, err
	}
	if !a.Moderator && (email == "" || !strings.Contains(","+strings.Join(sc.Invitees, ",")+",", ","+strings.ToLower(email)+",")) {
		return Schedule{}, fmt.Errorf("room %q: schedule: %w", name, ErrForbidden)
	}
	if !sc.HasOccurrence(start) {
		return Schedule{}, fmt.Errorf("room %q: no occurrence at %s: %w", name, start.UTC().Format(time.RFC3339), ErrScheduleNotFound)
	}
	return sc, nil
}

// lobbyOpen says whether the room's schedules let people wait in its lobby now: always when
// no schedule sets LobbyOpens, else from LobbyOpens before an occurrence to its end.
func (s *Service) lobbyOpen(ctx context.Context, r Room, now time.Time) error {
	list, err := s.st.schedules(ctx, "room_id = ? AND lobby_opens > 0", r.ID)
	if err != nil || len(list) == 0 {
		return err
	}
	var next time.Time
	for _, sc := range list {
		for _, at := range sc.Occurrences(now, now.Add(366*24*time.Hour), 1) {
			if !now.Before(at.Add(-sc.LobbyOpens)) {
				return nil
			}
			if opens := at.Add(-sc.LobbyOpens); next.IsZero() || opens.Before(next) {
				next = opens
			}
		}
	}
	if next.IsZero() {
		return fmt.Errorf("room %q: no meeting is scheduled: %w", r.Name, ErrLobbyNotOpen)
	}
	return fmt.Errorf("room %q: the lobby opens at %s: %w", r.Name, next.UTC().Format(time.RFC3339), ErrLobbyNotOpen)
}
