package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/parley/parley/internal/secret"
)

// User returns one account.
func (s *Service) User(ctx context.Context, id string) (User, error) {
	u, err := s.store.userByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	return u.toUser(), nil
}

// CountUsers counts every account (the admin overview).
func (s *Service) CountUsers(ctx context.Context) (int64, error) {
	return s.store.countUsers(ctx)
}

// UserQuery selects a page of accounts, ordered by email.
type UserQuery struct {
	Search string // substring of email or name, case-insensitive
	Limit  int
	Cursor string // opaque, from the previous page
}

// ListUsers returns one page of accounts and the cursor of the next ("" on the last page).
func (s *Service) ListUsers(ctx context.Context, q UserQuery) ([]User, string, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if len(q.Search) > MaxEmailLen {
		return nil, "", fieldErr("q", "is longer than %d characters", MaxEmailLen)
	}
	after := ""
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || len(b) == 0 {
			return nil, "", fieldErr("cursor", "is not a cursor this list returned")
		}
		after = string(b)
	}
	term := strings.ToLower(strings.TrimSpace(q.Search))
	rows, err := s.store.listUsers(ctx, after, term, q.Limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(rows[len(rows)-1].Email))
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.toUser()
	}
	return out, next, nil
}

// UserPatch is an admin's change to an account; nil fields stay as they are.
type UserPatch struct {
	Role     *string
	Disabled *bool
}

// UpdateUser changes a role or the disabled flag. Disabling revokes every session at once;
// both changes apply to the user's very next request (the middleware reads them). The last
// enabled admin can be neither demoted nor disabled.
func (s *Service) UpdateUser(ctx context.Context, id string, p UserPatch) (User, error) {
	if p.Role != nil && *p.Role != RoleAdmin && *p.Role != RoleUser {
		return User{}, fieldErr("role", "%q is not a role: use \"admin\" or \"user\"", *p.Role)
	}
	now := s.now()
	var out userRow
	err := s.store.inTx(ctx, func(st *store) error {
		if err := st.lockAdmins(ctx); err != nil {
			return err
		}
		u, err := st.userByID(ctx, id)
		if err != nil {
			return err
		}
		wasActiveAdmin := u.Role == RoleAdmin && !u.Disabled
		if p.Role != nil {
			u.Role = *p.Role
		}
		disabling := p.Disabled != nil && *p.Disabled && !u.Disabled
		if p.Disabled != nil {
			u.Disabled = *p.Disabled
		}
		if wasActiveAdmin && (u.Role != RoleAdmin || u.Disabled) {
			n, err := st.countActiveAdmins(ctx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return fmt.Errorf("user %s: %w", u.Email, ErrLastAdmin)
			}
		}
		u.UpdatedAt = now
		if err := st.setAccess(ctx, u.ID, u.Role, u.Disabled, now); err != nil {
			return err
		}
		if disabling {
			if err := st.revokeSessions(ctx, u.ID, "", now); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	if err != nil {
		return User{}, err
	}
	s.log.Info("user updated", "user_id", out.ID, "role", out.Role, "disabled", out.Disabled)
	return out.toUser(), nil
}

// SetName changes the caller's own display name, checked as registration checks it. It
// applies to the next request at once (the write invalidates the session-check cache);
// names already in a meeting's token stay until the person joins again.
func (s *Service) SetName(ctx context.Context, userID, name string) (User, error) {
	n, err := normalizeName(name)
	if err != nil {
		return User{}, err
	}
	var out userRow
	err = s.store.inTx(ctx, func(st *store) error {
		if err := st.setName(ctx, userID, n, s.now()); err != nil {
			return err
		}
		out, err = st.userByID(ctx, userID)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.log.Info("user renamed", "user_id", out.ID)
	return out.toUser(), nil
}

// NewUser is an account created by an operator (CLI, bootstrap).
type NewUser struct {
	Email    string
	Name     string
	Password string
	Admin    bool
}

// CreateUser creates an account regardless of auth.allowRegistration.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (User, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return User{}, err
	}
	if strings.TrimSpace(in.Name) == "" {
		in.Name = email[:strings.LastIndexByte(email, '@')]
	}
	name, err := normalizeName(in.Name)
	if err != nil {
		return User{}, err
	}
	if err := checkPassword("password", in.Password); err != nil {
		return User{}, err
	}
	role := RoleUser
	if in.Admin {
		role = RoleAdmin
	}
	u, err := s.createUser(ctx, email, name, in.Password, role, false)
	if err != nil {
		return User{}, err
	}
	return u.toUser(), nil
}

// SetPassword replaces a user's password (operator action) and revokes all their sessions.
func (s *Service) SetPassword(ctx context.Context, email, password string) (User, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if err := checkPassword("password", password); err != nil {
		return User{}, err
	}
	u, err := s.store.userByEmail(ctx, e)
	if err != nil {
		return User{}, err
	}
	if err := s.setPassword(ctx, u.ID, password, ""); err != nil {
		return User{}, err
	}
	return u.toUser(), nil
}

// DefaultAdminEmail is the account created on first start when no admin is configured.
const DefaultAdminEmail = "admin@localhost"

// Bootstrap is what EnsureAdmin did.
type Bootstrap struct {
	User User
	// Password is set only when EnsureAdmin generated it: print it once.
	Password string
	Created  bool
	Promoted bool
}

// EnsureAdmin makes sure an administrator can log in. With email and password (from
// auth.bootstrapAdmin) that account is created if missing, or promoted and enabled if it
// exists (its password is left alone: use `parley user set-password`). Without them, when
// no enabled admin exists, admin@localhost gets a new random password and the admin role.
// It does nothing when an enabled admin already exists and none is configured.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (Bootstrap, error) {
	generated := ""
	if email == "" {
		n, err := s.store.countActiveAdmins(ctx)
		if err != nil {
			return Bootstrap{}, fmt.Errorf("count admins: %w", err)
		}
		if n > 0 {
			return Bootstrap{}, nil
		}
		email, generated = DefaultAdminEmail, secret.Random(18)
		password = generated
	}
	e, err := NormalizeEmail(email)
	if err != nil {
		return Bootstrap{}, fmt.Errorf("auth.bootstrapAdmin.email: %w", err)
	}
	existing, err := s.store.userByEmail(ctx, e)
	if errors.Is(err, ErrUserNotFound) {
		u, err := s.CreateUser(ctx, NewUser{Email: e, Name: "Administrator", Password: password, Admin: true})
		if err != nil {
			return Bootstrap{}, fmt.Errorf("auth.bootstrapAdmin: %w", err)
		}
		return Bootstrap{User: u, Password: generated, Created: true}, nil
	}
	if err != nil {
		return Bootstrap{}, err
	}
	b := Bootstrap{Password: generated}
	if generated != "" {
		// admin@localhost exists but no admin does: it gets a fresh password, so whoever
		// registered that address cannot inherit the admin role.
		if err := s.setPassword(ctx, existing.ID, generated, ""); err != nil {
			return Bootstrap{}, err
		}
	}
	if existing.Role != RoleAdmin || existing.Disabled {
		role, enabled := RoleAdmin, false
		if _, err := s.UpdateUser(ctx, existing.ID, UserPatch{Role: &role, Disabled: &enabled}); err != nil {
			return Bootstrap{}, err
		}
		b.Promoted = true
	}
	b.User, err = s.User(ctx, existing.ID)
	return b, err
}
