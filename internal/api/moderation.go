package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
)

// Moderation routes: RoomService checks that the caller moderates the room.

func (s *server) kick(c *fiber.Ctx) error {
	var b struct {
		Ban    bool   `json:"ban"`
		Reason string `json:"reason"`
	}
	if err := httpx.BindOptionalJSON(c, &b); err != nil {
		return err
	}
	err := s.d.Rooms.Kick(c.UserContext(), c.Params("name"), c.Params("identity"), b.Ban, b.Reason, callerOf(c))
	if err != nil {
		return roomError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) mute(c *fiber.Ctx) error {
	var b struct {
		Source string `json:"source"`
		Muted  *bool  `json:"muted"`
	}
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	muted := b.Muted == nil || *b.Muted
	if err := s.d.Rooms.Mute(c.UserContext(), c.Params("name"), c.Params("identity"), b.Source, muted, callerOf(c)); err != nil {
		return roomError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) setPermissions(c *fiber.Ctx) error {
	var b permissionsBody
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	p, err := s.d.Rooms.SetPermissions(c.UserContext(), c.Params("name"), c.Params("identity"), *b.input(), callerOf(c))
	if err != nil {
		return roomError(err)
	}
	return c.JSON(fromRoomParticipant(p))
}

func (s *server) addModerator(c *fiber.Ctx) error {
	if err := s.d.Rooms.AddModerator(c.UserContext(), c.Params("name"), c.Params("userId"), callerOf(c)); err != nil {
		return roomError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) removeModerator(c *fiber.Ctx) error {
	if err := s.d.Rooms.RemoveModerator(c.UserContext(), c.Params("name"), c.Params("userId"), callerOf(c)); err != nil {
		return roomError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) endMeeting(c *fiber.Ctx) error {
	if err := s.d.Rooms.End(c.UserContext(), c.Params("name"), callerOf(c)); err != nil {
		return roomError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
