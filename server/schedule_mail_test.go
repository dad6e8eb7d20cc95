package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/parley/parley/internal/testenv"
)

// invitation is the iTIP part of the newest mail to to, once n mails reached them.
type invitation struct {
	subject, contentType, method string
	event                        ical.Event
}

func readInvitation(t *testing.T, pit *testenv.Mailpit, to string, n int) invitation {
	t.Helper()
	msgs := pit.WaitMessages(t, to, n) // newest first: the n-th is n-1 from the oldest
	msg := msgs[len(msgs)-n]
	ct, data := pit.Attachment(t, msg.ID, "invite.ics")
	cal, err := ical.NewDecoder(strings.NewReader(string(data))).Decode()
	if err != nil {
		t.Fatalf("%q to %s: the attachment does not parse: %v\n%s", msg.Subject, to, err, data)
	}
	method, _ := cal.Props.Text(ical.PropMethod)
	ev := cal.Events()
	if len(ev) != 1 {
		t.Fatalf("%q to %s: %d events, want 1:\n%s", msg.Subject, to, len(ev), data)
	}
	return invitation{subject: msg.Subject, contentType: ct, method: method, event: ev[0]}
}

func (inv invitation) text(t *testing.T, prop string) string {
	t.Helper()
	v := inv.event.Props.Get(prop)
	if v == nil {
		t.Fatalf("no %s", prop)
	}
	return v.Value
}

// TestScheduleEditsAndInvitations: with SMTP set, a weekly meeting's invitees get an
// invitation through a real SMTP server (mailpit) with the series attached (METHOD:REQUEST,
// a stable UID); an edit sends updates with a higher SEQUENCE, a new invitee an invitation
// and a removed one a METHOD:CANCEL; cancelling one occurrence takes it out of the feed, the
// next occurrences and the .ics, and tells the invitees (EXDATE); removing the schedule
// cancels it for everyone.
func TestScheduleEditsAndInvitations(t *testing.T) {
	pit := testenv.StartMailpit(t)
	p := startParley(t, testEnv(t, "PARLEY_SMTP_HOST=127.0.0.1", fmt.Sprintf("PARLEY_SMTP_PORT=%d", pit.SMTPPort),
		"PARLEY_SMTP_FROM=Parley <noreply@parley.test>", "PARLEY_SMTP_SECURITY=none"))
	owner, _ := user(t, p, "owner@example.com")
	stranger, _ := user(t, p, "stranger@example.com")
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "planned", "title": "Planning"})
	berlin, _ := time.LoadLocation("Europe/Berlin")
	d := time.Now().In(berlin).AddDate(0, 0, 7)
	start := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, berlin)
	local := func(t time.Time) string { return t.Format("2006-01-02T15:04") }
	sc := owner.must(201, "POST", "/api/rooms/planned/schedules", map[string]any{"title": "Weekly planning",
		"start": local(start), "end": local(start.Add(time.Hour)), "timeZone": "Europe/Berlin", "rrule": "FREQ=WEEKLY;COUNT=4",
		"invitees": []string{"ann@example.com", "bob@example.com"}})
	id := sc["id"].(string)

	inv := readInvitation(t, pit, "ann@example.com", 1)
	if inv.subject != "Invitation: Weekly planning" || inv.method != "REQUEST" || !strings.Contains(inv.contentType, "text/calendar") {
		t.Fatalf("invitation: %q %q %q", inv.subject, inv.method, inv.contentType)
	}
	uid := inv.text(t, ical.PropUID)
	if seq := inv.text(t, ical.PropSequence); seq != "0" {
		t.Errorf("first SEQUENCE %s, want 0", seq)
	}
	if at, err := inv.event.DateTimeStart(time.UTC); err != nil || !at.Equal(start) {
		t.Errorf("DTSTART %v (%v), want %v", at, err, start)
	}
	if rule, _ := inv.event.Props.RecurrenceRule(); rule == nil || rule.Count != 4 {
		t.Errorf("RRULE %+v, want a weekly rule of 4", rule)
	}
	readInvitation(t, pit, "bob@example.com", 1)

	// An edit: a new title, ann stays, bob leaves, cid joins.
	owner.must(400, "PATCH", "/api/rooms/planned/schedules/"+id, map[string]any{"rrule": "FREQ=SOMETIMES"})
	stranger.must(403, "PATCH", "/api/rooms/planned/schedules/"+id, map[string]any{"title": "Mine"})
	owner.must(404, "PATCH", "/api/rooms/planned/schedules/no-such-id", map[string]any{"title": "x"})
	sc = owner.must(200, "PATCH", "/api/rooms/planned/schedules/"+id, map[string]any{"title": "Planning (new room)",
		"invitees": []string{"ann@example.com", "cid@example.com"}})
	if sc["title"] != "Planning (new room)" || len(sc["next"].([]any)) != 4 || sc["sequence"].(float64) != 1 {
		t.Fatalf("after the edit: %v", sc)
	}
	upd := readInvitation(t, pit, "ann@example.com", 2)
	if upd.subject != "Updated invitation: Planning (new room)" || upd.method != "REQUEST" || upd.text(t, ical.PropUID) != uid || upd.text(t, ical.PropSequence) != "1" {
		t.Fatalf("update: %q %s UID %s SEQUENCE %s, want the UID %s and SEQUENCE 1", upd.subject, upd.method, upd.text(t, ical.PropUID), upd.text(t, ical.PropSequence), uid)
	}
	if c := readInvitation(t, pit, "cid@example.com", 1); c.subject != "Invitation: Planning (new room)" || c.method != "REQUEST" {
		t.Fatalf("new invitee: %q %s", c.subject, c.method)
	}
	if b := readInvitation(t, pit, "bob@example.com", 2); b.method != "CANCEL" || b.text(t, ical.PropUID) != uid || b.text(t, ical.PropStatus) != "CANCELLED" {
		t.Fatalf("removed invitee: %q %s", b.subject, b.method)
	}

	// Turning auto-record on changes nothing in a calendar: no mail (checked below by count).
	owner.must(200, "PATCH", "/api/rooms/planned/schedules/"+id, map[string]any{"autoRecord": true})

	// Cancel the second occurrence (after the first: a week later, 09:00 Berlin).
	second := start.AddDate(0, 0, 7).UTC().Format(time.RFC3339)
	owner.must(404, "POST", "/api/rooms/planned/schedules/"+id+"/cancel", map[string]any{"start": start.Add(time.Hour).UTC().Format(time.RFC3339)})
	stranger.must(403, "POST", "/api/rooms/planned/schedules/"+id+"/cancel", map[string]any{"start": second})
	sc = owner.must(200, "POST", "/api/rooms/planned/schedules/"+id+"/cancel", map[string]any{"start": second})
	next := sc["next"].([]any)
	if len(next) != 3 || len(sc["cancelled"].([]any)) != 1 {
		t.Fatalf("after cancelling one: %v", sc)
	}
	for _, n := range next {
		if at, _ := time.Parse(time.RFC3339, n.(string)); at.Equal(start.AddDate(0, 0, 7)) {
			t.Fatalf("the cancelled occurrence is still listed: %v", next)
		}
	}
	owner.must(404, "POST", "/api/rooms/planned/schedules/"+id+"/cancel", map[string]any{"start": second}) // already cancelled
	if code, _ := owner.ics("/api/rooms/planned/schedules/" + id + "/ics?start=" + second); code != 404 {
		t.Fatalf("the cancelled occurrence's .ics: %d, want 404", code)
	}
	_, feed := owner.ics("/api/calendar.ics")
	if n := strings.Count(feed, "BEGIN:VEVENT"); n != 3 || strings.Contains(feed, start.AddDate(0, 0, 7).UTC().Format("20060102T150405Z")) {
		t.Fatalf("feed after cancelling one of 4 (%d events):\n%s", n, feed)
	}
	ex := readInvitation(t, pit, "ann@example.com", 3)
	exdates, err := ex.event.Props.Get(ical.PropExceptionDates).DateTime(time.UTC)
	if err != nil || !exdates.Equal(start.AddDate(0, 0, 7)) || ex.text(t, ical.PropSequence) != "3" {
		t.Fatalf("the update for a cancelled occurrence: EXDATE %v (%v), SEQUENCE %s", exdates, err, ex.text(t, ical.PropSequence))
	}

	// Remove the schedule: every invitee gets the cancellation.
	owner.must(204, "DELETE", "/api/rooms/planned/schedules/"+id, nil)
	// cid's are the invitation, the cancelled occurrence's update and this.
	for to, n := range map[string]int{"ann@example.com": 4, "cid@example.com": 3} {
		c := readInvitation(t, pit, to, n)
		if c.method != "CANCEL" || c.subject != "Cancelled: Planning (new room)" || c.text(t, ical.PropSequence) != "4" {
			t.Errorf("%s after the removal: %q %s SEQUENCE %s", to, c.subject, c.method, c.text(t, ical.PropSequence))
		}
	}
	// One worker sends in order and ann's cancellation left before cid's: ann has all hers.
	if got := pit.Messages(t, "ann@example.com"); len(got) != 4 {
		t.Errorf("ann got %d mails, want 4 (invitation, update, cancelled occurrence, cancellation)", len(got))
	}

	// Deleting a room cancels its meetings for their invitees.
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "doomed", "title": "Doomed"})
	owner.must(201, "POST", "/api/rooms/doomed/schedules", map[string]any{"start": local(start), "end": local(start.Add(time.Hour)),
		"timeZone": "Europe/Berlin", "invitees": []string{"dan@example.com"}})
	readInvitation(t, pit, "dan@example.com", 1)
	owner.must(204, "DELETE", "/api/rooms/doomed", nil)
	if c := readInvitation(t, pit, "dan@example.com", 2); c.method != "CANCEL" || c.subject != "Cancelled: Doomed" {
		t.Errorf("after the room's deletion: %q %s", c.subject, c.method)
	}
}
