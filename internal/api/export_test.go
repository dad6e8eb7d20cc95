package api

import (
	"testing"

	"github.com/gofiber/fiber/v2"
)

// NewForRouteList is the app on fakes, for tests outside the package that list its routes.
func NewForRouteList(t testing.TB) *fiber.App { return newTestApp(t, testDeps()) }
