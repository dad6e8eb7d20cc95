package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator is a software passkey authenticator for Go tests of the WebAuthn ceremonies:
// one discoverable ES256 credential made with "none" attestation and user verification,
// answering as a browser would (PublicKeyCredential.toJSON). Chromium's virtual authenticator
// is the proof with a real browser; this one lets API tests run the ceremonies without one.
type Authenticator struct {
	Origin string // the page's origin, e.g. http://parley.test
	RPID   string

	key        *ecdsa.PrivateKey
	credID     []byte
	userHandle []byte
	count      uint32
}

// NewAuthenticator makes an authenticator with no credential yet.
func NewAuthenticator(origin, rpID string) *Authenticator {
	return &Authenticator{Origin: origin, RPID: rpID}
}

var b64 = base64.RawURLEncoding

// ceremonyOptions is the part of the server's options an authenticator reads.
type ceremonyOptions struct {
	Options struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RPID      string `json:"rpId"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	} `json:"options"`
}

func (a *Authenticator) authData(flags byte, attested []byte) []byte {
	rp := sha256.Sum256([]byte(a.RPID))
	out := append([]byte{}, rp[:]...)
	out = append(out, flags)
	out = binary.BigEndian.AppendUint32(out, a.count)
	return append(out, attested...)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// Create answers a registration ceremony (the JSON a begin route returned) with a new credential.
func (a *Authenticator) Create(ceremony []byte) (map[string]any, error) {
	var c ceremonyOptions
	if err := json.Unmarshal(ceremony, &c); err != nil {
		return nil, err
	}
	pk := c.Options.PublicKey
	if pk.RP.ID != a.RPID {
		return nil, fmt.Errorf("the server's RP ID is %q, the authenticator's %q", pk.RP.ID, a.RPID)
	}
	var err error
	if a.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	a.credID = make([]byte, 32)
	_, _ = rand.Read(a.credID)
	if a.userHandle, err = b64.DecodeString(pk.User.ID); err != nil {
		return nil, fmt.Errorf("user.id: %w", err)
	}
	x, y := make([]byte, 32), make([]byte, 32)
	a.key.X.FillBytes(x)
	a.key.Y.FillBytes(y)
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y}) // EC2, ES256, P-256
	if err != nil {
		return nil, err
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(a.credID)))
	attested = append(append(attested, a.credID...), cose...)
	const up, uv, at = 0x01, 0x04, 0x40
	obj, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(up|uv|at, attested)})
	if err != nil {
		return nil, err
	}
	id := b64.EncodeToString(a.credID)
	return map[string]any{"id": id, "rawId": id, "type": "public-key", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(a.clientData("webauthn.create", pk.Challenge)),
			"attestationObject": b64.EncodeToString(obj), "transports": []string{"internal"}}}, nil
}

// Get answers a sign-in ceremony with the credential (discoverable: it names its user).
func (a *Authenticator) Get(ceremony []byte) (map[string]any, error) {
	var c ceremonyOptions
	if err := json.Unmarshal(ceremony, &c); err != nil {
		return nil, err
	}
	if a.key == nil {
		return nil, fmt.Errorf("the authenticator holds no credential")
	}
	a.count++
	const up, uv = 0x01, 0x04
	data := a.authData(up|uv, nil)
	cd := a.clientData("webauthn.get", c.Options.PublicKey.Challenge)
	sum := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, data...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		return nil, err
	}
	id := b64.EncodeToString(a.credID)
	return map[string]any{"id": id, "rawId": id, "type": "public-key", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(data),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.userHandle)}}, nil
}
