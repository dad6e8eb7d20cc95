// Package httpx holds the HTTP conventions every Parley route shares: the error shape,
// strict JSON binding, the authenticated principal and list pagination. It is the only
// place where those conventions are written down in code.
package httpx

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/fielderr"
)

// Error is an API error: an HTTP status, a stable machine code and a safe human message.
type Error struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int
	// cause is logged, never sent to the client.
	cause error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap exposes the cause for errors.Is/As.
func (e *Error) Unwrap() error { return e.cause }

// NewError builds an API error.
func NewError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithCause attaches the underlying error, for the log only.
func (e *Error) WithCause(err error) *Error { e.cause = err; return e }

// Shorthands for the statuses of docs/API.md.
func BadRequest(code, format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, code, format, args...)
}
func Unauthorized(code, format string, args ...any) *Error {
	return NewError(http.StatusUnauthorized, code, format, args...)
}
func Forbidden(code, format string, args ...any) *Error {
	return NewError(http.StatusForbidden, code, format, args...)
}
func NotFound(code, format string, args ...any) *Error {
	return NewError(http.StatusNotFound, code, format, args...)
}
func Conflict(code, format string, args ...any) *Error {
	return NewError(http.StatusConflict, code, format, args...)
}
func Unprocessable(code, format string, args ...any) *Error {
	return NewError(http.StatusUnprocessableEntity, code, format, args...)
}
func Unavailable(code, format string, args ...any) *Error {
	return NewError(http.StatusServiceUnavailable, code, format, args...)
}

// TooManyRequests is a 429 "rate_limited" whose message and Retry-After say when to come
// back (whole seconds, at least 1). what names what was limited ("attempts", "guest joins").
func TooManyRequests(wait time.Duration, what string) *Error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	e := NewError(http.StatusTooManyRequests, "rate_limited", "too many %s: try again in %d s", what, secs)
	e.RetryAfter = secs
	return e
}

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Respond writes an API error with the shared shape.
func Respond(c *fiber.Ctx, e *Error) error {
	var body ErrorBody
	body.Error.Code, body.Error.Message = e.Code, e.Message
	if e.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, fmt.Sprint(e.RetryAfter))
	}
	return c.Status(e.Status).JSON(body)
}

// fiberCodes names Fiber's own errors (routing, body limit, content type).
var fiberCodes = map[int]string{
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
}

// ErrorHandler is the one Fiber error handler: *Error is answered as is, Fiber's own errors
// get a stable code, anything else is a logged 500 whose cause never reaches the client.
func ErrorHandler(logger *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var apiErr *Error
		if errors.As(err, &apiErr) {
			if apiErr.Status >= 500 {
				logger.Error("request failed", "method", c.Method(), "path", c.Path(),
					"request_id", RequestID(c), "code", apiErr.Code, "err", err)
			}
			return Respond(c, apiErr)
		}
		var field *fielderr.Error
		if errors.As(err, &field) { // every domain's bad input in a named field
			return Respond(c, BadRequest("invalid_field", "%s", field.Error()))
		}
		var fe *fiber.Error
		if errors.As(err, &fe) {
			code, ok := fiberCodes[fe.Code]
			if !ok {
				code = "error"
			}
			msg := fe.Message
			switch fe.Code {
			case http.StatusRequestEntityTooLarge:
				msg = "request body is too large"
			case http.StatusNotFound:
				msg = fmt.Sprintf("no route for %s %s", c.Method(), c.Path())
			}
			return Respond(c, NewError(fe.Code, code, "%s", msg))
		}
		logger.Error("internal error", "method", c.Method(), "path", c.Path(),
			"request_id", RequestID(c), "err", err)
		return Respond(c, NewError(http.StatusInternalServerError, "internal", "internal error"))
	}
}

// RequestID returns the request's id set by the request-id middleware.
func RequestID(c *fiber.Ctx) string {
	if v, ok := c.Locals("requestid").(string); ok {
		return v
	}
	return ""
}
