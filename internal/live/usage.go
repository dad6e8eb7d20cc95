package live

import (
	"context"
	"sort"
	"time"
)

// Usage sums participant sessions over a window: participant minutes overall, per UTC day,
// per room and per user, and the most sessions open at one moment.
type Usage struct {
	Since              time.Time
	ParticipantMinutes float64
	PeakConcurrency    int
	Sessions           int
	Daily              []DailyUsage
	ByRoom             []KeyMinutes
	ByUser             []KeyMinutes
}

// DailyUsage is one UTC day's participant minutes.
type DailyUsage struct {
	Date               string
	ParticipantMinutes float64
}

// KeyMinutes is participant minutes of one room or user.
type KeyMinutes struct {
	Key                string
	ParticipantMinutes float64
}

// Usage computes the figures for sessions overlapping [since, now]; open sessions count up
// to now. Guests (no user id) appear under their identity prefixed with "guest:".
func (s *Service) Usage(ctx context.Context, since time.Time) (Usage, error) {
	now := s.now().UnixMilli()
	from := since.UnixMilli()
	u := Usage{Since: since.UTC(), Daily: []DailyUsage{}, ByRoom: []KeyMinutes{}, ByUser: []KeyMinutes{}}
	rows, err := s.st.db.QueryContext(ctx, s.st.q(`SELECT room, identity, user_id, joined_at, left_at FROM live_participants
		WHERE hidden = 0 AND joined_at > 0 AND joined_at <= ? AND (left_at = 0 OR left_at >= ?)`), now, from)
	if err != nil {
		return u, wrapUnavailable("usage", err)
	}
	defer rows.Close()
	type edge struct {
		at    int64
		delta int
	}
	var edges []edge
	daily, byRoom, byUser := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for rows.Next() {
		var room, identity, user string
		var joined, left int64
		if err := rows.Scan(&room, &identity, &user, &joined, &left); err != nil {
			return u, wrapUnavailable("usage", err)
		}
		end := left
		if end == 0 || end > now {
			end = now
		}
		start := max(joined, from)
		if end < start {
			continue
		}
		u.Sessions++
		edges = append(edges, edge{start, 1}, edge{end, -1})
		mins := float64(end-start) / 60000
		u.ParticipantMinutes += mins
		byRoom[room] += mins
		if user == "" {
			user = "guest:" + identity
		}
		byUser[user] += mins
		splitDays(start, end, daily)
	}
	if err := rows.Err(); err != nil {
		return u, wrapUnavailable("usage", err)
	}
	// Ends sort before starts at the same instant: back-to-back sessions are not concurrent.
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at != edges[j].at {
			return edges[i].at < edges[j].at
		}
		return edges[i].delta < edges[j].delta
	})
	cur := 0
	for _, e := range edges {
		cur += e.delta
		u.PeakConcurrency = max(u.PeakConcurrency, cur)
	}
	for d, m := range daily {
		u.Daily = append(u.Daily, DailyUsage{Date: d, ParticipantMinutes: m})
	}
	sort.Slice(u.Daily, func(i, j int) bool { return u.Daily[i].Date < u.Daily[j].Date })
	u.ByRoom, u.ByUser = sortedMinutes(byRoom), sortedMinutes(byUser)
	return u, nil
}

// splitDays adds the minutes of [start, end] (unix ms) to each UTC day it covers.
func splitDays(start, end int64, daily map[string]float64) {
	for start < end {
		t := msTime(start)
		next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC).UnixMilli()
		stop := min(next, end)
		daily[t.Format(time.DateOnly)] += float64(stop-start) / 60000
		start = stop
	}
}

func sortedMinutes(m map[string]float64) []KeyMinutes {
	out := make([]KeyMinutes, 0, len(m))
	for k, v := range m {
		out = append(out, KeyMinutes{Key: k, ParticipantMinutes: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ParticipantMinutes != out[j].ParticipantMinutes {
			return out[i].ParticipantMinutes > out[j].ParticipantMinutes
		}
		return out[i].Key < out[j].Key
	})
	return out
}
