package room

import (
	"crypto/rand"
	"encoding/base32"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Input holds the writable fields of a room; nil means "not given" (PATCH keeps the value).
type Input struct {
	Name            *string
	Title           *string
	Public          *bool
	AllowGuests     *bool
	Locked          *bool
	MaxParticipants *int
	AutoRecord      *bool
	Lobby           *bool
	LobbyUsers      *bool
	Defaults        *PermissionsInput
	Moderators      *[]string
}

// PermissionsInput is a partial Permissions; nil fields keep their value.
type PermissionsInput struct {
	CanPublish     *bool
	CanSubscribe   *bool
	CanPublishData *bool
	Sources        *[]string
}

// Limits of room fields.
const (
	MaxTitleLen        = 200
	MaxParticipantsCap = 10000
	maxModerators      = 100
	maxIDLen           = 64
	maxDisplayNameLen  = 100
)

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// ValidateName checks a room name: a lowercase URL-safe slug of 3..63 characters.
func ValidateName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fieldErr("name", "must be 3 to 63 characters long, got %d", len(name))
	}
	if !slugRE.MatchString(name) {
		return fieldErr("name", "must use only lowercase letters, digits and inner hyphens (%q)", name)
	}
	return nil
}

// apply validates in and applies it to r. r is only changed when everything is valid.
func (in Input) apply(r *Room) error {
	next := *r
	if in.Title != nil {
		t := strings.TrimSpace(*in.Title)
		if utf8.RuneCountInString(t) > MaxTitleLen {
			return fieldErr("title", "must be at most %d characters", MaxTitleLen)
		}
		if strings.ContainsAny(t, "\x00\r\n") {
			return fieldErr("title", "must be a single line")
		}
		next.Title = t
	}
	if in.MaxParticipants != nil {
		n := *in.MaxParticipants
		if n < 0 || n > MaxParticipantsCap {
			return fieldErr("maxParticipants", "must be from 0 (no limit) to %d, got %d", MaxParticipantsCap, n)
		}
		next.MaxParticipants = n
	}
	setBool(&next.Public, in.Public)
	setBool(&next.AllowGuests, in.AllowGuests)
	setBool(&next.Locked, in.Locked)
	setBool(&next.AutoRecord, in.AutoRecord)
	setBool(&next.Lobby, in.Lobby)
	setBool(&next.LobbyUsers, in.LobbyUsers)
	if d := in.Defaults; d != nil {
		setBool(&next.Defaults.CanPublish, d.CanPublish)
		setBool(&next.Defaults.CanSubscribe, d.CanSubscribe)
		setBool(&next.Defaults.CanPublishData, d.CanPublishData)
		if d.Sources != nil {
			src, err := ValidateSources("defaultPermissions.canPublishSources", *d.Sources)
			if err != nil {
				return err
			}
			next.Defaults.Sources = src
		}
	}
	if in.Moderators != nil {
		mods, err := validateUserIDs("moderators", *in.Moderators)
		if err != nil {
			return err
		}
		next.Moderators = mods
	}
	*r = next
	return nil
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// ValidateSources checks track source names and returns them deduplicated in stable order.
func ValidateSources(field string, in []string) ([]string, error) {
	seen := map[string]bool{}
	for _, s := range in {
		if !slices.Contains(AllSources(), s) {
			return nil, fieldErr(field, "unknown source %q (use %s)", s, strings.Join(AllSources(), ", "))
		}
		seen[s] = true
	}
	out := []string{}
	for _, s := range AllSources() {
		if seen[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

func validateUserIDs(field string, in []string) ([]string, error) {
	if len(in) > maxModerators {
		return nil, fieldErr(field, "at most %d entries", maxModerators)
	}
	out := []string{}
	for _, u := range in {
		if err := ValidateUserID(field, u); err != nil {
			return nil, err
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// ValidateUserID checks a user id given as input.
func ValidateUserID(field, id string) error {
	if id == "" || len(id) > maxIDLen || strings.TrimSpace(id) != id || strings.ContainsAny(id, "\x00/") {
		return fieldErr(field, "%q is not a valid user id", id)
	}
	return nil
}

// validateDisplayName trims and checks a display name; empty stays empty.
func validateDisplayName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if utf8.RuneCountInString(n) > maxDisplayNameLen {
		return "", fieldErr("displayName", "must be at most %d characters", maxDisplayNameLen)
	}
	if strings.ContainsAny(n, "\x00\r\n") {
		return "", fieldErr("displayName", "must be a single line")
	}
	return n, nil
}

var lowerB32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomString returns n lowercase letters and digits from crypto/rand.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand documents it)
	return lowerB32.EncodeToString(b)[:n]
}

// generateName returns a readable random room name such as "kfw-qzta-mne".
func generateName() string {
	s := randomString(10)
	return s[:3] + "-" + s[3:7] + "-" + s[7:10]
}

func newInviteCode() string { return randomString(20) }

// NewGuestID makes the id a browser keeps for its guest joins (the HTTP layer stores it in
// a signed cookie): 26 lowercase letters and digits, 130 random bits.
func NewGuestID() string { return randomString(26) }

// keyIdentity is the identity of a participant that joined with the API key keyID: the
// key's id and a random suffix, a new one on every join (several of a key's participants
// may be in one room), never the identity of the administrator who created the key.
func keyIdentity(keyID string) string {
	if len(keyID) > 64 {
		keyID = keyID[:64] // key ids are UUIDs; the bound keeps an identity well within LiveKit's
	}
	return "key-" + keyID + "-" + randomString(10)
}

// guestIdentity is a guest's participant identity: the same for every join with one id,
// so that a ban of that identity holds against the next join from that browser.
func guestIdentity(id string) (string, error) {
	if id == "" {
		id = NewGuestID() // a caller without a browser to remember it
	}
	if len(id) > 64 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		return "", fieldErr("guestId", "is not a guest id this server issued")
	}
	return "guest-" + id, nil
}
