package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/room"
)

// GuestCookie is the cookie that keeps a browser's guest id across guest joins, so that a
// guest's identity in a room (and a ban of it) holds from one join to the next.
const GuestCookie = "parley_guest"

// guestCookieAge is how long a browser keeps its guest id (about 400 days, the longest a
// browser accepts).
const guestCookieAge = 400 * 24 * time.Hour

// guestIDs signs and reads the guest cookie: "<id>.<HMAC-SHA256 of the id>", so a browser
// can drop its id but never pick another guest's.
type guestIDs struct{ key []byte }

func newGuestIDs(key []byte) guestIDs {
	if len(key) == 0 { // tests; the server derives a stable key from auth.jwtSecret
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return guestIDs{key: key}
}

func (g guestIDs) sign(id string) string {
	m := hmac.New(sha256.New, g.key)
	m.Write([]byte("parley_guest:" + id))
	return id + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// id is the guest id of a well-signed cookie value, else "".
func (g guestIDs) id(cookie string) string {
	id, _, ok := strings.Cut(cookie, ".")
	if !ok || len(cookie) > 200 || !hmac.Equal([]byte(g.sign(id)), []byte(cookie)) {
		return ""
	}
	return id
}

// guestID is the caller's guest id: the cookie's, or a new one (set by rememberGuest).
func (s *server) guestID(c *fiber.Ctx) (id string, isNew bool) {
	if id := s.guests.id(c.Cookies(GuestCookie)); id != "" {
		return id, false
	}
	return room.NewGuestID(), true
}

// rememberGuest sets the guest cookie: HttpOnly (scripts never see it), Secure when the
// request came over TLS, SameSite=Lax (sent on same-site requests and top-level visits).
func (s *server) rememberGuest(c *fiber.Ctx, id string) {
	c.Cookie(&fiber.Cookie{Name: GuestCookie, Value: s.guests.sign(id), Path: "/",
		MaxAge: int(guestCookieAge / time.Second), HTTPOnly: true, Secure: c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteLaxMode})
}
