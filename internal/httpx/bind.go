package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// BindJSON decodes the request body into v strictly: the content type must be JSON (415),
// the body must be one JSON value (400 invalid_json) and unknown fields are refused
// (400 unknown_field naming the field). An empty body decodes as {} when allowEmpty.
func BindJSON(c *fiber.Ctx, v any) error { return bind(c, v, false) }

// BindOptionalJSON is BindJSON for routes whose body may be absent.
func BindOptionalJSON(c *fiber.Ctx, v any) error { return bind(c, v, true) }

func bind(c *fiber.Ctx, v any, allowEmpty bool) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return BadRequest("invalid_json", "request body is empty: a JSON object is expected")
	}
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(c.Get(fiber.HeaderContentType), ";", 2)[0]))
	if ct != fiber.MIMEApplicationJSON {
		return NewError(fiber.StatusUnsupportedMediaType, "unsupported_media_type",
			"content type must be application/json, got %q", ct)
	}
	return DecodeStrict(body, v)
}

// DecodeStrict decodes one JSON value, refusing unknown fields and trailing data.
func DecodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("invalid_json", "request body must hold a single JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &syn):
		return BadRequest("invalid_json", "malformed JSON at byte %d: %s", syn.Offset, msg)
	case errors.As(err, &typ) && typ.Field == "":
		return BadRequest("invalid_field", "request body must be %s", jsonKind(typ.Type))
	case errors.As(err, &typ):
		return BadRequest("invalid_field", "field %q must be %s", typ.Field, jsonKind(typ.Type))
	case strings.HasPrefix(msg, "json: unknown field "):
		return BadRequest("unknown_field", "unknown field %s", strings.TrimPrefix(msg, "json: unknown field "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("invalid_json", "malformed JSON: unexpected end of body")
	}
	return BadRequest("invalid_json", "malformed JSON")
}

// jsonKind names what JSON a Go type takes, in the client's words: the Go type's own name
// ("*bool", "api.roomBody") means nothing to a client and tells it about the server.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// FieldError is a 400 naming the offending field.
func FieldError(field, format string, args ...any) *Error {
	return BadRequest("invalid_field", "%s: %s", field, fmt.Sprintf(format, args...))
}
