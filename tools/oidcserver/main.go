// Command oidcserver is a real OpenID provider for Parley's tests: zitadel/oidc's example
// server (its login page, storage and endpoints, unchanged) with one addition, a "groups"
// claim, because Parley maps a provider group to its admin role and the example has none.
//
// Environment: PORT (default 0: any free port), REDIRECT_URI (comma-separated redirect
// URIs the "web" client, secret "secret", may use), USERS_FILE (the example's JSON user
// file; default: its two built-in users), POST_LOGOUT_REDIRECT_URI (comma-separated URIs
// the end_session endpoint may send the browser back to). A user with IsAdmin gets the groups
// ["staff", "parley-admins"], every other user ["staff"]. Once it listens it prints
// "oidcserver issuer <url>" on stdout.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/zitadel/oidc/v3/example/server/config"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "oidcserver:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := config.FromEnvVars(&config.Config{Port: "0"})
	ln, err := net.Listen("tcp", "127.0.0.1:"+cfg.Port)
	if err != nil {
		return err
	}
	issuer := fmt.Sprintf("http://%s/", ln.Addr())
	storage.RegisterClients(storage.WebClient("web", "secret", cfg.RedirectURI...))
	users := storage.NewUserStore(issuer)
	if cfg.UsersFile != "" {
		if users, err = storage.StoreFromFile(cfg.UsersFile); err != nil {
			return fmt.Errorf("USERS_FILE: %w", err)
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	st := groupStorage{Storage: storage.NewStorage(users), users: users}
	if v := os.Getenv("POST_LOGOUT_REDIRECT_URI"); v != "" {
		st.postLogout = strings.Split(v, ",")
	}
	router := exampleop.SetupServer(issuer, st, logger, false)
	fmt.Printf("oidcserver issuer %s\n", issuer)
	return (&http.Server{Handler: router}).Serve(ln)
}

// groupStorage adds the groups claim to the ID token and the userinfo answer, and the
// post-logout redirect URIs the example's clients cannot be given.
type groupStorage struct {
	*storage.Storage
	users      storage.UserStore
	postLogout []string
}

type logoutClient struct {
	op.Client
	postLogout []string
}

func (c logoutClient) PostLogoutRedirectURIs() []string { return c.postLogout }

func (g groupStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := g.Storage.GetClientByClientID(ctx, id)
	if err != nil || len(g.postLogout) == 0 {
		return c, err
	}
	return logoutClient{Client: c, postLogout: g.postLogout}, nil
}

func (g groupStorage) groups(userID string) []string {
	if u := g.users.GetUserByID(userID); u != nil && u.IsAdmin {
		return []string{"staff", "parley-admins"}
	}
	return []string{"staff"}
}

func (g groupStorage) GetPrivateClaimsFromScopes(ctx context.Context, userID, clientID string, scopes []string) (map[string]any, error) {
	claims, err := g.Storage.GetPrivateClaimsFromScopes(ctx, userID, clientID, scopes)
	if claims == nil {
		claims = map[string]any{}
	}
	claims["groups"] = g.groups(userID)
	return claims, err
}

func (g groupStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := g.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	info.AppendClaims("groups", g.groups(info.Subject))
	return nil
}
