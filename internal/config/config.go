// Package config is Parley's configuration contract (the README's Configuration section): the keys, their
// defaults, strict YAML decoding, PARLEY_* environment overrides and validation.
package config

import (
	"time"
)

// Config is the whole configuration. yaml tags are the contract's key names; the
// environment name of each key is derived from them (see EnvName).
type Config struct {
	Server    Server    `yaml:"server"`
	Database  Database  `yaml:"database"`
	Auth      Auth      `yaml:"auth"`
	SMTP      SMTP      `yaml:"smtp"`
	LiveKit   LiveKit   `yaml:"livekit"`
	Recording Recording `yaml:"recording"`
	Webhooks  Webhooks  `yaml:"webhooks"`
	Audit     Audit     `yaml:"audit"`
	Rooms     Rooms     `yaml:"rooms"`
	Log       Log       `yaml:"log"`
}

// Webhooks tunes the delivery of outbound webhooks (the endpoints are registered by admins
// through the API): the first retry waits retryBase, each later one twice as long up to
// retryMax, for retryFor in all, then the delivery is dead-lettered; timeout bounds one
// attempt.
type Webhooks struct {
	RetryBase Duration `yaml:"retryBase"`
	RetryMax  Duration `yaml:"retryMax"`
	RetryFor  Duration `yaml:"retryFor"`
	Timeout   Duration `yaml:"timeout"`
}

// Audit is the audit log.
type Audit struct {
	// RetentionDays removes entries older than this many days (0: keep them all); the
	// chain stays verifiable from the last removed entry.
	RetentionDays int `yaml:"retentionDays"`
}

// Rooms tunes meeting features of every room.
type Rooms struct {
	// LobbyTimeout is how long a request to be let in waits before it expires.
	LobbyTimeout Duration `yaml:"lobbyTimeout"`
}

// Server is the HTTP side.
type Server struct {
	Listen         string   `yaml:"listen"`
	PublicURL      string   `yaml:"publicURL"`
	DataDir        string   `yaml:"dataDir"`
	TLS            TLS      `yaml:"tls"`
	HTTPListen     string   `yaml:"httpListen"` // plain HTTP: ACME HTTP-01, else a redirect to https
	TrustedProxies []string `yaml:"trustedProxies"`
	BodyLimit      int      `yaml:"bodyLimit"` // bytes; request bodies above it get 413
	// MetricsToken is the bearer token /metrics asks for when publicURL is not loopback.
	MetricsToken string `yaml:"metricsToken" secret:"true"`
	// MetricsListen serves /metrics on its own address (and no longer on listen).
	MetricsListen string     `yaml:"metricsListen"`
	RateLimits    RateLimits `yaml:"rateLimits"`
}

// RateLimits bound what one client address (and one user, when logged in) may do: the
// first four are actions a minute, eventStreams the streams open at once.
type RateLimits struct {
	GuestJoins      int `yaml:"guestJoins"`
	Registrations   int `yaml:"registrations"`
	RoomCreations   int `yaml:"roomCreations"`
	RecordingStarts int `yaml:"recordingStarts"`
	EventStreams    int `yaml:"eventStreams"`
}

// TLS says where Parley's certificate comes from: files (cert/key, reused by TURN/TLS),
// ACME, or a local CA (selfSigned). At most one.
type TLS struct {
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	ACME       ACME   `yaml:"acme"`
	SelfSigned bool   `yaml:"selfSigned"`
}

// ACME obtains and renews the certificate of publicURL's host (and the TURN domain).
type ACME struct {
	Enabled      bool   `yaml:"enabled"`
	Email        string `yaml:"email"`
	DirectoryURL string `yaml:"directoryURL"`
	CARoot       string `yaml:"caRoot"` // PEM trusted for the CA's own HTTPS (test CAs)
	// Profile is the CA's certificate profile ("" = its default; Let's Encrypt offers
	// "classic", "tlsserver" and the six-day "shortlived").
	Profile string `yaml:"profile"`
	// RenewCheckInterval is how often the certificates are checked for renewal. The default
	// suits certificates of days or months; a CA issuing minutes-long ones needs seconds.
	RenewCheckInterval Duration `yaml:"renewCheckInterval"`
}

// LetsEncrypt is the default ACME directory (Let's Encrypt production).
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// TLSEnabled says whether Parley serves HTTPS itself, by any of the three modes.
func (s Server) TLSEnabled() bool {
	return s.TLS.Cert != "" || s.TLS.ACME.Enabled || s.TLS.SelfSigned
}

// Database selects the store.
type Database struct {
	Driver string `yaml:"driver" secret:"-"`
	DSN    string `yaml:"dsn" secret:"true"`
}

// SMTP is the mail server Parley sends password resets and invitations through; an empty
// host sends no mail (and turns the forgot-password form off).
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
	From     string `yaml:"from"`     // e.g. "Parley <meet@example.com>"
	Security string `yaml:"security"` // starttls | tls | none
}

// Auth configures accounts and sessions.
type Auth struct {
	JWTSecret         string         `yaml:"jwtSecret" secret:"true"`
	AccessTTL         Duration       `yaml:"accessTTL"`
	RefreshTTL        Duration       `yaml:"refreshTTL"`
	AllowRegistration bool           `yaml:"allowRegistration"`
	BootstrapAdmin    BootstrapAdmin `yaml:"bootstrapAdmin"`
	// LoginRate is how many login/register/refresh attempts one IP+email may make a minute.
	LoginRate int `yaml:"loginRate"`
	// PasswordLogin false leaves only single sign-on (and passkeys) to sign in with.
	PasswordLogin bool `yaml:"passwordLogin"`
	// OIDC are the OpenID providers offered as "Sign in with <displayName>".
	OIDC []OIDCProvider `yaml:"oidc"`
}

// OIDCProvider is one OpenID Connect provider Parley signs users in with.
type OIDCProvider struct {
	Name         string   `yaml:"name"` // URL-safe id: /api/auth/oidc/<name>/login
	DisplayName  string   `yaml:"displayName"`
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"clientID"`
	ClientSecret string   `yaml:"clientSecret" secret:"true"`
	Scopes       []string `yaml:"scopes"`      // default openid, email, profile
	NameClaim    string   `yaml:"nameClaim"`   // default "name"
	EmailClaim   string   `yaml:"emailClaim"`  // default "email"
	GroupsClaim  string   `yaml:"groupsClaim"` // default "groups"
	AdminGroup   string   `yaml:"adminGroup"`  // members are admins; empty: the provider grants no role
	// CreateUsers makes an account at a first sign-in; false: only existing accounts (by
	// verified e-mail) may sign in. A pointer so that an omitted key means true.
	CreateUsers *bool `yaml:"createUsers"`
}

// BootstrapAdmin is the first administrator, created when no admin exists.
type BootstrapAdmin struct {
	Email    string `yaml:"email"`
	Password string `yaml:"password" secret:"true"`
}

// LiveKit configures the SFU, embedded or external.
type LiveKit struct {
	External          bool     `yaml:"external"`
	Binary            string   `yaml:"binary"`
	ConfigPath        string   `yaml:"configPath"`
	Host              string   `yaml:"host"`
	InternalHost      string   `yaml:"internalHost"`
	APIKey            string   `yaml:"apiKey" secret:"true"`
	APISecret         string   `yaml:"apiSecret" secret:"true"`
	SkipTLSVerify     bool     `yaml:"skipTLSVerify"`
	NodeIP            string   `yaml:"nodeIP"`
	UseExternalIP     bool     `yaml:"useExternalIP"` // embedded: LiveKit finds its public address by STUN
	Port              int      `yaml:"port"`
	RTC               RTC      `yaml:"rtc"`
	TURN              TURN     `yaml:"turn"`
	Redis             Redis    `yaml:"redis"`
	EmptyTimeout      Duration `yaml:"emptyTimeout"`
	DepartureTimeout  Duration `yaml:"departureTimeout"`
	ReconcileInterval Duration `yaml:"reconcileInterval"`
	StartTimeout      Duration `yaml:"startTimeout"` // embedded: how long Start waits for ready
	TokenTTL          Duration `yaml:"tokenTTL"`     // validity of join tokens
}

// RTC are LiveKit's media ports.
type RTC struct {
	TCPPort      int `yaml:"tcpPort"`
	UDPPortStart int `yaml:"udpPortStart"`
	UDPPortEnd   int `yaml:"udpPortEnd"`
}

// TURN is LiveKit's embedded TURN server.
type TURN struct {
	Enabled bool   `yaml:"enabled"`
	Domain  string `yaml:"domain"`
	UDPPort int    `yaml:"udpPort"`
	TLSPort int    `yaml:"tlsPort"`
}

// Redis lets several LiveKit nodes form a cluster.
type Redis struct {
	Address  string `yaml:"address"`
	Password string `yaml:"password" secret:"true"`
	DB       int    `yaml:"db"`
}

// Recording configures recordings and their storage.
type Recording struct {
	Backend       string   `yaml:"backend"`
	Storage       Storage  `yaml:"storage"`
	AutoRooms     []string `yaml:"autoRooms"`
	StartTimeout  Duration `yaml:"startTimeout"`
	RetentionDays int      `yaml:"retentionDays"`
	KeepTracks    bool     `yaml:"keepTracks"`
	// DisableManifest turns off the JSON manifest written beside each recording.
	DisableManifest bool `yaml:"disableManifest"`
	// MaxConcurrentCompositions bounds the built-in recorder's ffmpeg jobs; the rest queue.
	MaxConcurrentCompositions int `yaml:"maxConcurrentCompositions"`
	// RetryBackoff is the wait before the first retry of a failed composition or upload
	// (doubled after each failure); MaxAttempts bounds the attempts in all.
	RetryBackoff Duration `yaml:"retryBackoff"`
	MaxAttempts  int      `yaml:"maxAttempts"`
}

// Storage is where finished recordings go.
type Storage struct {
	Type            string `yaml:"type"`
	Root            string `yaml:"root"`
	Bucket          string `yaml:"bucket"`
	Prefix          string `yaml:"prefix"`
	Region          string `yaml:"region"`
	Endpoint        string `yaml:"endpoint"`
	PathStyle       bool   `yaml:"pathStyle"`
	AccessKeyID     string `yaml:"accessKeyID" secret:"true"`
	SecretAccessKey string `yaml:"secretAccessKey" secret:"true"`
}

// Log configures log/slog.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Default returns the built-in defaults: a zero-config single machine.
func Default() Config {
	return Config{
		Server: Server{
			Listen:    "127.0.0.1:8090",
			PublicURL: "http://localhost:8090",
			DataDir:   "./data",
			TLS:       TLS{ACME: ACME{DirectoryURL: LetsEncrypt, RenewCheckInterval: Duration(10 * time.Minute)}},
			BodyLimit: 1 << 20,
			RateLimits: RateLimits{GuestJoins: 60, Registrations: 20, RoomCreations: 30,
				RecordingStarts: 10, EventStreams: 20},
		},
		Database: Database{Driver: "sqlite"},
		Auth: Auth{
			AccessTTL:         Duration(15 * time.Minute),
			RefreshTTL:        Duration(720 * time.Hour),
			AllowRegistration: true,
			LoginRate:         10,
			PasswordLogin:     true,
		},
		SMTP: SMTP{Port: 587, Security: "starttls"},
		LiveKit: LiveKit{
			Port:              7880,
			RTC:               RTC{TCPPort: 7881, UDPPortStart: 50000, UDPPortEnd: 60000},
			TURN:              TURN{UDPPort: 3478, TLSPort: 5349},
			EmptyTimeout:      Duration(5 * time.Minute),
			DepartureTimeout:  Duration(20 * time.Second),
			ReconcileInterval: Duration(10 * time.Second),
			StartTimeout:      Duration(15 * time.Second),
			TokenTTL:          Duration(10 * time.Minute),
		},
		Recording: Recording{
			Backend:                   "builtin",
			Storage:                   Storage{Type: "fs"},
			StartTimeout:              Duration(30 * time.Second),
			MaxConcurrentCompositions: 1,
			RetryBackoff:              Duration(time.Minute),
			MaxAttempts:               6,
		},
		Webhooks: Webhooks{RetryBase: Duration(5 * time.Second), RetryMax: Duration(time.Hour),
			RetryFor: Duration(24 * time.Hour), Timeout: Duration(10 * time.Second)},
		Rooms: Rooms{LobbyTimeout: Duration(10 * time.Minute)},
		Log:   Log{Level: "info", Format: "text"},
	}
}
