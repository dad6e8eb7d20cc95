package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/gofiber/fiber/v2"
	"gopkg.in/yaml.v3"
)

// openapiYAML is the OpenAPI 3.1 description of every route (kept beside routes.go; a test
// holds the two equal both ways and validates real answers against it).
//
//go:embed openapi.yaml
var openapiYAML []byte

var openapiJSON = sync.OnceValues(func() ([]byte, error) { return OpenAPIJSON() })

// OpenAPIYAML is the embedded document as written.
func OpenAPIYAML() []byte { return openapiYAML }

// OpenAPIJSON is the embedded document as JSON.
func OpenAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("api: openapi.yaml: %w", err)
	}
	return json.Marshal(stringKeys(doc))
}

// stringKeys makes every YAML mapping a JSON object (an unquoted 200: is an integer key).
func stringKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = stringKeys(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = stringKeys(e)
		}
	}
	return v
}

// GET /api/openapi.json
func (s *server) openAPI(c *fiber.Ctx) error {
	b, err := openapiJSON()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(b)
}
