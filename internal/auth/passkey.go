package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/parley/parley/internal/secret"
)

// Errors of passkey sign-in and registration. The api package maps them.
var (
	ErrPasskeyCeremony = errors.New("unknown, expired or used passkey ceremony")
	ErrPasskeyRefused  = errors.New("the passkey was not accepted")
	ErrPasskeyNotFound = errors.New("passkey not found")
	ErrTooManyPasskeys = errors.New("too many passkeys")
	// ErrPasskeysOff: server.publicURL's host is an IP address, and browsers allow
	// WebAuthn only for a domain name (localhost included).
	ErrPasskeysOff = errors.New("passkeys need server.publicURL with a domain name")
)

// ceremonyTTL bounds how long a person may take at their authenticator: long enough to find
// a security key, short enough that a challenge does not lie around.
const ceremonyTTL = 5 * time.Minute

// maxPasskeys per account: enough for every device a person owns.
const maxPasskeys = 20

// MaxPasskeyNameLen bounds a passkey's name.
const MaxPasskeyNameLen = 64

// Purposes of a passkey ceremony.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
)

// Passkey is one registered WebAuthn credential of an account (never its key).
type Passkey struct {
	ID         string
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Ceremony is a begun registration or sign-in: the browser passes Options to
// navigator.credentials and sends the answer back with ID.
type Ceremony struct {
	ID string
	// Options is the library's CredentialCreation or CredentialAssertion, whose JSON is the
	// WebAuthn options the browser expects (binary fields in base64url).
	Options any
}

// Passkeys registers WebAuthn credentials and signs people in with them. Sign-in uses
// discoverable credentials: the browser offers the passkeys it holds for this server and
// nobody types an address. A ceremony's challenge lives in the database, so it may begin on
// one instance and finish on another. Its sessions are the Service's own.
type Passkeys struct {
	svc *Service
	wa  *webauthn.WebAuthn // nil when off (ErrPasskeysOff)
}

// NewPasskeys builds the relying party of publicURL: its host is the RP ID and its origin
// the one origin a ceremony may come from. With an IP address for a host, passkeys are off
// (Enabled is false) and the rest of Parley works as before.
func NewPasskeys(svc *Service, publicURL string) (*Passkeys, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("passkeys: server.publicURL %q has no host", publicURL)
	}
	if net.ParseIP(u.Hostname()) != nil {
		svc.log.Info("passkeys are off: server.publicURL's host is an IP address, and browsers offer passkeys only for a domain name", "public_url", publicURL)
		return &Passkeys{svc: svc}, nil
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL}
	wa, err := webauthn.New(&webauthn.Config{
		RPDisplayName: "Parley",
		RPID:          u.Hostname(),
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		Timeouts:      webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("passkeys for server.publicURL %q: %w", publicURL, err)
	}
	return &Passkeys{svc: svc, wa: wa}, nil
}

// Enabled reports whether passkeys can be used (the login page offers them then).
func (k *Passkeys) Enabled() bool { return k.wa != nil }

// passkeyUser is an account as the WebAuthn library sees it. Its user handle is the account
// id (a random UUID): what a discoverable sign-in sends back to say whose passkey it is.
type passkeyUser struct {
	u     userRow
	creds []webauthn.Credential
}

func (p *passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p *passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p *passkeyUser) WebAuthnDisplayName() string                { return p.u.Name }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// loadUser reads an account with its credentials.
func (k *Passkeys) loadUser(ctx context.Context, userID string) (*passkeyUser, []passkeyRow, error) {
	u, err := k.svc.store.userByID(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	rows, err := k.svc.store.passkeys(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	pu := &passkeyUser{u: u}
	for _, r := range rows {
		var c webauthn.Credential
		if err := json.Unmarshal([]byte(r.Credential), &c); err != nil {
			return nil, nil, fmt.Errorf("passkey %s: stored credential: %w", r.ID, err)
		}
		pu.creds = append(pu.creds, c)
	}
	return pu, rows, nil
}

// BeginRegistration starts adding a passkey to the caller's account. The authenticator is
// asked for a discoverable credential with user verification, and not to make a second one
// of the passkeys the account already has.
func (k *Passkeys) BeginRegistration(ctx context.Context, p Principal) (Ceremony, error) {
	if k.wa == nil {
		return Ceremony{}, ErrPasskeysOff
	}
	if err := k.svc.limiter.allow(k.svc.limiter.user("passkey|" + p.UserID)); err != nil {
		return Ceremony{}, err
	}
	pu, _, err := k.loadUser(ctx, p.UserID)
	if err != nil {
		return Ceremony{}, err
	}
	if len(pu.creds) >= maxPasskeys {
		return Ceremony{}, fmt.Errorf("user %s has %d passkeys: %w", p.UserID, len(pu.creds), ErrTooManyPasskeys)
	}
	creation, sd, err := k.wa.BeginRegistration(pu,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey registration: %w", err)
	}
	id, err := k.saveCeremony(ctx, p.UserID, ceremonyRegister, sd)
	return Ceremony{ID: id, Options: creation}, err
}

// FinishRegistration checks the authenticator's answer to ceremony and stores the passkey
// under name (default "Passkey").
func (k *Passkeys) FinishRegistration(ctx context.Context, p Principal, ceremony, name string, response []byte) (Passkey, error) {
	if k.wa == nil {
		return Passkey{}, ErrPasskeysOff
	}
	name, err := passkeyName(name)
	if err != nil {
		return Passkey{}, err
	}
	sd, err := k.takeCeremony(ctx, ceremony, ceremonyRegister, p.UserID)
	if err != nil {
		return Passkey{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Passkey{}, fmt.Errorf("passkey registration answer: %w: %s", ErrPasskeyRefused, protocolDetail(err))
	}
	pu, _, err := k.loadUser(ctx, p.UserID)
	if err != nil {
		return Passkey{}, err
	}
	cred, err := k.wa.CreateCredential(pu, sd, parsed)
	if err != nil {
		return Passkey{}, fmt.Errorf("passkey registration: %w: %s", ErrPasskeyRefused, protocolDetail(err))
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return Passkey{}, err
	}
	row := passkeyRow{ID: uuid.NewString(), UserID: p.UserID, CredentialHash: credentialHash(cred.ID), Name: name,
		Credential: string(raw), CreatedAt: k.svc.now()}
	if err := k.svc.store.createPasskey(ctx, &row); err != nil {
		return Passkey{}, err
	}
	k.svc.log.Info("passkey registered", "user_id", p.UserID, "passkey_id", row.ID)
	return row.toPasskey(), nil
}

// BeginLogin starts a sign-in with whichever passkey of this server the browser offers.
func (k *Passkeys) BeginLogin(ctx context.Context, cl Client) (Ceremony, error) {
	if k.wa == nil {
		return Ceremony{}, ErrPasskeysOff
	}
	if err := k.svc.limiter.allow(k.svc.limiter.ip(cl.IP)); err != nil {
		return Ceremony{}, err
	}
	assertion, sd, err := k.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return Ceremony{}, fmt.Errorf("begin passkey sign-in: %w", err)
	}
	id, err := k.saveCeremony(ctx, "", ceremonyLogin, sd)
	return Ceremony{ID: id, Options: assertion}, err
}

// FinishLogin checks the authenticator's answer and opens a session for the passkey's
// account, like a password sign-in does. It works when password sign-in is turned off; a
// disabled account is refused.
func (k *Passkeys) FinishLogin(ctx context.Context, ceremony string, response []byte, cl Client) (Grant, error) {
	if k.wa == nil {
		return Grant{}, ErrPasskeysOff
	}
	sd, err := k.takeCeremony(ctx, ceremony, ceremonyLogin, "")
	if err != nil {
		return Grant{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return Grant{}, fmt.Errorf("passkey sign-in answer: %w: %s", ErrPasskeyRefused, protocolDetail(err))
	}
	var (
		pu   *passkeyUser
		rows []passkeyRow
	)
	handler := func(_, userHandle []byte) (webauthn.User, error) {
		pu, rows, err = k.loadUser(ctx, string(userHandle))
		return pu, err
	}
	_, cred, err := k.wa.ValidatePasskeyLogin(handler, sd, parsed)
	if err != nil {
		return Grant{}, fmt.Errorf("passkey sign-in: %w: %s", ErrPasskeyRefused, protocolDetail(err))
	}
	if cred.Authenticator.CloneWarning {
		k.svc.log.Warn("passkey sign-in refused: its signature counter went back (a cloned authenticator?)", "user_id", pu.u.ID)
		return Grant{}, fmt.Errorf("passkey of %s: signature counter went back: %w", pu.u.ID, ErrPasskeyRefused)
	}
	if pu.u.Disabled {
		return Grant{}, fmt.Errorf("passkey sign-in %s: %w", pu.u.Email, ErrUserDisabled)
	}
	// The counter and flags move on with every use; the stored record follows them.
	raw, err := json.Marshal(cred)
	if err != nil {
		return Grant{}, err
	}
	hash := credentialHash(cred.ID)
	for _, r := range rows {
		if r.CredentialHash == hash {
			if err := k.svc.store.usePasskey(ctx, r.ID, string(raw), k.svc.now()); err != nil {
				return Grant{}, err
			}
		}
	}
	k.svc.log.Info("signed in with a passkey", "user_id", pu.u.ID)
	return k.svc.startSession(ctx, pu.u, cl)
}

// List is the caller's passkeys, oldest first.
func (k *Passkeys) List(ctx context.Context, userID string) ([]Passkey, error) {
	rows, err := k.svc.store.passkeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]Passkey, len(rows))
	for i, r := range rows {
		out[i] = r.toPasskey()
	}
	return out, nil
}

// Remove deletes one of the caller's passkeys: it signs nobody in from then on. Sessions it
// opened stay (as with a password change, the caller decides to sign them out).
func (k *Passkeys) Remove(ctx context.Context, userID, id string) error {
	if err := k.svc.store.deletePasskey(ctx, userID, id); err != nil {
		return err
	}
	k.svc.log.Info("passkey removed", "user_id", userID, "passkey_id", id)
	return nil
}

// saveCeremony stores a ceremony's session data under a new random id (only its hash is kept).
func (k *Passkeys) saveCeremony(ctx context.Context, userID, purpose string, sd *webauthn.SessionData) (string, error) {
	raw, err := json.Marshal(sd)
	if err != nil {
		return "", err
	}
	id := secret.Random(32)
	row := passkeyCeremonyRow{IDHash: secret.Hash(id), UserID: userID, Purpose: purpose, Session: string(raw), ExpiresAt: k.svc.now().Add(ceremonyTTL)}
	if err := k.svc.store.createCeremony(ctx, &row); err != nil {
		return "", fmt.Errorf("store passkey ceremony: %w", err)
	}
	return id, nil
}

// takeCeremony uses a ceremony up (once, on whichever instance) and returns its session data;
// one of another purpose or another user is refused.
func (k *Passkeys) takeCeremony(ctx context.Context, id, purpose, userID string) (webauthn.SessionData, error) {
	var sd webauthn.SessionData
	if id == "" || len(id) > 128 {
		return sd, ErrPasskeyCeremony
	}
	row, err := k.svc.store.takeCeremony(ctx, secret.Hash(id), k.svc.now())
	if err != nil {
		return sd, err
	}
	if row.Purpose != purpose || row.UserID != userID {
		return sd, fmt.Errorf("ceremony of another purpose or user: %w", ErrPasskeyCeremony)
	}
	if err := json.Unmarshal([]byte(row.Session), &sd); err != nil {
		return sd, fmt.Errorf("stored passkey ceremony: %w", err)
	}
	return sd, nil
}

// passkeyName checks a passkey's name; blank is "Passkey".
func passkeyName(raw string) (string, error) {
	n := strings.TrimSpace(raw)
	if n == "" {
		return "Passkey", nil
	}
	n, err := normalizeName(n)
	if err != nil {
		return "", err
	}
	if len([]rune(n)) > MaxPasskeyNameLen {
		return "", fieldErr("name", "is longer than %d characters", MaxPasskeyNameLen)
	}
	return n, nil
}

// protocolDetail is the library's reason for a refusal, for logs and the client.
func protocolDetail(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details
	}
	return err.Error()
}
