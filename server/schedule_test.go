package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// nextTransition is the first day after from on which the zone's UTC offset changes.
func nextTransition(t *testing.T, loc *time.Location, from time.Time) time.Time {
	t.Helper()
	_, off := from.In(loc).Zone()
	for d := from; d.Before(from.AddDate(1, 0, 0)); d = d.Add(24 * time.Hour) {
		if _, o := d.In(loc).Zone(); o != off {
			return d
		}
	}
	t.Fatalf("%s has no offset change within a year", loc)
	return time.Time{}
}

func (b *browser) ics(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		b.t.Fatalf("%s: Content-Type %q", path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, string(body)
}

// TestWeeklyScheduleAcrossDST: a weekly 09:00 Europe/Berlin meeting's feed, read by a real
// iCalendar parser, lists its occurrences at 09:00 Berlin time on both sides of the next
// daylight-saving change (so at two different UTC hours); an invitee's feed has it too, and
// one occurrence downloads as its own .ics.
func TestWeeklyScheduleAcrossDST(t *testing.T) {
	p := startParley(t, testEnv(t))
	owner, _ := user(t, p, "owner@example.com")
	invitee, _ := user(t, p, "guest@example.com")
	stranger, _ := user(t, p, "stranger@example.com")
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "weekly", "title": "Weekly sync"})
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	change := nextTransition(t, berlin, time.Now().AddDate(0, 0, 21))
	first := change.In(berlin).AddDate(0, 0, -14)
	start := time.Date(first.Year(), first.Month(), first.Day(), 9, 0, 0, 0, berlin)

	for _, bad := range []map[string]any{
		{"start": "tomorrow", "end": "2026-01-01T10:00", "timeZone": "Europe/Berlin"},
		{"start": "2026-01-01T09:00", "end": "2026-01-01T10:00", "timeZone": "Mars/Olympus"},
		{"start": "2026-01-01T09:00", "end": "2026-01-01T08:00", "timeZone": "Europe/Berlin"},
		{"start": "2026-01-01T09:00", "end": "2026-01-01T10:00", "timeZone": "Europe/Berlin", "rrule": "FREQ=SOMETIMES"},
		{"start": "2026-01-01T09:00", "end": "2026-01-01T10:00", "timeZone": "Europe/Berlin", "invitees": []string{"not an address"}},
	} {
		owner.must(400, "POST", "/api/rooms/weekly/schedules", bad)
	}
	stranger.must(403, "POST", "/api/rooms/weekly/schedules", map[string]any{"start": "2026-01-01T09:00", "end": "2026-01-01T10:00", "timeZone": "UTC"})
	sc := owner.must(201, "POST", "/api/rooms/weekly/schedules", map[string]any{
		"start": start.Format("2006-01-02T15:04"), "end": start.Add(time.Hour).Format("2006-01-02T15:04"),
		"timeZone": "Europe/Berlin", "rrule": "FREQ=WEEKLY;COUNT=4", "invitees": []string{"Guest@Example.com"}})
	if len(sc["next"].([]any)) != 4 {
		t.Fatalf("schedule: %v", sc)
	}

	code, feed := owner.ics("/api/calendar.ics")
	if code != 200 {
		t.Fatalf("feed: %d %s", code, feed)
	}
	cal, err := ical.NewDecoder(strings.NewReader(feed)).Decode()
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, feed)
	}
	events := cal.Events()
	if len(events) != 4 {
		t.Fatalf("%d events, want 4:\n%s", len(events), feed)
	}
	utcHours := map[int]bool{}
	for i, e := range events {
		at, err := e.DateTimeStart(time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		local := at.In(berlin)
		if local.Hour() != 9 || local.Minute() != 0 || local.Weekday() != start.Weekday() {
			t.Errorf("occurrence %d at %s Berlin time, want %s 09:00", i, local, start.Weekday())
		}
		if want := start.AddDate(0, 0, 7*i); !local.Equal(want) {
			t.Errorf("occurrence %d on %s, want %s", i, local, want)
		}
		utcHours[at.Hour()] = true
		if s, _ := e.Props.Text(ical.PropSummary); s != "Weekly sync" {
			t.Errorf("summary %q", s)
		}
	}
	if len(utcHours) != 2 {
		t.Fatalf("the occurrences do not straddle the daylight-saving change at %s: UTC hours %v", change, utcHours)
	}

	code, invFeed := invitee.ics("/api/calendar.ics")
	if code != 200 || strings.Count(invFeed, "BEGIN:VEVENT") != 4 {
		t.Fatalf("invitee's feed: %d\n%s", code, invFeed)
	}
	if _, sf := stranger.ics("/api/calendar.ics"); strings.Contains(sf, "BEGIN:VEVENT") {
		t.Fatalf("a stranger's feed lists the meeting:\n%s", sf)
	}
	occ := start.AddDate(0, 0, 14).UTC().Format(time.RFC3339) // after the change: 09:00 local, not 14×24 h
	id := sc["id"].(string)
	if code, one := invitee.ics("/api/rooms/weekly/schedules/" + id + "/ics?start=" + occ); code != 200 || strings.Count(one, "BEGIN:VEVENT") != 1 {
		t.Fatalf("occurrence .ics: %d\n%s", code, one)
	}
	if code, _ := stranger.ics("/api/rooms/weekly/schedules/" + id + "/ics?start=" + occ); code != 403 {
		t.Fatalf("a stranger's occurrence .ics: %d, want 403", code)
	}
	if code, _ := owner.ics("/api/rooms/weekly/schedules/" + id + "/ics?start=" + start.Add(time.Hour).UTC().Format(time.RFC3339)); code != 404 {
		t.Fatalf("an hour that is no occurrence: %d, want 404", code)
	}

	t.Run("the lobby opens a set time before the start", func(t *testing.T) {
		owner.must(200, "PATCH", "/api/rooms/weekly", map[string]any{"lobby": true, "allowGuests": true, "public": true})
		owner.must(201, "POST", "/api/rooms/weekly/schedules", map[string]any{"start": start.Format("2006-01-02T15:04"),
			"end": start.Add(time.Hour).Format("2006-01-02T15:04"), "timeZone": "Europe/Berlin", "lobbyOpensMinutes": 15})
		guest := newBrowser(t, p)
		code, out, _ := guest.do("POST", "/api/rooms/weekly/join", map[string]any{"displayName": "Early"})
		if code != 422 || out["error"].(map[string]any)["code"] != "lobby_not_open" {
			t.Fatalf("a knock weeks early: %d %v, want 422 lobby_not_open", code, out)
		}
		owner.must(200, "POST", "/api/rooms/weekly/join", nil) // the owner is never held, nor kept out
		soon := time.Now().In(berlin).Add(10 * time.Minute)
		owner.must(201, "POST", "/api/rooms/weekly/schedules", map[string]any{"start": soon.Format("2006-01-02T15:04"),
			"end": soon.Add(time.Hour).Format("2006-01-02T15:04"), "timeZone": "Europe/Berlin", "lobbyOpensMinutes": 15})
		waitIn(t, guest, "weekly", "Early")
	})
}
