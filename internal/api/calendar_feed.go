package api

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/httpx"
	"github.com/parley/parley/internal/room"
)

// FeedService is the per-user secret calendar feed URL (*room.Service).
type FeedService interface {
	RotateFeed(ctx context.Context, c room.Caller) (string, time.Time, error)
	Feed(ctx context.Context, c room.Caller) (time.Time, bool, error)
	DeleteFeed(ctx context.Context, c room.Caller) error
	FeedOwner(ctx context.Context, token string) (string, error)
}

type feedJSON struct {
	Exists    bool       `json:"exists"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	// URL is set only in the answer that made the token: it is not stored.
	URL string `json:"url,omitempty"`
}

func feedURL(c *fiber.Ctx, token string) string {
	return c.BaseURL() + "/api/calendar/feed/" + token + "/parley.ics"
}

func (s *server) getFeed(c *fiber.Ctx) error {
	at, ok, err := s.d.Rooms.Feed(c.UserContext(), callerOf(c))
	if err != nil {
		return roomError(err)
	}
	out := feedJSON{Exists: ok}
	if ok {
		out.CreatedAt = &at
	}
	return c.JSON(out)
}

func (s *server) rotateFeed(c *fiber.Ctx) error {
	token, at, err := s.d.Rooms.RotateFeed(c.UserContext(), callerOf(c))
	if err != nil {
		return roomError(err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(feedJSON{Exists: true, CreatedAt: &at, URL: feedURL(c, token)})
}

func (s *server) deleteFeed(c *fiber.Ctx) error {
	if err := s.d.Rooms.DeleteFeed(c.UserContext(), callerOf(c)); err != nil {
		return roomError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// tokenFeed is the calendar feed of the token's owner, for calendar apps: the token in the
// path is the only credential. An unknown, rotated or revoked token, and a disabled
// account's, answer 404 alike.
func (s *server) tokenFeed(c *fiber.Ctx) error {
	notFound := httpx.NotFound("feed_not_found", "no such calendar feed (it may have been replaced by a new link)")
	uid, err := s.d.Rooms.FeedOwner(c.UserContext(), c.Params("token"))
	if errors.Is(err, room.ErrFeedNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	u, err := s.d.Auth.User(c.UserContext(), uid)
	if err != nil || u.Disabled {
		return notFound
	}
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return s.sendFeed(c, room.Caller{UserID: u.ID, Admin: u.Role == "admin"}, u.Email)
}
