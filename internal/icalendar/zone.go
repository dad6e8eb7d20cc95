package icalendar

import (
	"fmt"
	"time"
)

// zoneYears is how many years after a series' first start its VTIMEZONE lists the
// zone's offset changes: calendars need the zone's rules to place a TZID time, and Go's
// tzdata gives transitions, not the rules, so they are written out one by one.
const zoneYears = 10

// writeZone writes the VTIMEZONE of an IANA zone: the offset in force a day before from,
// then every change up to zoneYears later (RFC 5545 3.6.5, one observance per change).
func writeZone(line func(string), name string, from time.Time) {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return
	}
	line("BEGIN:VTIMEZONE")
	line("TZID:" + name)
	at := from.Add(-24 * time.Hour).In(loc)
	abbr, off := at.Zone()
	observance(line, at.IsDST(), abbr, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), off, off)
	end := from.AddDate(zoneYears, 0, 0)
	for d := at; d.Before(end); d = d.Add(24 * time.Hour) {
		next := d.Add(24 * time.Hour).In(loc)
		if _, o := next.Zone(); o == off {
			continue
		}
		lo, hi := d, next // the change is in (lo, hi]
		for hi.Sub(lo) > time.Minute {
			mid := lo.Add(hi.Sub(lo) / 2)
			if _, o := mid.In(loc).Zone(); o == off {
				lo = mid
			} else {
				hi = mid
			}
		}
		change := hi.Truncate(time.Minute).In(loc)
		abbr, o := change.Zone()
		// DTSTART is the onset as a local time in the offset before the change.
		observance(line, change.IsDST(), abbr, change.In(time.FixedZone("", off)), off, o)
		off = o
	}
	line("END:VTIMEZONE")
}

func observance(line func(string), dst bool, abbr string, start time.Time, from, to int) {
	kind := "STANDARD"
	if dst {
		kind = "DAYLIGHT"
	}
	line("BEGIN:" + kind)
	line("DTSTART:" + start.Format(localForm))
	line("TZOFFSETFROM:" + offset(from))
	line("TZOFFSETTO:" + offset(to))
	if abbr != "" {
		line("TZNAME:" + Escape(abbr))
	}
	line("END:" + kind)
}

func offset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec/60%60)
}
