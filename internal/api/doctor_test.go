package api

import (
	"testing"
)

func TestAdminDoctor(t *testing.T) {
	e := newAuthEnv(t)
	root := e.user("root@example.com", true)
	user := e.user("ann@example.com", false)
	r := e.do("GET", "/api/admin/doctor", nil, root.AccessToken)
	r.want(t, 200, "")
	if want := `{"items":[{"check":"port server.listen","status":"FAIL","detail":"taken","fix":"move it"}]}`; r.raw != want {
		t.Errorf("got %s, want %s", r.raw, want)
	}
	e.do("GET", "/api/admin/doctor", nil, user.AccessToken).want(t, 403, "forbidden")
	e.do("GET", "/api/admin/doctor", nil, "").want(t, 401, "unauthorized")
}
