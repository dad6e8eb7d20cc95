package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// TestCalendarFeedURL: a user's secret feed URL serves their feed with no cookie or
// header, as a calendar app reads it; rotating makes the old URL answer 404 and the new
// one work; revoking ends it; a disabled account's URL stops working too.
func TestCalendarFeedURL(t *testing.T) {
	p := startParley(t, testEnv(t))
	owner, ownerID := user(t, p, "owner@example.com")
	admin, _ := user(t, p, "admin@example.com")
	owner.must(201, "POST", "/api/rooms", map[string]any{"name": "feedroom", "title": "Feed room"})
	at := time.Now().UTC().AddDate(0, 0, 3)
	owner.must(201, "POST", "/api/rooms/feedroom/schedules", map[string]any{"start": at.Format("2006-01-02T15:04"),
		"end": at.Add(time.Hour).Format("2006-01-02T15:04"), "timeZone": "UTC", "rrule": "FREQ=DAILY;COUNT=2"})

	if f := owner.must(200, "GET", "/api/calendar/feed", nil); f["exists"] != false {
		t.Fatalf("before any link: %v", f)
	}
	anon := &http.Client{Timeout: 30 * time.Second}
	fetch := func(url string) (int, string) {
		t.Helper()
		res, err := anon.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	first := owner.must(201, "POST", "/api/calendar/feed", nil)["url"].(string)
	if !strings.HasPrefix(first, owner.base+"/api/calendar/feed/pcal_") || !strings.HasSuffix(first, "/parley.ics") {
		t.Fatalf("feed URL %q", first)
	}
	code, body := fetch(first)
	if code != 200 {
		t.Fatalf("feed URL: %d %s", code, body)
	}
	cal, err := ical.NewDecoder(strings.NewReader(body)).Decode()
	if err != nil || len(cal.Events()) != 2 {
		t.Fatalf("feed URL's calendar (%v):\n%s", err, body)
	}
	if f := owner.must(200, "GET", "/api/calendar/feed", nil); f["exists"] != true || f["url"] != nil {
		t.Fatalf("after making a link (the URL is not shown again): %v", f)
	}

	second := owner.must(201, "POST", "/api/calendar/feed", nil)["url"].(string)
	if code, _ := fetch(first); code != 404 {
		t.Fatalf("the rotated-away URL: %d, want 404", code)
	}
	if code, _ := fetch(second); code != 200 {
		t.Fatalf("the new URL: %d", code)
	}
	if code, _ := fetch(strings.Replace(second, "pcal_", "pcal_x", 1)); code != 404 {
		t.Fatalf("a made-up token: %d, want 404", code)
	}

	admin.must(200, "PATCH", "/api/admin/users/"+ownerID, map[string]any{"disabled": true})
	if code, _ := fetch(second); code != 404 {
		t.Fatalf("a disabled account's URL: %d, want 404", code)
	}
	admin.must(200, "PATCH", "/api/admin/users/"+ownerID, map[string]any{"disabled": false})
	if code, _ := fetch(second); code != 200 {
		t.Fatalf("re-enabled: %d", code)
	}
	owner = newBrowser(t, p) // disabling the account ended its sessions
	owner.token = owner.must(200, "POST", "/api/auth/login", map[string]any{"email": "owner@example.com", "password": "a-long-password-123"})["accessToken"].(string)
	owner.must(204, "DELETE", "/api/calendar/feed", nil)
	if code, _ := fetch(second); code != 404 {
		t.Fatalf("a revoked URL: %d, want 404", code)
	}
}
