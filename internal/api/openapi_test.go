package api_test

import (
	"io"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/parley/parley/internal/api"
	"github.com/parley/parley/internal/api/openapitest"
)

// fiberParam is a Fiber route parameter (:name) or its wildcard tail (*).
var fiberParam = regexp.MustCompile(`:([A-Za-z]+)|\*`)

// TestOpenAPICoversEveryRoute: every route registered in Fiber is in openapi.yaml with its
// method, and every operation of openapi.yaml is a registered route.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc, err := openapitest.Load(api.OpenAPIYAML())
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{} // "METHOD /path/{param}"
	methods := map[string]int{}     // path -> methods registered (app.All registers all nine)
	for _, r := range api.NewForRouteList(t).GetRoutes(true) {
		if r.Path == "/*" || r.Method == "HEAD" {
			continue // the web app's fallback; HEAD comes with every GET
		}
		path := fiberParam.ReplaceAllStringFunc(r.Path, func(m string) string {
			if m == "*" {
				return "{path}"
			}
			return "{" + m[1:] + "}"
		})
		registered[r.Method+" "+path] = true
		methods[path]++
	}
	documented := map[string]bool{}
	for path, item := range doc.T.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for k := range registered {
		_, path, _ := strings.Cut(k, " ")
		if methods[path] >= 8 { // a proxy of every method, documented by its GET
			k = "GET " + path
		}
		if !documented[k] {
			t.Errorf("route %s is registered but not in internal/api/openapi.yaml", k)
		}
	}
	for k := range documented {
		if !registered[k] {
			t.Errorf("openapi.yaml documents %s, which no route serves", k)
		}
	}
}

// The document is served as JSON, the embedded one, and it validates as OpenAPI 3.1.
func TestOpenAPIServed(t *testing.T) {
	resp, err := api.NewForRouteList(t).Test(httptest.NewRequest("GET", "/api/openapi.json", nil))
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json: %v %v", resp, err)
	}
	got, _ := io.ReadAll(resp.Body)
	want, err := api.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) || !strings.Contains(string(got), `"openapi":"3.1.0"`) {
		t.Errorf("served %.200s, want the embedded 3.1 document", got)
	}
	doc, err := openapitest.Load(api.OpenAPIYAML())
	if err != nil {
		t.Fatal(err)
	}
	if !doc.T.IsOpenAPI31OrLater() {
		t.Errorf("kin-openapi reads version %s", doc.T.OpenAPI)
	}
}
