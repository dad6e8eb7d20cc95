package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley/parley/internal/testenv"
)

func httpStatus(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// On a server whose public URL is not loopback, /metrics is closed on the main port unless
// the token is sent, and server.metricsListen serves it on its own address instead.
func TestMetricsOnPublicServer(t *testing.T) {
	const public = "PARLEY_SERVER_PUBLIC_URL=https://meet.example.com"
	t.Run("token", func(t *testing.T) {
		p := startParley(t, testEnv(t, public, "PARLEY_SERVER_METRICS_TOKEN=metrics-secret"))
		if code, body := httpStatus(t, "http://"+p.addr+"/metrics", ""); code != 401 {
			t.Fatalf("without the token: %d %s", code, body)
		}
		if code, body := httpStatus(t, "http://"+p.addr+"/metrics", "metrics-secret"); code != 200 || !strings.Contains(body, "go_goroutines") {
			t.Fatalf("with the token: %d %.200s", code, body)
		}
	})
	t.Run("neither", func(t *testing.T) {
		p := startParley(t, testEnv(t, public))
		if code, body := httpStatus(t, "http://"+p.addr+"/metrics", ""); code != 403 || !strings.Contains(body, "server.metricsListen") {
			t.Fatalf("public server without token: %d %s", code, body)
		}
	})
	t.Run("own listener", func(t *testing.T) {
		addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
		p := startParley(t, testEnv(t, public, "PARLEY_SERVER_METRICS_LISTEN="+addr))
		if code, _ := httpStatus(t, "http://"+p.addr+"/metrics", ""); code != 404 {
			t.Fatalf("main port with metricsListen: %d", code)
		}
		if code, body := httpStatus(t, "http://"+addr+"/metrics", ""); code != 200 || !strings.Contains(body, "parley_http_requests_total") {
			t.Fatalf("metrics listener: %d %.200s", code, body)
		}
	})
}
