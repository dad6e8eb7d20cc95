package room

import (
	"context"
	"fmt"
	"time"
)

// ScheduleNotifier is told of every change of a schedule after it is stored: old is nil
// for a new schedule, new is nil for a removed one. It must not block (invitations queue
// their mail) and cannot fail the change.
type ScheduleNotifier interface {
	ScheduleChanged(old, new *Schedule)
}

// AddScheduleNotifier adds one told of schedule changes (before the service serves).
func (s *Service) AddScheduleNotifier(n ScheduleNotifier) { s.notify = append(s.notify, n) }

func (s *Service) scheduleChanged(r Room, old, new *Schedule) {
	for _, sc := range []*Schedule{old, new} {
		if sc != nil && sc.Room == "" {
			sc.Room = r.Name
		}
	}
	for _, n := range s.notify {
		n.ScheduleChanged(old, new)
	}
}

// RecordedSchedules are every room's schedules with AutoRecord on (the recorder's worker).
func (s *Service) RecordedSchedules(ctx context.Context) ([]Schedule, error) {
	return s.st.schedules(ctx, "auto_record = ?", true)
}

// SchedulePatch changes a schedule: nil fields keep their value.
type SchedulePatch struct {
	Title             *string
	Start, End        *string
	TimeZone          *string
	RRule             *string
	Invitees          *[]string
	LobbyOpensMinutes *int
	AutoRecord        *bool
}

// input is the schedule as it was given.
func (sc Schedule) input() ScheduleInput {
	return ScheduleInput{Title: sc.Title, Start: sc.Start.Format("2006-01-02T15:04"),
		End: sc.Start.Add(sc.Duration).Format("2006-01-02T15:04"), TimeZone: sc.TimeZone, RRule: sc.RRule,
		Invitees: sc.Invitees, LobbyOpensMinutes: int(sc.LobbyOpens / time.Minute), AutoRecord: sc.AutoRecord}
}

// HasOccurrence says whether an occurrence (not cancelled) starts at at.
func (sc Schedule) HasOccurrence(at time.Time) bool {
	for _, o := range sc.Occurrences(at, at.Add(time.Second), maxOccurrences) {
		if o.Equal(at) {
			return true
		}
	}
	return false
}

func (s *Service) schedule(ctx context.Context, r Room, id string) (Schedule, error) {
	list, err := s.st.schedules(ctx, "room_id = ? AND id = ?", r.ID, id)
	if err != nil {
		return Schedule{}, err
	}
	if len(list) == 0 {
		return Schedule{}, fmt.Errorf("room %q: %w", r.Name, ErrScheduleNotFound)
	}
	return list[0], nil
}

// UpdateSchedule changes a planned meeting (moderators). A change of its times, zone or
// rule drops the occurrences cancelled one by one (they named starts of the old times).
// Every change raises the sequence, so invitees' calendars take the update.
func (s *Service) UpdateSchedule(ctx context.Context, name, id string, c Caller, p SchedulePatch) (Schedule, error) {
	a, old, err := s.moderatedSchedule(ctx, name, id, c)
	if err != nil {
		return Schedule{}, err
	}
	in := old.input()
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&in.Title, p.Title)
	set(&in.Start, p.Start)
	set(&in.End, p.End)
	set(&in.TimeZone, p.TimeZone)
	set(&in.RRule, p.RRule)
	if p.Invitees != nil {
		in.Invitees = *p.Invitees
	}
	if p.LobbyOpensMinutes != nil {
		in.LobbyOpensMinutes = *p.LobbyOpensMinutes
	}
	if p.AutoRecord != nil {
		in.AutoRecord = *p.AutoRecord
	}
	sc, err := in.parse()
	if err != nil {
		return Schedule{}, err
	}
	if sc.Title == "" {
		sc.Title = a.Room.Title
	}
	sc.ID, sc.Room, sc.CreatedAt, sc.Sequence = old.ID, a.Room.Name, old.CreatedAt, old.Sequence+1
	if sc.Start.Equal(old.Start) && sc.RRule == old.RRule && sc.TimeZone == old.TimeZone {
		sc.ExDates = old.ExDates
	}
	if err := s.st.updateSchedule(ctx, a.Room.ID, sc); err != nil {
		return Schedule{}, fmt.Errorf("room %q: %w", name, err)
	}
	s.scheduleChanged(a.Room, &old, &sc)
	return sc, nil
}

// CancelOccurrence cancels the one occurrence starting at start (moderators): it leaves
// the feed, the next occurrences and the lobby's opening times, and invitees are told.
func (s *Service) CancelOccurrence(ctx context.Context, name, id string, start time.Time, c Caller) (Schedule, error) {
	a, old, err := s.moderatedSchedule(ctx, name, id, c)
	if err != nil {
		return Schedule{}, err
	}
	if !old.HasOccurrence(start) {
		return Schedule{}, fmt.Errorf("room %q: no occurrence at %s: %w", name, start.UTC().Format(time.RFC3339), ErrScheduleNotFound)
	}
	if len(old.ExDates) >= maxOccurrences*10 {
		return Schedule{}, fieldErr("start", "at most %d occurrences can be cancelled one by one: change the rule instead", maxOccurrences*10)
	}
	sc := old
	sc.ExDates = append(append([]time.Time(nil), old.ExDates...), start.In(old.Start.Location()))
	sc.Sequence++
	if err := s.st.updateSchedule(ctx, a.Room.ID, sc); err != nil {
		return Schedule{}, fmt.Errorf("room %q: %w", name, err)
	}
	s.scheduleChanged(a.Room, &old, &sc)
	return sc, nil
}
