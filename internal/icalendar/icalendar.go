// Package icalendar writes RFC 5545 iCalendar: the calendar feed, one occurrence's .ics
// and the iTIP (RFC 5546) invitations, updates and cancellations mailed to invitees.
// Parsing is left to the readers (tests read it back with emersion/go-ical).
package icalendar

import (
	"sort"
	"strings"
	"time"
)

// Event is one VEVENT. With TimeZone set it is written as a series in that zone (DTSTART
// and DTEND as local times with TZID, a VTIMEZONE for the zone, RRULE and EXDATE), else
// as a single UTC event.
type Event struct {
	UID, Summary, Description, URL string
	Start, End                     time.Time
	TimeZone                       string
	RRule                          string
	ExDates                        []time.Time
	Sequence                       int
	Status                         string // CONFIRMED, CANCELLED ("" leaves it out)
	Organizer                      string // an e-mail address ("" leaves it out)
	Attendees                      []string
}

// Calendar is a VCALENDAR; Method is the iTIP method (REQUEST, CANCEL) or "" for a feed.
type Calendar struct {
	Name, Method string
	Events       []Event
	Stamp        time.Time // DTSTAMP (zero: now)
}

const utcForm, localForm = "20060102T150405Z", "20060102T150405"

// String renders the calendar with CRLF line ends and folded lines.
func (c Calendar) String() string {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Parley//Parley meetings//EN")
	line("CALSCALE:GREGORIAN")
	if c.Method != "" {
		line("METHOD:" + c.Method)
	}
	if c.Name != "" {
		line("X-WR-CALNAME:" + Escape(c.Name))
	}
	zones := map[string]time.Time{}
	for _, e := range c.Events {
		if e.TimeZone != "" && e.TimeZone != "UTC" {
			if at, ok := zones[e.TimeZone]; !ok || e.Start.Before(at) {
				zones[e.TimeZone] = e.Start
			}
		}
	}
	names := make([]string, 0, len(zones))
	for z := range zones {
		names = append(names, z)
	}
	sort.Strings(names)
	for _, z := range names {
		writeZone(line, z, zones[z])
	}
	stamp := c.Stamp
	if stamp.IsZero() {
		stamp = time.Now()
	}
	for _, e := range c.Events {
		line("BEGIN:VEVENT")
		line("UID:" + e.UID)
		line("DTSTAMP:" + stamp.UTC().Format(utcForm))
		line("DTSTART" + dateTime(e, e.Start))
		line("DTEND" + dateTime(e, e.End))
		if e.RRule != "" {
			line("RRULE:" + e.RRule)
		}
		for _, x := range e.ExDates {
			line("EXDATE" + dateTime(e, x))
		}
		line("SEQUENCE:" + itoa(e.Sequence))
		if e.Status != "" {
			line("STATUS:" + e.Status)
		}
		line("SUMMARY:" + Escape(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION:" + Escape(e.Description))
		}
		if e.URL != "" {
			line("URL:" + e.URL)
		}
		if e.Organizer != "" {
			line("ORGANIZER:mailto:" + e.Organizer)
		}
		for _, a := range e.Attendees {
			line("ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:" + a)
		}
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String()
}

// dateTime is a DATE-TIME property's parameters and value: local with TZID in a series'
// zone, else UTC.
func dateTime(e Event, t time.Time) string {
	if e.TimeZone == "" || e.TimeZone == "UTC" {
		return ":" + t.UTC().Format(utcForm)
	}
	if loc, err := time.LoadLocation(e.TimeZone); err == nil {
		t = t.In(loc)
	}
	return ";TZID=" + e.TimeZone + ":" + t.Format(localForm)
}

func itoa(n int) string {
	if n < 0 {
		return "0"
	}
	var d []byte
	for {
		d = append([]byte{byte('0' + n%10)}, d...)
		if n /= 10; n == 0 {
			return string(d)
		}
	}
}

// Escape escapes a TEXT value (RFC 5545 3.3.11).
func Escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", "").Replace(s)
}

// fold ends a content line with CRLF, folded at 75 octets without splitting a character.
func fold(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if w := len(string(r)); n+w > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += len(string(r))
	}
	b.WriteString("\r\n")
	return b.String()
}
