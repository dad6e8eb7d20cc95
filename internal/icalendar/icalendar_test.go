package icalendar

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// TestSeriesInItsZone: a weekly series in Europe/Berlin is written with local times and a
// VTIMEZONE whose changes are Go's tzdata's (the last Sunday of March and of October), and
// a real parser reads back the start, the rule and the cancelled occurrence.
func TestSeriesInItsZone(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2027, 3, 1, 9, 0, 0, 0, berlin)
	cal := Calendar{Method: "REQUEST", Events: []Event{{UID: "s@parley", Summary: "Sync, weekly; with \\ escapes", Start: start,
		End: start.Add(time.Hour), TimeZone: "Europe/Berlin", RRule: "FREQ=WEEKLY;COUNT=10", ExDates: []time.Time{start.AddDate(0, 0, 7)},
		Sequence: 3, Organizer: "noreply@parley.test", Attendees: []string{"ann@example.com"}}}}.String()
	for _, want := range []string{"DTSTART;TZID=Europe/Berlin:20270301T090000\r\n", "EXDATE;TZID=Europe/Berlin:20270308T090000\r\n",
		"BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n",
		"BEGIN:STANDARD\r\nDTSTART:20271031T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n", "SEQUENCE:3\r\n", "METHOD:REQUEST\r\n"} {
		if !strings.Contains(cal, want) {
			t.Errorf("missing %q in:\n%s", want, cal)
		}
	}
	parsed, err := ical.NewDecoder(strings.NewReader(cal)).Decode()
	if err != nil {
		t.Fatalf("%v\n%s", err, cal)
	}
	ev := parsed.Events()[0]
	if at, err := ev.DateTimeStart(time.UTC); err != nil || !at.Equal(start) {
		t.Errorf("start %v (%v), want %v", at, err, start)
	}
	if s, _ := ev.Props.Text(ical.PropSummary); s != "Sync, weekly; with \\ escapes" {
		t.Errorf("summary %q", s)
	}
	if rule, err := ev.Props.RecurrenceRule(); err != nil || rule.Count != 10 {
		t.Errorf("rule %+v (%v)", rule, err)
	}
}

// TestZoneWithoutChanges: a zone with no daylight saving gets one observance.
func TestZoneWithoutChanges(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	start := time.Date(2027, 3, 1, 9, 0, 0, 0, tokyo)
	cal := Calendar{Events: []Event{{UID: "x", Start: start, End: start.Add(time.Hour), TimeZone: "Asia/Tokyo"}}}.String()
	if n := strings.Count(cal, "BEGIN:STANDARD") + strings.Count(cal, "BEGIN:DAYLIGHT"); n != 1 || !strings.Contains(cal, "TZOFFSETTO:+0900") {
		t.Fatalf("%d observances:\n%s", n, cal)
	}
}

// TestFolding: long lines fold at 75 octets without splitting a character.
func TestFolding(t *testing.T) {
	long := strings.Repeat("ä", 100)
	out := fold("SUMMARY:" + long)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line of %d octets", len(l))
		}
	}
	if got := strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n ", ""); got != "SUMMARY:"+long {
		t.Fatalf("unfolded %q", got)
	}
}
