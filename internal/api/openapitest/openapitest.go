// Package openapitest holds real answers to the OpenAPI document of internal/api:
// integration tests hand it every response they get, and it fails the test on one the
// document does not describe (an undocumented status, a body off its schema).
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Doc is the loaded, validated document.
type Doc struct {
	T      *openapi3.T
	routes []route
}

type route struct {
	path   string
	re     *regexp.Regexp
	params []string
}

var (
	once    sync.Once
	loaded  *Doc
	loadErr error
)

// Load parses and validates the document, api.OpenAPIYAML() (once per process). It takes
// the bytes rather than importing internal/api, so that package's own tests can use it.
func Load(yaml []byte) (*Doc, error) {
	once.Do(func() { loaded, loadErr = load(yaml) })
	return loaded, loadErr
}

var param = regexp.MustCompile(`\{([^}]+)\}`)

func load(yaml []byte) (*Doc, error) {
	// Recording files and audit exports are checked for their status and type, not decoded.
	for _, ct := range []string{"video/mp4", "application/octet-stream", "application/x-ndjson", "text/calendar"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	l := openapi3.NewLoader()
	t, err := l.LoadFromData(yaml)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	d := &Doc{T: t}
	for path := range t.Paths.Map() {
		r := route{path: path}
		var pattern strings.Builder
		pattern.WriteString("^")
		for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
			pattern.WriteString("/")
			m := param.FindStringSubmatch(seg)
			switch {
			case m == nil:
				pattern.WriteString(regexp.QuoteMeta(seg))
			case m[1] == "path": // the signalling proxy's tail may hold slashes
				r.params = append(r.params, m[1])
				pattern.WriteString("(.+)")
			default:
				r.params = append(r.params, m[1])
				pattern.WriteString("([^/]+)")
			}
		}
		r.re = regexp.MustCompile(pattern.String() + "$")
		d.routes = append(d.routes, r)
	}
	// A literal path wins over a template: /a/b before /a/{x}.
	sort.Slice(d.routes, func(i, j int) bool { return len(d.routes[i].params) < len(d.routes[j].params) })
	return d, nil
}

// Check validates one answer to req. It returns nil for a path outside the API (the web
// app) and an error naming the route for anything the document does not allow.
func (d *Doc) Check(req *http.Request, status int, header http.Header, body []byte) error {
	path := req.URL.Path
	if !strings.HasPrefix(path, "/api/") && path != "/healthz" && path != "/readyz" && path != "/metrics" {
		return nil
	}
	for _, r := range d.routes {
		m := r.re.FindStringSubmatch(path)
		if m == nil {
			continue
		}
		item := d.T.Paths.Value(r.path)
		op := item.GetOperation(req.Method)
		if op == nil {
			return fmt.Errorf("%s %s: the document has %s but not this method", req.Method, path, r.path)
		}
		params := map[string]string{}
		for i, name := range r.params {
			params[name] = m[i+1]
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params,
				Route: &routers.Route{Spec: d.T, Path: r.path, PathItem: item, Method: req.Method, Operation: op}},
			Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			return fmt.Errorf("%s %s -> %d does not match %s in openapi.yaml: %w\nbody: %.500s", req.Method, path, status, r.path, err, body)
		}
		return nil
	}
	if status == http.StatusNotFound {
		return nil // an unknown route's answer
	}
	return fmt.Errorf("%s %s -> %d: no path of openapi.yaml matches", req.Method, path, status)
}

// Client wraps an http.Client so that every API answer it gets is checked against the
// document yaml; failures are reported through fail (t.Errorf).
func Client(base *http.Client, yaml []byte, fail func(format string, args ...any)) *http.Client {
	c := *base
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = checking{next: next, yaml: yaml, fail: fail}
	return &c
}

type checking struct {
	next http.RoundTripper
	yaml []byte
	fail func(format string, args ...any)
}

func (c checking) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return resp, nil
	}
	d, lerr := Load(c.yaml)
	if lerr != nil {
		c.fail("%v", lerr)
		return resp, nil
	}
	if err := d.Check(req, resp.StatusCode, resp.Header, body); err != nil {
		c.fail("API contract: %v", err)
	}
	return resp, nil
}
