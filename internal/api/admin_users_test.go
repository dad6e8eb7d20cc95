package api

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/parley/parley/internal/auth/authtest"
)

func TestAdminUsersList(t *testing.T) {
	e := newAuthEnv(t)
	root := e.user("root@example.com", true)
	user := e.user("zoe@example.com", false)
	for i := 0; i < 4; i++ {
		e.user(fmt.Sprintf("u%d@example.com", i), false)
	}
	items := func(r resp) []string {
		var out []string
		list, _ := r.body["items"].([]any)
		for _, it := range list {
			out = append(out, it.(map[string]any)["email"].(string))
		}
		return out
	}

	// Pages of 2 walk every account once, in email order.
	var got []string
	cursor := ""
	for page := 0; page < 10; page++ {
		r := e.do("GET", "/api/admin/users?limit=2&cursor="+url.QueryEscape(cursor), nil, root.AccessToken)
		r.want(t, 200, "")
		got = append(got, items(r)...)
		if cursor = r.str("nextCursor"); cursor == "" {
			break
		}
	}
	want := "[root@example.com u0@example.com u1@example.com u2@example.com u3@example.com zoe@example.com]"
	if fmt.Sprint(got) != want {
		t.Errorf("pages gave %v, want %s", got, want)
	}

	for _, tc := range []struct {
		name, query, token string
		status             int
		code, want         string
	}{
		{"search email", "?q=ZOE", root.AccessToken, 200, "", "[zoe@example.com]"},
		{"search name", "?q=u2@", root.AccessToken, 200, "", "[u2@example.com]"},
		{"search wildcard is literal", "?q=%25", root.AccessToken, 200, "", "[]"},
		{"limit too big", "?limit=201", root.AccessToken, 400, "invalid_field", ""},
		{"limit not a number", "?limit=x", root.AccessToken, 400, "invalid_field", ""},
		{"bad cursor", "?cursor=%21%21", root.AccessToken, 400, "invalid_field", ""},
		{"not admin", "", user.AccessToken, 403, "forbidden", ""},
		{"anonymous", "", "", 401, "unauthorized", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/api/admin/users"+tc.query, nil, tc.token)
			r.want(t, tc.status, tc.code)
			if tc.want != "" && fmt.Sprint(items(r)) != tc.want && !(tc.want == "[]" && len(items(r)) == 0) {
				t.Errorf("got %v, want %s", items(r), tc.want)
			}
		})
	}
	if r := e.do("GET", "/api/admin/users", nil, root.AccessToken); r.raw[:10] != `{"items":[` {
		t.Errorf("list shape: %s", r.raw)
	}
}

func TestAdminUsersPatchBadInput(t *testing.T) {
	e := newAuthEnv(t)
	root := e.user("root@example.com", true)
	user := e.user("yan@example.com", false)
	path := "/api/admin/users/" + user.User.ID
	for _, tc := range []struct {
		name, path string
		body       any
		token      string
		status     int
		code       string
	}{
		{"bad role", path, map[string]any{"role": "owner"}, root.AccessToken, 400, "invalid_field"},
		{"role not a string", path, map[string]any{"role": 1}, root.AccessToken, 400, "invalid_field"},
		{"role null", path, `{"role":null}`, root.AccessToken, 400, "invalid_field"},
		{"disabled not a bool", path, map[string]any{"disabled": "yes"}, root.AccessToken, 400, "invalid_field"},
		{"unknown field", path, map[string]any{"email": "x@example.com"}, root.AccessToken, 400, "unknown_field"},
		{"malformed json", path, `{"role":`, root.AccessToken, 400, "invalid_json"},
		{"unknown user", "/api/admin/users/nope", map[string]any{"disabled": true}, root.AccessToken, 404, "user_not_found"},
		{"not admin", path, map[string]any{"role": "admin"}, user.AccessToken, 403, "forbidden"},
		{"anonymous", path, map[string]any{"role": "admin"}, "", 401, "unauthorized"},
		{"demote the last admin", "/api/admin/users/" + root.User.ID, map[string]any{"role": "user"}, root.AccessToken, 409, "last_admin"},
		{"disable the last admin", "/api/admin/users/" + root.User.ID, map[string]any{"disabled": true}, root.AccessToken, 409, "last_admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			e.do("PATCH", tc.path, tc.body, tc.token).want(t, tc.status, tc.code)
			if e.snapshot() != before {
				t.Error("the refused request changed the database")
			}
		})
	}
}

// TestAdminChangesApplyAtOnce: role changes and disabling take effect on the user's very
// next request, with the access token they already hold.
func TestAdminChangesApplyAtOnce(t *testing.T) {
	e := newAuthEnv(t)
	root := e.user("root@example.com", true)
	u := e.user("xavier@example.com", false)
	path := "/api/admin/users/" + u.User.ID

	e.do("GET", "/api/admin/users", nil, u.AccessToken).want(t, 403, "forbidden")
	r := e.do("PATCH", path, map[string]any{"role": "admin"}, root.AccessToken)
	r.want(t, 200, "")
	if r.str("role") != "admin" {
		t.Fatalf("patch answered %s", r.raw)
	}
	e.do("GET", "/api/admin/users", nil, u.AccessToken).want(t, 200, "") // same token, now admin
	if e.do("GET", "/api/auth/me", nil, u.AccessToken).str("role") != "admin" {
		t.Error("me does not show the new role")
	}
	// Two admins: either may now be demoted, but not both.
	e.do("PATCH", "/api/admin/users/"+root.User.ID, map[string]any{"role": "user"}, u.AccessToken).want(t, 200, "")
	e.do("PATCH", path, map[string]any{"role": "user"}, u.AccessToken).want(t, 409, "last_admin")
	e.do("GET", "/api/admin/users", nil, root.AccessToken).want(t, 403, "forbidden")
	e.do("PATCH", "/api/admin/users/"+root.User.ID, map[string]any{"role": "admin"}, u.AccessToken).want(t, 200, "")

	// Disabling: the very next request fails, every session is revoked, login is refused.
	second := e.do("POST", "/api/auth/login", map[string]any{"email": "xavier@example.com", "password": authtest.Password}, "")
	e.do("GET", "/api/auth/me", nil, u.AccessToken).want(t, 200, "")
	r = e.do("PATCH", path, map[string]any{"disabled": true}, root.AccessToken)
	r.want(t, 200, "")
	if r.body["disabled"] != true {
		t.Fatalf("patch answered %s", r.raw)
	}
	e.do("GET", "/api/auth/me", nil, u.AccessToken).want(t, 403, "user_disabled")
	e.do("GET", "/api/auth/me", nil, second.str("accessToken")).want(t, 403, "user_disabled")
	e.do("POST", "/api/auth/refresh", map[string]any{"refreshToken": u.RefreshToken}, "").want(t, 403, "user_disabled")
	e.do("POST", "/api/auth/login", map[string]any{"email": "xavier@example.com", "password": authtest.Password}, "").want(t, 403, "user_disabled")
	var live int64
	e.db.Raw("SELECT COUNT(*) FROM sessions WHERE user_id = ? AND revoked_at IS NULL", u.User.ID).Scan(&live)
	if live != 0 {
		t.Errorf("%d sessions still live after disabling", live)
	}
	e.do("POST", "/api/auth/login", map[string]any{"email": "xavier@example.com", "password": "wrong password"}, "").want(t, 401, "invalid_credentials")

	// Enabling again does not bring old sessions back: the user logs in anew.
	e.do("PATCH", path, map[string]any{"disabled": false}, root.AccessToken).want(t, 200, "")
	e.do("GET", "/api/auth/me", nil, u.AccessToken).want(t, 401, "session_revoked")
	e.do("POST", "/api/auth/login", map[string]any{"email": "xavier@example.com", "password": authtest.Password}, "").want(t, 200, "")
	// An empty patch changes nothing and answers the user.
	if r := e.do("PATCH", path, map[string]any{}, root.AccessToken); r.status != 200 || r.str("email") != "xavier@example.com" {
		t.Errorf("empty patch: %d %s", r.status, r.raw)
	}
}
