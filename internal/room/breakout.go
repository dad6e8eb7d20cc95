package room

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livekit/protocol/livekit"
	lk "github.com/parley/parley/internal/livekit"
)

// Breakout rooms. A moderator splits the people in a meeting into numbered breakout rooms,
// each a LiveKit room of its own (named BreakoutRoomName, so it lives on whichever node of a
// LiveKit cluster LiveKit picks). Nobody is moved by force: Parley sends each person a data
// message on BreakoutTopic and their app asks JoinBreakout where to go, which answers a
// token for their breakout room, or for the main room once the breakouts end. The
// assignments live in the database, so every instance answers alike; a timer ends them.

// BreakoutTopic is the LiveKit data topic of Parley's move messages: `{"breakout": n}`, n
// the room to go to (0: the main room).
const BreakoutTopic = "parley.breakout"

// MaxBreakouts bounds the rooms of one split; maxBreakoutTime the timer.
const (
	MaxBreakouts    = 50
	maxBreakoutTime = 24 * time.Hour
)

// Breakout errors.
var (
	ErrBreakoutsRunning = errors.New("breakout rooms already running")
	ErrNoBreakouts      = errors.New("no breakout rooms running")
)

const breakoutSep = "_breakout_" // "_" never appears in a Parley room name

// BreakoutRoomName is the LiveKit room of breakout n of a room.
func BreakoutRoomName(main string, n int) string { return main + breakoutSep + strconv.Itoa(n) }

// MainRoomName is the Parley room a LiveKit room belongs to, and its breakout number (0:
// the main room itself).
func MainRoomName(lkRoom string) (string, int) {
	main, n, ok := strings.Cut(lkRoom, breakoutSep)
	if !ok {
		return lkRoom, 0
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 1 {
		return lkRoom, 0
	}
	return main, i
}

// Attendee is someone in a meeting now.
type Attendee struct {
	Identity string
	Name     string
	Role     string
}

// Attendees lists who is in a LiveKit room now (the live state).
type Attendees interface {
	Attendees(ctx context.Context, room string) ([]Attendee, error)
}

// DataSender sends LiveKit data packets (server-sdk-go's RoomServiceClient.SendData).
type DataSender interface {
	SendData(ctx context.Context, req *livekit.SendDataRequest) (*livekit.SendDataResponse, error)
}

// BreakoutOptions are what breakouts need beyond the room service.
type BreakoutOptions struct {
	Attendees Attendees
	Data      DataSender
	// Notify tells the moderators' apps that the room's split changed.
	Notify func(room string)
}

// UseBreakouts enables breakout rooms; call it before serving.
func (s *Service) UseBreakouts(o BreakoutOptions) error {
	if o.Attendees == nil || o.Data == nil || o.Notify == nil {
		return errors.New("room: breakouts need the live attendees and LiveKit's data messages")
	}
	s.breakout = o
	return nil
}

// BreakoutPlan is a split: Rooms rooms, the people of Assign (identity -> 1..Rooms) where
// it says; with Random, everyone else in the meeting who does not moderate it is dealt
// among the rooms. Duration (0: none) ends the breakouts on its own.
type BreakoutPlan struct {
	Rooms    int
	Assign   map[string]int
	Random   bool
	Duration time.Duration
}

// Breakouts is a running split.
type Breakouts struct {
	Rooms     int
	EndsAt    *time.Time
	Members   map[string]int // identity -> room
	StartedAt time.Time
}

// StartBreakouts splits the meeting (moderators) and sends everyone assigned to their room.
func (s *Service) StartBreakouts(ctx context.Context, name string, c Caller, p BreakoutPlan) (Breakouts, error) {
	a, err := s.requireModerator(ctx, name, c, "start breakout rooms")
	if err != nil {
		return Breakouts{}, err
	}
	if s.breakout.Data == nil {
		return Breakouts{}, fmt.Errorf("room %q: breakouts: %w", name, ErrUnavailable)
	}
	if p.Rooms < 1 || p.Rooms > MaxBreakouts {
		return Breakouts{}, fieldErr("rooms", "must be from 1 to %d, got %d", MaxBreakouts, p.Rooms)
	}
	if p.Duration < 0 || p.Duration > maxBreakoutTime {
		return Breakouts{}, fieldErr("durationMinutes", "must be from 0 (no timer) to %d", int(maxBreakoutTime/time.Minute))
	}
	if _, _, running, err := s.st.breakouts(ctx, a.Room.ID); err != nil || running {
		return Breakouts{}, orErr(err, fmt.Errorf("room %q: %w", name, ErrBreakoutsRunning))
	}
	members := map[string]int{}
	for id, n := range p.Assign {
		if n < 1 || n > p.Rooms {
			return Breakouts{}, fieldErr("assign", "%q: room %d is not one of 1..%d", id, n, p.Rooms)
		}
		members[id] = n
	}
	if p.Random {
		here, err := s.breakout.Attendees.Attendees(ctx, name)
		if err != nil {
			return Breakouts{}, fmt.Errorf("room %q: breakouts: live state: %w", name, err)
		}
		var deal []string
		for _, at := range here {
			if _, set := members[at.Identity]; !set && at.Role != RoleOwner && at.Role != RoleModerator {
				deal = append(deal, at.Identity)
			}
		}
		slices.Sort(deal)
		rand.Shuffle(len(deal), func(i, j int) { deal[i], deal[j] = deal[j], deal[i] })
		for i, id := range deal {
			members[id] = i%p.Rooms + 1
		}
	}
	if len(members) == 0 {
		return Breakouts{}, fieldErr("assign", "nobody to send to a breakout room: assign people, or set random with people in the meeting")
	}
	for n := 1; n <= p.Rooms; n++ {
		if err := s.createBreakoutRoom(ctx, a.Room, n); err != nil {
			return Breakouts{}, err
		}
	}
	now := s.now().UTC()
	row := breakoutRow{RoomID: a.Room.ID, Rooms: p.Rooms, StartedBy: c.UserID, CreatedAt: now}
	if p.Duration > 0 {
		ends := now.Add(p.Duration)
		row.EndsAt = &ends
	}
	if err := s.st.startBreakouts(ctx, row, members); err != nil {
		return Breakouts{}, fmt.Errorf("room %q: %w", name, err)
	}
	byRoom := map[int][]string{}
	for id, n := range members {
		byRoom[n] = append(byRoom[n], id)
	}
	for n, ids := range byRoom {
		s.sendMove(ctx, name, n, ids)
	}
	s.log.Info("breakout rooms started", "room", name, "rooms", p.Rooms, "people", len(members), "by", c.UserID)
	if row.EndsAt != nil {
		select {
		case s.breakoutKick <- struct{}{}:
		default:
		}
	}
	s.breakout.Notify(name)
	return Breakouts{Rooms: row.Rooms, EndsAt: row.EndsAt, Members: members, StartedAt: now}, nil
}

// moveResends are when a move message is sent again after the first: LiveKit drops data
// for a participant whose data channel is not open yet (one that just reconnected, moved
// back a moment ago), and a repeat costs nothing (the app ignores a move to where it is).
var moveResends = []time.Duration{time.Second, 3 * time.Second}

// sendMove tells people in LiveKit room lkRoom to go to breakout n (0: the main room), now
// and again at moveResends; failures are logged: the app also asks where to go when it
// (re)connects.
func (s *Service) sendMove(ctx context.Context, lkRoom string, n int, identities []string) {
	data, _ := json.Marshal(map[string]int{"breakout": n})
	topic := BreakoutTopic
	send := func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := s.breakout.Data.SendData(ctx, &livekit.SendDataRequest{Room: lkRoom, Data: data, Kind: livekit.DataPacket_RELIABLE,
			Topic: &topic, DestinationIdentities: identities})
		if err != nil && !lk.IsNotFound(err) {
			s.log.Warn("could not send the breakout move", "room", lkRoom, "to", n, "err", err)
		}
	}
	send(ctx)
	go func() { // bounded: ends after the last resend
		ctx := context.WithoutCancel(ctx)
		start := time.Now()
		for _, at := range moveResends {
			time.Sleep(time.Until(start.Add(at)))
			send(ctx)
		}
	}()
}

func (s *Service) createBreakoutRoom(ctx context.Context, r Room, n int) error {
	md, _ := json.Marshal(map[string]any{"id": r.ID, "title": fmt.Sprintf("%s · room %d", r.Title, n), "breakout": n})
	_, err := s.lk.CreateRoom(ctx, &livekit.CreateRoomRequest{Name: BreakoutRoomName(r.Name, n),
		EmptyTimeout: uint32(s.cfg.EmptyTimeout / time.Second), DepartureTimeout: uint32(s.cfg.DepartureTimeout / time.Second),
		Metadata: string(md)})
	return lkErr(err, nil, "room %q: create breakout room %d", r.Name, n)
}

// CurrentBreakouts is the running split (moderators); ErrNoBreakouts when none runs.
func (s *Service) CurrentBreakouts(ctx context.Context, name string, c Caller) (Breakouts, error) {
	a, err := s.requireModerator(ctx, name, c, "see breakout rooms")
	if err != nil {
		return Breakouts{}, err
	}
	row, members, ok, err := s.st.breakouts(ctx, a.Room.ID)
	if err != nil {
		return Breakouts{}, fmt.Errorf("room %q: %w", name, err)
	}
	if !ok {
		return Breakouts{}, fmt.Errorf("room %q: %w", name, ErrNoBreakouts)
	}
	return Breakouts{Rooms: row.Rooms, EndsAt: row.EndsAt, Members: members, StartedAt: row.CreatedAt}, nil
}

// JoinBreakout answers where the caller belongs now, with a fresh token: their breakout room
// while the split runs, else the main room. A moderator may ask for any room (want; 0: the
// main room, -1: wherever they are assigned). Every join rule of Join applies first.
func (s *Service) JoinBreakout(ctx context.Context, name string, c Caller, req JoinRequest, want int) (Grant, error) {
	g, err := s.Join(ctx, name, c, req)
	if err != nil || g.Lobby != nil {
		return g, err
	}
	row, members, ok, err := s.st.breakouts(ctx, g.Room.ID)
	if err != nil {
		return Grant{}, fmt.Errorf("room %q: %w", name, err)
	}
	n := members[g.Identity]
	mod := g.Role == RoleOwner || g.Role == RoleModerator
	if mod && want >= 0 {
		n = want
	}
	if !ok || n < 1 || n > row.Rooms {
		return g, nil // the main room
	}
	lkRoom := BreakoutRoomName(name, n)
	if err := s.createBreakoutRoom(ctx, g.Room.Room, n); err != nil {
		return Grant{}, err
	}
	perms := g.Room.Defaults
	if mod {
		perms = Permissions{CanPublish: true, CanSubscribe: true, CanPublishData: true, Sources: AllSources()}
	}
	g.Token, err = s.mint(lkRoom, g.Identity, g.Name, g.meta, perms)
	if err != nil {
		return Grant{}, fmt.Errorf("room %q: sign breakout token: %w", name, err)
	}
	g.Breakout, g.BreakoutEndsAt = n, row.EndsAt
	return g, nil
}

// EndBreakouts calls everyone back to the main room (moderators).
func (s *Service) EndBreakouts(ctx context.Context, name string, c Caller) error {
	a, err := s.requireModerator(ctx, name, c, "end breakout rooms")
	if err != nil {
		return err
	}
	ended, err := s.closeBreakouts(ctx, a.Room, false)
	if err == nil && !ended {
		err = fmt.Errorf("room %q: %w", name, ErrNoBreakouts)
	}
	return err
}

// closeBreakouts ends the room's split and tells everyone in a breakout room to come back;
// with remove (the main meeting ended) the breakout rooms are closed instead.
func (s *Service) closeBreakouts(ctx context.Context, r Room, remove bool) (bool, error) {
	row, _, ok, err := s.st.breakouts(ctx, r.ID)
	if err != nil || !ok {
		return false, err
	}
	ended, err := s.st.endBreakouts(ctx, r.ID)
	if err != nil || !ended {
		return false, err
	}
	for n := 1; n <= row.Rooms; n++ {
		lkRoom := BreakoutRoomName(r.Name, n)
		if remove {
			if _, err := s.lk.DeleteRoom(ctx, &livekit.DeleteRoomRequest{Room: lkRoom}); err != nil && !lk.IsNotFound(err) {
				s.log.Warn("could not close a breakout room", "room", lkRoom, "err", err)
			}
			continue
		}
		s.sendMove(ctx, lkRoom, 0, nil)
	}
	s.log.Info("breakout rooms ended", "room", r.Name, "rooms", row.Rooms, "meeting_ended", remove)
	if s.breakout.Notify != nil {
		s.breakout.Notify(r.Name)
	}
	return true, nil
}

// breakoutRecheck is the longest the breakout timer sleeps without reading the timers: a
// split started on another instance, whose own timer stopped with it, ends at most this late.
const breakoutRecheck = 10 * time.Second

// RunBreakoutTimer ends splits whose timer ran out, until ctx ends. It sleeps until the
// next timer's end (woken early when this instance starts a split), instead of reading the
// database every second. Every instance runs it; the conditional delete lets one of them
// call the people back.
func (s *Service) RunBreakoutTimer(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.breakoutKick:
		}
		t.Reset(s.endDueBreakouts(ctx))
	}
}

// endDueBreakouts ends the splits whose timer ran out and says how long until the next end.
func (s *Service) endDueBreakouts(ctx context.Context) time.Duration {
	rows, err := s.st.breakoutTimers(ctx)
	if err != nil {
		s.log.Debug("breakout timer: read", "err", err)
		return time.Second
	}
	wait, now := breakoutRecheck, s.now()
	for _, row := range rows {
		if left := row.EndsAt.Sub(now); left > 0 {
			wait = min(wait, left)
			continue
		}
		e, err := s.st.loadRoomByID(ctx, row.RoomID)
		if err == nil {
			_, err = s.closeBreakouts(ctx, e.room, false)
		}
		if err != nil {
			s.log.Warn("breakout timer: could not end the breakout rooms", "room_id", row.RoomID, "err", err)
			wait = min(wait, time.Second) // tried again soon, as a due timer should be
		}
	}
	return wait
}
