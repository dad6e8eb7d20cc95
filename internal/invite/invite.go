// Package invite mails a scheduled meeting's invitees (iTIP, RFC 5546): an invitation
// with the series attached as METHOD:REQUEST when they are added, an update (the same UID,
// a higher SEQUENCE) when the schedule changes or one occurrence is cancelled, and a
// METHOD:CANCEL when the schedule is removed or they are taken off it. Mail is queued on
// the mail outbox, which retries on its own: a schedule change never waits on, nor fails
// because of, the mail server.
package invite

import (
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/parley/parley/internal/icalendar"
	pmail "github.com/parley/parley/internal/mail"
	"github.com/parley/parley/internal/room"
)

// Queue takes a message for later sending (*mail.Outbox); it never waits.
type Queue interface {
	Queue(m pmail.Message) error
}

// Notifier is the room service's room.ScheduleNotifier.
type Notifier struct {
	q         Queue
	publicURL string
	organizer string // the address of smtp.from
	log       *slog.Logger
}

// New builds a notifier; from is smtp.from ("Parley <noreply@example.com>").
func New(q Queue, publicURL, from string, log *slog.Logger) *Notifier {
	org := from
	if a, err := mail.ParseAddress(from); err == nil {
		org = a.Address
	}
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{q: q, publicURL: strings.TrimSuffix(publicURL, "/"), organizer: org, log: log.With("component", "invite")}
}

// UID is the schedule's iCalendar UID in mail: one per schedule, so an update replaces
// the invitation instead of adding a second meeting.
func UID(scheduleID string) string { return scheduleID + "@parley" }

// ScheduleChanged mails the invitees of old and new (see the package comment).
func (n *Notifier) ScheduleChanged(old, new *room.Schedule) {
	var was []string
	if old != nil {
		was = old.Invitees
	}
	if new != nil {
		same := old != nil && sameInCalendar(*old, *new)
		for _, to := range new.Invitees {
			kind := "Invitation"
			if slices.Contains(was, to) {
				if same {
					continue // a change their calendar does not show (auto-record, the lobby)
				}
				kind = "Updated invitation"
			}
			n.mail(to, kind, "REQUEST", *new, new.Sequence)
		}
	}
	if old == nil {
		return
	}
	seq := old.Sequence + 1
	if new != nil {
		seq = new.Sequence
	}
	for _, to := range old.Invitees {
		if new == nil || !slices.Contains(new.Invitees, to) {
			n.mail(to, "Cancelled", "CANCEL", *old, seq)
		}
	}
}

func (n *Notifier) mail(to, kind, method string, sc room.Schedule, seq int) {
	link := n.publicURL + "/r/" + sc.Room
	status := "CONFIRMED"
	if method == "CANCEL" {
		status = "CANCELLED"
	}
	cal := icalendar.Calendar{Method: method, Events: []icalendar.Event{{
		UID: UID(sc.ID), Summary: sc.Title, URL: link, Description: "Join the meeting: " + link,
		Start: sc.Start, End: sc.Start.Add(sc.Duration), TimeZone: sc.TimeZone, RRule: sc.RRule, ExDates: sc.ExDates,
		Sequence: seq, Status: status, Organizer: n.organizer, Attendees: []string{to},
	}}}
	when := sc.Start.Format("Mon 2 Jan 2006 15:04") + " (" + sc.TimeZone + ")"
	var body strings.Builder
	switch method {
	case "CANCEL":
		fmt.Fprintf(&body, "The meeting %q, first on %s, is cancelled.\n", sc.Title, when)
	default:
		fmt.Fprintf(&body, "You are invited to %q.\n\nWhen: %s", sc.Title, when)
		if sc.RRule != "" {
			fmt.Fprintf(&body, ", repeating (%s)", sc.RRule)
		}
		if len(sc.ExDates) > 0 {
			fmt.Fprintf(&body, "; not on %s", dates(sc.ExDates))
		}
		fmt.Fprintf(&body, "\nJoin: %s\n\nThe attached invitation adds it to your calendar.\n", link)
	}
	err := n.q.Queue(pmail.Message{To: to, Subject: kind + ": " + sc.Title, Body: body.String(),
		Attachments: []pmail.Attachment{{Name: "invite.ics", ContentType: "text/calendar; charset=utf-8; method=" + method,
			Data: []byte(cal.String())}}})
	if err != nil {
		n.log.Error("invitation not queued", "to", to, "schedule", sc.ID, "err", err)
	}
}

// sameInCalendar says whether the two versions look the same in an invitee's calendar.
func sameInCalendar(a, b room.Schedule) bool {
	return a.Title == b.Title && a.Start.Equal(b.Start) && a.Duration == b.Duration && a.TimeZone == b.TimeZone &&
		a.RRule == b.RRule && slices.EqualFunc(a.ExDates, b.ExDates, time.Time.Equal) && a.Room == b.Room
}

func dates(ts []time.Time) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format("2 Jan 2006")
	}
	return strings.Join(out, ", ")
}
