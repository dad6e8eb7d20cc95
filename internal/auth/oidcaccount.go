package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parley/parley/internal/secret"
)

// account finds or makes the account a provider's sign-in is for. A known subject is its
// linked account; otherwise the e-mail links an existing account or creates one, but only
// when the provider says it verified the address: an unverified one could be anybody's.
// With an admin group configured, the role follows membership at every sign-in (the last
// administrator is never demoted this way).
func (s *SSO) account(ctx context.Context, p *provider, subject string, claims map[string]any) (userRow, error) {
	st := s.svc.store
	id, linked, err := st.identity(ctx, p.cfg.Name, subject)
	if err != nil {
		return userRow{}, err
	}
	var u userRow
	if linked {
		if u, err = st.userByID(ctx, id.UserID); err != nil {
			return userRow{}, err
		}
	} else if u, err = s.linkByEmail(ctx, p, subject, claims); err != nil {
		return userRow{}, err
	}
	if u.Disabled {
		return userRow{}, fmt.Errorf("sign-in %s: %w", u.Email, ErrUserDisabled)
	}
	if p.cfg.AdminGroup == "" {
		return u, nil
	}
	role := RoleUser
	if inGroup(claims[p.cfg.GroupsClaim], p.cfg.AdminGroup) {
		role = RoleAdmin
	}
	if role == u.Role {
		return u, nil
	}
	updated, err := s.svc.UpdateUser(ctx, u.ID, UserPatch{Role: &role})
	if errors.Is(err, ErrLastAdmin) {
		s.log.Warn("not demoting the last administrator", "provider", p.cfg.Name, "user_id", u.ID)
		return u, nil
	}
	if err != nil {
		return userRow{}, err
	}
	u.Role = updated.Role
	return u, nil
}

func (s *SSO) linkByEmail(ctx context.Context, p *provider, subject string, claims map[string]any) (userRow, error) {
	raw, _ := claims[p.cfg.EmailClaim].(string)
	email, err := NormalizeEmail(raw)
	if err != nil {
		return userRow{}, fmt.Errorf("provider %q sent no usable e-mail (claim %q): %w", p.cfg.Name, p.cfg.EmailClaim, ErrEmailNotVerified)
	}
	if verified, _ := claims["email_verified"].(bool); !verified {
		return userRow{}, fmt.Errorf("provider %q: %s: %w", p.cfg.Name, email, ErrEmailNotVerified)
	}
	st := s.svc.store
	u, err := st.userByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrUserNotFound):
		if !p.cfg.CreateUsers {
			return userRow{}, fmt.Errorf("provider %q: %s: %w", p.cfg.Name, email, ErrNoAccount)
		}
		if u, err = s.svc.createUser(ctx, email, s.displayName(p, claims, email), secret.Random(32), RoleUser, false); err != nil {
			return userRow{}, err
		}
		s.log.Info("user created at first sign-in", "provider", p.cfg.Name, "user_id", u.ID, "email", email)
	case err != nil:
		return userRow{}, err
	case u.EmailUnverified:
		// Whoever registered the address never proved it theirs: linking would hand the
		// account to the address's real owner, or the real owner's identity to them.
		return userRow{}, fmt.Errorf("provider %q: %s: %w", p.cfg.Name, email, ErrAccountUnverified)
	}
	if err := st.linkIdentity(ctx, &oidcIdentityRow{Provider: p.cfg.Name, Subject: subject, UserID: u.ID, CreatedAt: s.svc.now()}); err != nil {
		return userRow{}, fmt.Errorf("link %s to provider %q: %w", email, p.cfg.Name, err)
	}
	return u, nil
}

// displayName is the mapped name claim, else the e-mail's local part, cut to what
// accounts allow.
func (s *SSO) displayName(p *provider, claims map[string]any, email string) string {
	name, _ := claims[p.cfg.NameClaim].(string)
	if n, err := normalizeName(name); err == nil {
		return n
	}
	local, _, _ := strings.Cut(email, "@")
	if n, err := normalizeName(local); err == nil {
		return n
	}
	return "User"
}
