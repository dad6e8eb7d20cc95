package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ErrAlreadyVerified is a resend for an account whose address is confirmed already.
var ErrAlreadyVerified = errors.New("the e-mail address is verified already")

// verifyTTL: a new account's owner may read their mail days later; a new link can be asked
// for at any time.
const verifyTTL = 72 * time.Hour

const purposeVerify = "verify"

// migrateEmailVerification adds users.email_unverified (every account from before counts as
// verified: it predates the rule). A new database got the column from auth_0001 already.
func migrateEmailVerification(tx *gorm.DB) error {
	m := tx.Session(&gorm.Session{NewDB: true}).Migrator()
	if m.HasColumn(&userRow{}, "EmailUnverified") {
		return nil
	}
	return m.AddColumn(&userRow{}, "EmailUnverified")
}

// markVerified records that the account's owner proved to read its mailbox.
func (s *Service) markVerified(ctx context.Context, userID string) error {
	return s.store.inTx(ctx, func(st *store) error { // inTx: the session-check cache must forget the flag
		return st.g.WithContext(ctx).Model(&userRow{}).Where("id = ? AND email_unverified = ?", userID, true).
			Updates(map[string]any{"email_unverified": false, "updated_at": s.now()}).Error
	})
}

// SendVerification mails the account a single-use link that confirms its address. It is
// called after a registration and by "resend"; both count against a per-account limit.
func (r *Recovery) SendVerification(ctx context.Context, userID string) error {
	if r.mail == nil {
		return ErrMailDisabled
	}
	u, err := r.svc.store.userByID(ctx, userID)
	if err != nil {
		return err
	}
	if !u.EmailUnverified {
		return fmt.Errorf("user %s: %w", u.ID, ErrAlreadyVerified)
	}
	if err := r.svc.limiter.allow(r.svc.limiter.user("verify|" + u.ID)); err != nil {
		return err
	}
	link, err := r.issue(ctx, u.ID, purposeVerify, verifyTTL, "/verify")
	if err != nil {
		return err
	}
	body := fmt.Sprintf("Hello %s,\n\nplease confirm that %s is your address: open this link within 3 days:\n\n%s\n\nThe link works once. If you did not create an account on Parley at %s, ignore this mail.\n",
		u.Name, u.Email, link, r.publicURL)
	if err := r.mail.Send(u.Email, "Confirm your e-mail address for Parley", body); err != nil {
		return fmt.Errorf("queue verification mail: %w", err)
	}
	return nil
}

// VerifyEmail confirms an address with a verification link's token, once.
func (r *Recovery) VerifyEmail(ctx context.Context, token string) error {
	u, err := r.claim(ctx, token, purposeVerify)
	if err != nil {
		return err
	}
	if err := r.svc.markVerified(ctx, u.ID); err != nil {
		return err
	}
	r.svc.log.Info("e-mail address verified", "user_id", u.ID)
	return nil
}
