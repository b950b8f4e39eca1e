package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// openapiYAML is the API's OpenAPI 3.1 document, written by hand next to
// the handlers it describes; the API tests check every answer they get
// against it.
//
//go:embed openapi.yaml
var openapiYAML []byte

// rateHeaders are on every answer; the document lists them on every
// response, added here rather than repeated a hundred times in the YAML.
var rateHeaders = []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}

// Document returns the OpenAPI document as JSON (built once).
var Document = sync.OnceValues(func() ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	addHeaders := func(resp any) {
		r, ok := resp.(map[string]any)
		if !ok || r["$ref"] != nil {
			return
		}
		h, _ := r["headers"].(map[string]any)
		if h == nil {
			h = map[string]any{}
			r["headers"] = h
		}
		for _, name := range rateHeaders {
			h[name] = map[string]any{"$ref": "#/components/headers/" + name}
		}
	}
	if comps, ok := doc["components"].(map[string]any); ok {
		if rs, ok := comps["responses"].(map[string]any); ok {
			for _, r := range rs {
				addHeaders(r)
			}
		}
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for _, op := range ops {
			o, ok := op.(map[string]any)
			if !ok {
				continue
			}
			if rs, ok := o["responses"].(map[string]any); ok {
				for _, r := range rs {
					addHeaders(r)
				}
			}
		}
	}
	return json.Marshal(allOfRefs(doc))
})

// allOfRefs rewrites schemas that put keywords beside a $ref (valid JSON
// Schema 2020-12, and shorter to write) as allOf of the reference and the
// rest, which every OpenAPI tool reads the same way.
func allOfRefs(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, child := range n {
			n[k] = allOfRefs(child)
		}
		ref, ok := n["$ref"]
		if !ok || len(n) == 1 {
			return n
		}
		rest := map[string]any{}
		for k, child := range n {
			if k != "$ref" {
				rest[k] = child
			}
		}
		return map[string]any{"allOf": []any{map[string]any{"$ref": ref}, rest}}
	case []any:
		for i, child := range n {
			n[i] = allOfRefs(child)
		}
	}
	return v
}

// OpenAPI serves the document.
func (a *API) OpenAPI(c echo.Context) error {
	b, err := Document()
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, b)
}
