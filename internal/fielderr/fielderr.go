// Package fielderr is the one shape every domain package gives "bad input in a named
// field". The HTTP layer answers any such error as 400 invalid_field with "field: reason";
// a package's own sentinel (room.ErrInvalid, auth.ErrWeakPassword, ...) rides along in Err
// for errors.Is.
package fielderr

import (
	"errors"
	"fmt"
)

// ErrInvalid matches every *Error.
var ErrInvalid = errors.New("invalid input")

// Error is bad input in one named field.
type Error struct {
	Field  string
	Reason string
	// Err is the domain's sentinel for this refusal (errors.Is finds it); may be nil.
	Err error
}

func (e *Error) Error() string { return e.Field + ": " + e.Reason }

// Unwrap returns the domain's sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// New is a field error wrapping the domain's sentinel.
func New(sentinel error, field, format string, args ...any) error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}
