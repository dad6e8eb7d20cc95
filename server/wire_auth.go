package main

import (
	"context"
	"fmt"
	"time"

	"github.com/parley/parley/internal/auth"
)

// newAuthService builds the auth service from the configuration (serve and the CLI).
func (a *app) newAuthService() (*auth.Service, error) {
	c := a.cfg.Auth
	return auth.New(a.db, auth.Config{
		JWTSecret:         []byte(c.JWTSecret),
		AccessTTL:         c.AccessTTL.D(),
		RefreshTTL:        c.RefreshTTL.D(),
		AllowRegistration: c.AllowRegistration,
		LoginRate:         c.LoginRate,
		PasswordLoginOff:  !c.PasswordLogin,
		// With a mail server, a new account's address is confirmed by a mailed link.
		VerifyEmail: a.cfg.SMTP.Host != "",
	}, a.log, time.Now)
}

// wireAuth builds the auth module, makes sure an administrator exists, and adds the
// session pruner.
func (a *app) wireAuth(ctx context.Context) (*auth.Service, error) {
	svc, err := a.newAuthService()
	if err != nil {
		return nil, err
	}
	if err := a.bootstrapAdmin(ctx, svc); err != nil {
		return nil, err
	}
	a.workers = append(a.workers, func(ctx context.Context) error {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if n, err := svc.Prune(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("prune sessions", "err", err)
			} else if n > 0 {
				a.log.Info("pruned old sessions", "count", n)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	return svc, nil
}

// bootstrapAdmin creates the configured admin, or on a first start with none configured,
// admin@localhost with a random password printed once to the log and to stdout.
func (a *app) bootstrapAdmin(ctx context.Context, svc *auth.Service) error {
	b, err := svc.EnsureAdmin(ctx, a.cfg.Auth.BootstrapAdmin.Email, a.cfg.Auth.BootstrapAdmin.Password)
	if err != nil {
		return fmt.Errorf("bootstrap admin: %w", err)
	}
	switch {
	case b.Password != "":
		a.log.Warn("created the first administrator: log in and change this password now",
			"email", b.User.Email, "password", b.Password)
		fmt.Fprintf(a.stdout, "\n"+
			"==================================================================\n"+
			"  Parley administrator account (shown only this once)\n"+
			"    email:    %s\n"+
			"    password: %s\n"+
			"  Log in and change the password (PUT /api/auth/password), or run\n"+
			"  `parley user set-password --email %s`.\n"+
			"==================================================================\n\n",
			b.User.Email, b.Password, b.User.Email)
	case b.Created:
		a.log.Info("created the configured administrator", "email", b.User.Email)
	case b.Promoted:
		a.log.Info("made the configured account an enabled administrator", "email", b.User.Email)
	}
	return nil
}
