package dataapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// The document served at /openapi.json is generated from the routes and the view
// types, and checked in (openapi.json, embedded); a test fails when it is stale.
//go:generate go test -run TestOpenAPIDocumentIsCurrent -update .

// OpenAPI returns the API's OpenAPI 3.0 document.
func OpenAPI() ([]byte, error) {
	g := &schemas{defs: map[string]any{}}
	g.defs["Problem"] = g.object(reflect.TypeFor[Problem]())
	paths := map[string]map[string]any{}
	for _, rt := range routes() {
		path := rt.prefix + rt.path
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(rt.method)] = g.operation(rt)
	}
	paths[OpenAPIPath] = map[string]any{"get": map[string]any{
		"operationId": "getOpenAPI", "summary": "This document", "security": []any{},
		"responses": map[string]any{"200": map[string]any{"description": "the OpenAPI document",
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}},
	}}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "consent-operator data API",
			"version": "v1",
			"description": "The data the operator fetched, for the application that owns the end users. " +
				"Authenticate with a Kubernetes ServiceAccount token; a Role granting `get` (read) or `delete` (erase) " +
				"on `bankconnections/data` in the namespace authorizes, for every connection or for the connections it names " +
				"(resourceNames; user-wide operations need a grant without resourceNames).",
		},
		"security": []any{map[string]any{"serviceAccountToken": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"serviceAccountToken": map[string]any{
				"type": "http", "scheme": "bearer", "description": "a Kubernetes ServiceAccount token (TokenRequest or a projected volume)"}},
			"schemas": g.defs,
		},
		"paths": paths,
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenAPI document: %w", err)
	}
	return append(out, '\n'), nil
}

func (g *schemas) operation(rt route) map[string]any {
	params := []any{pathParam("namespace", "the tenant's namespace")}
	who := "the namespace (a grant without resourceNames)"
	if rt.prefix == connectionPrefix {
		params = append(params, pathParam("name", "the BankConnection's name"))
		who = "this BankConnection's name in the namespace"
	} else {
		params = append(params, pathParam("userRef", "the BankConnections' spec.userRef"))
	}
	for _, q := range rt.query {
		s := map[string]any{"type": "string"}
		if q.format == "int32" {
			s = map[string]any{"type": "integer", "format": "int32", "minimum": 1}
		} else if q.format != "" {
			s["format"] = q.format
		}
		params = append(params, map[string]any{"name": q.name, "in": "query", "required": false, "description": q.description, "schema": s})
	}
	problem := func(d string) map[string]any {
		return map[string]any{"description": d, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	}
	responses := map[string]any{
		"200": map[string]any{"description": "OK", "content": map[string]any{"application/json": map[string]any{
			"schema": g.of(reflect.TypeOf(rt.response))}}},
		"400": problem("a malformed parameter"),
		"401": problem("no valid ServiceAccount token"),
		"403": problem("the token's subject lacks the permission; the same answer whether or not anything exists"),
		"500": problem("the store or the apiserver failed"),
	}
	if rt.prefix == connectionPrefix {
		responses["404"] = problem("no BankConnection of that name (only to a caller allowed to read it)")
	}
	return map[string]any{
		"operationId": rt.id,
		"summary":     rt.summary,
		"description": fmt.Sprintf("Needs `%s` on `bankconnections/data` for %s.", rt.verb, who),
		"parameters":  params,
		"responses":   responses,
	}
}

func pathParam(name, description string) map[string]any {
	return map[string]any{"name": name, "in": "path", "required": true, "description": description, "schema": map[string]any{"type": "string"}}
}

// schemas turns view types into JSON schemas the way encoding/json writes them:
// named structs become components, embedded structs are inlined, fields without
// omitempty are required.
type schemas struct {
	defs map[string]any
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

func (g *schemas) of(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"description": "provider-specific fields, as the provider sent them"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		if _, done := g.defs[t.Name()]; !done {
			g.defs[t.Name()] = nil // reserved: a type that refers to itself stops here
			g.defs[t.Name()] = g.object(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + t.Name()}
	}
	panic("dataapi: no schema for " + t.String())
}

func (g *schemas) object(t reflect.Type) map[string]any {
	props, required := map[string]any{}, []string{}
	g.fields(t, props, &required)
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (g *schemas) fields(t reflect.Type, props map[string]any, required *[]string) {
	for f := range t.Fields() {
		if f.Anonymous {
			g.fields(f.Type, props, required)
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			panic("dataapi: view field " + t.Name() + "." + f.Name + " has no json name")
		}
		props[name] = g.of(f.Type)
		if !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}
