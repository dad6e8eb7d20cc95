package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/parley/parley/internal/apikey"
	"github.com/parley/parley/internal/audit"
)

// wireKeys builds the API key service. Its hash key is derived from the JWT secret for this
// one purpose: kept across restarts like sessions, and never in the database.
func (a *app) wireKeys() (*apikey.Service, error) {
	return apikey.New(a.db, keyPepper(a.cfg.Auth.JWTSecret), time.Now)
}

func keyPepper(jwtSecret string) []byte {
	m := hmac.New(sha256.New, []byte(jwtSecret))
	m.Write([]byte("parley api key hash v1"))
	return m.Sum(nil)
}

// wireAudit builds the audit log and, when audit.retentionDays is set, its pruner (hourly;
// every instance may prune, the chain's lock keeps them from overlapping).
func (a *app) wireAudit() *audit.Log {
	l := audit.New(a.db, a.log, time.Now)
	days := a.cfg.Audit.RetentionDays
	if days <= 0 {
		return l
	}
	keep := time.Duration(days) * 24 * time.Hour
	a.workers = append(a.workers, func(ctx context.Context) error {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if n, err := l.Prune(ctx, time.Now().Add(-keep)); err != nil && ctx.Err() == nil {
				a.log.Warn("prune audit log", "err", err)
			} else if n > 0 {
				a.log.Info("pruned old audit entries", "count", n, "retention_days", days)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
	return l
}

// auditVerify is `parley audit verify`: it walks the chain and names the first entry that
// does not verify.
func (a *app) auditVerify(ctx context.Context) error {
	n, err := audit.New(a.db, a.log, time.Now).Verify(ctx)
	if err != nil {
		return fmt.Errorf("audit log does NOT verify after %d good entries: %w", n, err)
	}
	fmt.Fprintf(a.stdout, "audit log verified: %d entries, chain intact\n", n)
	return nil
}
