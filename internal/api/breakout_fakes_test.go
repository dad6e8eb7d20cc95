package api

import (
	"context"

	"github.com/livekit/protocol/livekit"
	"github.com/parley/parley/internal/room"
)

// noAttendees and noData stand in for the live attendees and LiveKit's data messages where a
// test needs the breakout routes but moves nobody for real (server/breakout_test.go does).
type (
	noAttendees struct{}
	noData      struct{}
)

func (noAttendees) Attendees(context.Context, string) ([]room.Attendee, error) { return nil, nil }

func (noData) SendData(context.Context, *livekit.SendDataRequest) (*livekit.SendDataResponse, error) {
	return &livekit.SendDataResponse{}, nil
}

func breakoutFakes() room.BreakoutOptions {
	return room.BreakoutOptions{Attendees: noAttendees{}, Data: noData{}, Notify: func(string) {}}
}
