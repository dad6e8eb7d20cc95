package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/icalendar"
	"github.com/parley/parley/internal/room"
)

// feedHorizon is how far ahead the calendar feed lists occurrences.
const feedHorizon = 366 * 24 * time.Hour

// ScheduleService is the scheduled meetings (*room.Service).
type ScheduleService interface {
	AddSchedule(ctx context.Context, name string, c room.Caller, in room.ScheduleInput) (room.Schedule, error)
	Schedules(ctx context.Context, name string, c room.Caller) ([]room.Schedule, error)
	UpdateSchedule(ctx context.Context, name, id string, c room.Caller, p room.SchedulePatch) (room.Schedule, error)
	CancelOccurrence(ctx context.Context, name, id string, start time.Time, c room.Caller) (room.Schedule, error)
	DeleteSchedule(ctx context.Context, name, id string, c room.Caller) error
	Calendar(ctx context.Context, c room.Caller, email string) ([]room.Schedule, error)
	Occurrence(ctx context.Context, name, id string, start time.Time, c room.Caller, email string) (room.Schedule, error)
}

type scheduleJSON struct {
	ID                string      `json:"id"`
	Room              string      `json:"room"`
	Title             string      `json:"title"`
	Start             string      `json:"start"`
	End               string      `json:"end"`
	TimeZone          string      `json:"timeZone"`
	RRule             string      `json:"rrule,omitempty"`
	Invitees          []string    `json:"invitees"`
	LobbyOpensMinutes int         `json:"lobbyOpensMinutes"`
	Next              []time.Time `json:"next"`
	Cancelled         []time.Time `json:"cancelled"`
	Sequence          int         `json:"sequence"`
	AutoRecord        bool        `json:"autoRecord"`
}

func toScheduleJSON(sc room.Schedule, now time.Time) scheduleJSON {
	next := sc.Occurrences(now, now.Add(feedHorizon), 5)
	if next == nil {
		next = []time.Time{}
	}
	cancelled := append([]time.Time{}, sc.ExDates...)
	return scheduleJSON{ID: sc.ID, Room: sc.Room, Title: sc.Title, Start: sc.Start.Format("2006-01-02T15:04"),
		End: sc.Start.Add(sc.Duration).Format("2006-01-02T15:04"), TimeZone: sc.TimeZone, RRule: sc.RRule,
		Invitees: orEmpty(sc.Invitees), LobbyOpensMinutes: int(sc.LobbyOpens / time.Minute),
		Next: next, Cancelled: cancelled, Sequence: sc.Sequence, AutoRecord: sc.AutoRecord}
}

func scheduleError(err error) error {
	if errors.Is(err, room.ErrScheduleNotFound) {
		return httpx.NotFound("schedule_not_found", "no such scheduled meeting (or occurrence) in this room")
	}
	return roomError(err)
}

func emailOf(c *fiber.Ctx) string {
	if p := httpx.PrincipalFrom(c); p != nil {
		return p.Email
	}
	return ""
}

func (s *server) addSchedule(c *fiber.Ctx) error {
	var b struct {
		Title             string   `json:"title"`
		Start             string   `json:"start"`
		End               string   `json:"end"`
		TimeZone          string   `json:"timeZone"`
		RRule             string   `json:"rrule"`
		Invitees          []string `json:"invitees"`
		LobbyOpensMinutes int      `json:"lobbyOpensMinutes"`
		AutoRecord        bool     `json:"autoRecord"`
	}
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	sc, err := s.d.Rooms.AddSchedule(c.UserContext(), c.Params("name"), callerOf(c), room.ScheduleInput{Title: b.Title,
		Start: b.Start, End: b.End, TimeZone: b.TimeZone, RRule: b.RRule, Invitees: b.Invitees, LobbyOpensMinutes: b.LobbyOpensMinutes, AutoRecord: b.AutoRecord})
	if err != nil {
		return scheduleError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(toScheduleJSON(sc, time.Now()))
}

func (s *server) listSchedules(c *fiber.Ctx) error {
	list, err := s.d.Rooms.Schedules(c.UserContext(), c.Params("name"), callerOf(c))
	if err != nil {
		return scheduleError(err)
	}
	now := time.Now()
	out := httpx.List[scheduleJSON]{Items: make([]scheduleJSON, len(list))}
	for i, sc := range list {
		out.Items[i] = toScheduleJSON(sc, now)
	}
	return c.JSON(out)
}

func (s *server) updateSchedule(c *fiber.Ctx) error {
	var b struct {
		Title             *string   `json:"title"`
		Start             *string   `json:"start"`
		End               *string   `json:"end"`
		TimeZone          *string   `json:"timeZone"`
		RRule             *string   `json:"rrule"`
		Invitees          *[]string `json:"invitees"`
		LobbyOpensMinutes *int      `json:"lobbyOpensMinutes"`
		AutoRecord        *bool     `json:"autoRecord"`
	}
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	sc, err := s.d.Rooms.UpdateSchedule(c.UserContext(), c.Params("name"), c.Params("id"), callerOf(c), room.SchedulePatch{Title: b.Title,
		Start: b.Start, End: b.End, TimeZone: b.TimeZone, RRule: b.RRule, Invitees: b.Invitees, LobbyOpensMinutes: b.LobbyOpensMinutes, AutoRecord: b.AutoRecord})
	if err != nil {
		return scheduleError(err)
	}
	return c.JSON(toScheduleJSON(sc, time.Now()))
}

// cancelOccurrence cancels one occurrence ({"start": RFC 3339}); the others stay.
func (s *server) cancelOccurrence(c *fiber.Ctx) error {
	var b struct {
		Start string `json:"start"`
	}
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339, b.Start)
	if err != nil {
		return httpx.BadRequest("invalid_field", "start: an RFC 3339 time of one occurrence is required")
	}
	sc, err := s.d.Rooms.CancelOccurrence(c.UserContext(), c.Params("name"), c.Params("id"), start, callerOf(c))
	if err != nil {
		return scheduleError(err)
	}
	return c.JSON(toScheduleJSON(sc, time.Now()))
}

func (s *server) deleteSchedule(c *fiber.Ctx) error {
	if err := s.d.Rooms.DeleteSchedule(c.UserContext(), c.Params("name"), c.Params("id"), callerOf(c)); err != nil {
		return scheduleError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// calendarFeed is the caller's iCalendar feed: every occurrence of the next year of the
// meetings of rooms they own or moderate and of those they are invited to.
func (s *server) calendarFeed(c *fiber.Ctx) error {
	return s.sendFeed(c, callerOf(c), emailOf(c))
}

func (s *server) sendFeed(c *fiber.Ctx, caller room.Caller, email string) error {
	list, err := s.d.Rooms.Calendar(c.UserContext(), caller, email)
	if err != nil {
		return scheduleError(err)
	}
	now := time.Now()
	var events []icalendar.Event
	for _, sc := range list {
		for _, at := range sc.Occurrences(now, now.Add(feedHorizon), 100) {
			events = append(events, s.event(c, sc, at))
		}
	}
	return sendICS(c, "parley.ics", icalendar.Calendar{Name: "Parley meetings", Events: events})
}

// occurrenceICS is one occurrence as an .ics file, for an invitation or "add to calendar".
func (s *server) occurrenceICS(c *fiber.Ctx) error {
	start, err := time.Parse(time.RFC3339, c.Query("start"))
	if err != nil {
		return httpx.BadRequest("invalid_field", "start: an RFC 3339 time of one occurrence is required")
	}
	sc, err := s.d.Rooms.Occurrence(c.UserContext(), c.Params("name"), c.Params("id"), start, callerOf(c), emailOf(c))
	if err != nil {
		return scheduleError(err)
	}
	return sendICS(c, "meeting.ics", icalendar.Calendar{Name: sc.Title, Events: []icalendar.Event{s.event(c, sc, start)}})
}

// event is one occurrence as a feed lists it: its own UID (the schedule's and its start),
// so a cancelled occurrence simply leaves the feed.
func (s *server) event(c *fiber.Ctx, sc room.Schedule, at time.Time) icalendar.Event {
	link := c.BaseURL() + "/r/" + sc.Room
	return icalendar.Event{UID: fmt.Sprintf("%s-%s@parley", sc.ID, at.UTC().Format("20060102T150405Z")), Start: at, End: at.Add(sc.Duration),
		Summary: sc.Title, URL: link, Description: "Join the meeting: " + link, Sequence: sc.Sequence}
}

func sendICS(c *fiber.Ctx, file string, cal icalendar.Calendar) error {
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+file+`"`)
	return c.SendString(cal.String())
}
