package main

import (
	"context"

	"github.com/parley/parley/web"
)

// wireWeb serves the browser app and admin dashboard for every path no API route claims.
func (a *app) wireWeb(ctx context.Context) error {
	a.deps.Static = web.Handler()
	return nil
}
