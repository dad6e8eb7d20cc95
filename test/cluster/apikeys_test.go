package cluster

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/db"
	"github.com/parley/parley/internal/db/dbtest"
	"github.com/parley/parley/internal/livekit/lktest"
	"github.com/parley/parley/internal/testenv"
)

// TestKeysAndAuditAcrossInstances: two parley processes on one PostgreSQL. A key revoked on
// one is refused by the other; both write one audit chain at once, which `parley audit
// verify` checks, and which fails naming the row edited in the database.
func TestKeysAndAuditAcrossInstances(t *testing.T) {
	dsn := dbtest.PostgresDSN(t)
	portA, portB := testenv.FreePort(t), testenv.FreePort(t)
	lk := lktest.Start(t, lktest.Options{APIKey: lkKey, APISecret: lkSecret,
		WebhookURL: fmt.Sprintf("http://127.0.0.1:%d/api/livekit/webhook", portA)})
	env := parleyEnv(lk.WSURL, lk.HTTPURL)
	env["PARLEY_DATABASE_DRIVER"], env["PARLEY_DATABASE_DSN"] = "postgres", dsn
	a := startParley(t, "parley-a", portA, env)
	b := startParley(t, "parley-b", portB, env)
	admin, _ := a.login(t, adminEmail, adminPass)
	a.must(t, 201, "POST", "/api/rooms", admin, map[string]any{"name": "keyroom"})

	t.Run("a revoked key is refused on the other instance", func(t *testing.T) {
		k := a.must(t, 201, "POST", "/api/admin/api-keys", admin, map[string]any{"name": "crm", "scopes": []string{"rooms:read"}})
		key := k["key"].(string)
		list := b.must(t, 200, "GET", "/api/rooms", key, nil)
		if !strings.Contains(fmt.Sprint(list), "keyroom") {
			t.Errorf("B's room list for the key: %v", list)
		}
		if code, body := b.call("DELETE", "/api/rooms/keyroom", key, nil); code != 403 || !bytes.Contains(body, []byte("insufficient_scope")) || !bytes.Contains(body, []byte("rooms:write")) {
			t.Errorf("room deletion with rooms:read on B: %d %s, want 403 insufficient_scope naming rooms:write", code, body)
		}
		a.must(t, 204, "DELETE", "/api/admin/api-keys/"+k["id"].(string), admin, nil)
		took := eventually(t, time.Second, "the key revoked on A is refused on B", func() (bool, string) {
			code, body := b.call("GET", "/api/rooms", key, nil)
			return code == 401, fmt.Sprintf("%d %s", code, body)
		})
		t.Logf("revoked on A, refused on B after %v", took.Round(time.Millisecond))
	})

	t.Run("one audit chain from both instances", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 20 {
			p := []*parley{a, b}[i%2]
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code, body := p.call("POST", "/api/auth/login", "", map[string]any{"email": fmt.Sprintf("nobody%d@example.com", i), "password": "wrong-password-123"}); code != 401 {
					t.Errorf("%s: wrong login answered %d %s", p.Name, code, body)
				}
			}()
		}
		wg.Wait()
		failed := b.must(t, 200, "GET", "/api/admin/audit?action=auth.login_failed&limit=100", admin, nil)
		if items, _ := failed["items"].([]any); len(items) != 20 {
			t.Errorf("failed sign-ins in the audit log: %d, want 20", len(items))
		}
		out, err := auditVerify(t, env)
		if err != nil || !bytes.Contains(out, []byte("chain intact")) {
			t.Fatalf("parley audit verify: %v\n%s", err, out)
		}
		g, err := db.Open("postgres", dsn, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close(g)
		if err := g.Exec("UPDATE audit_entries SET address = '10.9.9.9' WHERE seq = 7").Error; err != nil {
			t.Fatal(err)
		}
		out, err = auditVerify(t, env)
		if err == nil || !bytes.Contains(out, []byte("audit entry 7")) {
			t.Fatalf("verify after editing entry 7: %v\n%s; want a failure naming audit entry 7", err, out)
		}
		t.Logf("parley audit verify after the edit: %s", bytes.TrimSpace(out))
	})
}

// auditVerify runs `parley audit verify` on the instances' database.
func auditVerify(t *testing.T, env map[string]string) ([]byte, error) {
	cmd := exec.Command(parleyBin, "audit", "verify")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd.CombinedOutput()
}
