// Package ref holds the benchmark's reference servers: the least work a join or a webhook
// can cost, with no database. Parley's throughput is reported as a ratio of theirs, which
// stays comparable when the shared machine's absolute speed drifts.
package ref

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/golang-jwt/jwt/v5"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
)

// Keys are the secrets a reference server checks and signs with.
type Keys struct {
	JWTSecret     string // HS256 secret of the bearer access tokens
	LiveKitKey    string
	LiveKitSecret string
	LiveKitURL    string // returned in join answers
}

// New returns the Fiber app for kind "join", "me" or "webhook".
func New(kind string, k Keys) (*fiber.App, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: 1 << 20})
	switch kind {
	case "join":
		app.Post("/api/rooms/:name/join", joinHandler(k))
	case "webhook":
		app.Post("/api/livekit/webhook", webhookHandler(k))
	case "me":
		app.Get("/api/auth/me", meHandler(k))
	default:
		return nil, fmt.Errorf("ref: unknown kind %q (want join, me or webhook)", kind)
	}
	return app, nil
}

// SignAccess makes the bearer token the join reference accepts.
func SignAccess(secret, userID string, ttl time.Duration) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": userID, "exp": time.Now().Add(ttl).Unix(), "iat": time.Now().Unix(),
	}).SignedString([]byte(secret))
}

// bearerSubject returns a function verifying the request's bearer HS256 JWT and giving its
// subject.
func bearerSubject(k Keys) func(c *fiber.Ctx) (string, bool) {
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	keyFn := func(*jwt.Token) (any, error) { return []byte(k.JWTSecret), nil }
	return func(c *fiber.Ctx) (string, bool) {
		h := c.Get(fiber.HeaderAuthorization)
		if len(h) < 8 || h[:7] != "Bearer " {
			return "", false
		}
		tok, err := parser.Parse(h[7:], keyFn)
		if err != nil {
			return "", false
		}
		sub, _ := tok.Claims.GetSubject()
		return sub, true
	}
}

type joinBody struct {
	DisplayName string `json:"displayName"`
	InviteCode  string `json:"inviteCode"`
}

// joinHandler verifies the bearer JWT, binds the body strictly and signs a LiveKit token.
func joinHandler(k Keys) fiber.Handler {
	bearer := bearerSubject(k)
	return func(c *fiber.Ctx) error {
		sub, ok := bearer(c)
		if !ok {
			return c.Status(401).JSON(fiber.Map{"error": fiber.Map{"code": "unauthorized"}})
		}
		var b joinBody
		if len(c.Body()) > 0 {
			dec := json.NewDecoder(bytes.NewReader(c.Body()))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&b); err != nil {
				return c.Status(400).JSON(fiber.Map{"error": fiber.Map{"code": "invalid_body"}})
			}
		}
		room := c.Params("name")
		name := b.DisplayName
		if name == "" {
			name = sub
		}
		lk, err := auth.NewAccessToken(k.LiveKitKey, k.LiveKitSecret).
			SetIdentity(sub).SetName(name).SetValidFor(10 * time.Minute).
			SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room}).ToJWT()
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"token": lk, "url": k.LiveKitURL, "identity": sub, "name": name,
			"role": "participant", "room": fiber.Map{"name": room}})
	}
}

// meHandler verifies the bearer JWT and answers the user as JSON: GET /api/auth/me with
// the user known without a database.
func meHandler(k Keys) fiber.Handler {
	bearer := bearerSubject(k)
	return func(c *fiber.Ctx) error {
		sub, ok := bearer(c)
		if !ok {
			return c.Status(401).JSON(fiber.Map{"error": fiber.Map{"code": "unauthorized"}})
		}
		return c.JSON(fiber.Map{"user": fiber.Map{"id": sub, "email": "bench-user@example.com",
			"name": "bench user", "role": "user", "createdAt": time.Unix(0, 0).UTC()}})
	}
}

var errChecksum = errors.New("checksum mismatch")

// webhookHandler does what LiveKit's webhook.ReceiveWebhookEvent does: verify the JWT in
// Authorization, compare its sha256 claim with the body, decode protojson.
func webhookHandler(k Keys) fiber.Handler {
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	return func(c *fiber.Ctx) error {
		v, err := auth.ParseAPIToken(c.Get(fiber.HeaderAuthorization))
		if err != nil || v.APIKey() != k.LiveKitKey {
			return c.SendStatus(401)
		}
		_, claims, err := v.Verify(k.LiveKitSecret)
		if err != nil {
			return c.SendStatus(401)
		}
		sum := sha256.Sum256(c.Body())
		if subtle.ConstantTimeCompare([]byte(claims.Sha256), []byte(base64.StdEncoding.EncodeToString(sum[:]))) != 1 {
			return c.Status(401).SendString(errChecksum.Error())
		}
		var ev livekit.WebhookEvent
		if err := opts.Unmarshal(c.Body(), &ev); err != nil {
			return c.SendStatus(400)
		}
		return c.SendStatus(200)
	}
}
