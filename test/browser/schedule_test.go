package browser

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// setInput sets an input's value the way typing would (React hears the input event);
// datetime-local and number inputs take no keystrokes in a known layout.
func (p *page) setInput(sel, value string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`(() => {
  const el = document.querySelector(%q);
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, %q);
  el.dispatchEvent(new Event('input', { bubbles: true }));
  return true;
})()`, sel, value))
}

// fetchICS reads an .ics URL the page asked for (its access token is in the URL) and parses it.
func fetchICS(t *testing.T, s *server, url string) (int, *ical.Calendar, string) {
	t.Helper()
	res, err := s.client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return res.StatusCode, nil, string(b)
	}
	cal, err := ical.NewDecoder(strings.NewReader(string(b))).Decode()
	if err != nil {
		t.Fatalf("%s does not parse: %v\n%s", url, err, b)
	}
	return 200, cal, string(b)
}

// TestSchedulePanel: from the rooms page, Chromium plans a weekly meeting and sees its next
// occurrences, downloads one as .ics (a real iCalendar parser reads it), renames the
// meeting, cancels one occurrence (it leaves the list), and makes a calendar subscription
// link that works with no cookie, then replaces it (the old link answers 404).
func TestSchedulePanel(t *testing.T) {
	browser := newBrowser(t)
	s := startParley(t)
	owner := newPage(t, browser, s, "planner")
	owner.register("Paula Planner", uniq("paula")+"@example.com")
	room := owner.createRoom("Standup "+uniq(""), false, false)
	owner.navigate("/")
	item := `[data-testid=room-item][data-room="` + room + `"]`
	owner.click(item + ` [data-testid=schedule-toggle]`)
	form := item + ` [data-testid=schedule-form]`
	owner.waitVisible(form, 10*time.Second)
	// Next week, 09:00 to 09:30 in the browser's own time zone.
	day := owner.evalString(`(() => { const d = new Date(); d.setDate(d.getDate() + 7);
  return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0'); })()`)
	owner.fill(form+` input[name=title]`, "Weekly standup")
	owner.setInput(form+` input[name=start]`, day+"T09:00")
	owner.setInput(form+` input[name=end]`, day+"T09:30")
	owner.click(form + ` input[name=weekly]`)
	owner.setInput(form+` input[name=count]`, "4")
	owner.screenshot("schedule-form")
	owner.click(form + ` [data-testid=schedule-form-submit]`)
	sched := item + ` [data-testid=schedule-item]`
	occ := sched + ` [data-testid=occurrence]`
	count := func(n int) string {
		return fmt.Sprintf(`document.querySelectorAll(%q).length === %d`, occ, n)
	}
	owner.waitJS("four occurrences listed", count(4), 10*time.Second)
	owner.screenshot("scheduled")
	starts := func() []string {
		return strings.Split(owner.evalString(fmt.Sprintf(`[...document.querySelectorAll(%q)].map((e) => e.dataset.start).join(' ')`, occ)), " ")
	}
	first := starts()

	// Download the first occurrence's .ics.
	owner.click(occ + ` [data-testid=occurrence-ics]`)
	var icsURL string
	for deadline := time.Now().Add(10 * time.Second); icsURL == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, u := range owner.requested() {
			if strings.Contains(u, "/ics?start=") {
				icsURL = u
			}
		}
	}
	if icsURL == "" {
		t.Fatal("the .ics button asked for no .ics")
	}
	code, cal, body := fetchICS(t, s, icsURL)
	if code != 200 || len(cal.Events()) != 1 {
		t.Fatalf("the downloaded .ics: %d\n%s", code, body)
	}
	at, err := cal.Events()[0].DateTimeStart(time.UTC)
	want, _ := time.Parse(time.RFC3339, first[0])
	if err != nil || !at.Equal(want) {
		t.Fatalf("the .ics starts at %v (%v), the list says %v", at, err, want)
	}
	if sum, _ := cal.Events()[0].Props.Text(ical.PropSummary); sum != "Weekly standup" {
		t.Errorf("the .ics is for %q", sum)
	}
	if owner.evalString(`location.pathname`) != "/" {
		owner.navigate("/")
		owner.click(item + ` [data-testid=schedule-toggle]`)
	}

	// Rename it.
	owner.click(sched + ` [data-testid=schedule-edit]`)
	edit := sched + ` [data-testid=schedule-edit-form]`
	owner.setInput(edit+` input[name=title]`, "Daily-ish standup")
	owner.click(edit + ` [data-testid=schedule-edit-form-submit]`)
	owner.waitJS("renamed", fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? '').includes('Daily-ish standup') && !document.querySelector(%q)`, sched, edit), 10*time.Second)
	owner.waitJS("still four occurrences", count(4), 10*time.Second)

	// Cancel the second occurrence.
	second := fmt.Sprintf(`%s[data-start="%s"]`, occ, first[1])
	owner.click(second + ` [data-testid=occurrence-cancel]`)
	owner.click(second + ` [data-testid=occurrence-cancel-confirm]`)
	owner.waitJS("three occurrences left", count(3), 10*time.Second)
	if left := starts(); strings.Contains(strings.Join(left, " "), first[1]) || left[0] != first[0] {
		t.Fatalf("after cancelling %s the list is %v", first[1], left)
	}
	if code, _, _ := fetchICS(t, s, strings.Replace(icsURL, "start="+strings.ReplaceAll(first[0], ":", "%3A"), "start="+strings.ReplaceAll(first[1], ":", "%3A"), 1)); code != 404 {
		t.Errorf("the cancelled occurrence's .ics answers %d, want 404", code)
	}
	owner.screenshot("one-cancelled")

	// A calendar subscription link, then a new one.
	feed := `[data-testid=calendar-feed]`
	owner.click(feed + ` [data-testid=calendar-feed-create]`)
	owner.waitVisible(`[data-testid=calendar-feed-url]`, 10*time.Second)
	link := owner.evalString(`document.querySelector('[data-testid=calendar-feed-url]').value`)
	code, cal, body = fetchICS(t, s, link)
	if code != 200 || len(cal.Events()) != 3 {
		t.Fatalf("the subscription link: %d, want 3 events\n%s", code, body)
	}
	owner.screenshot("feed-link")
	owner.click(feed + ` [data-testid=calendar-feed-rotate]`)
	owner.click(feed + ` [data-testid=calendar-feed-rotate-confirm]`)
	owner.waitJS("a new link", fmt.Sprintf(`(document.querySelector('[data-testid=calendar-feed-url]')?.value ?? %q) !== %q`, link, link), 10*time.Second)
	if code, _, _ := fetchICS(t, s, link); code != 404 {
		t.Errorf("the replaced link answers %d, want 404", code)
	}
	if code, _, _ := fetchICS(t, s, owner.evalString(`document.querySelector('[data-testid=calendar-feed-url]').value`)); code != 200 {
		t.Errorf("the new link answers %d", code)
	}
	owner.noConsoleErrors("the schedule panel")
}
