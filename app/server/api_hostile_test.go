package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"moat/app/api"
)

// Every field of every API body answers hostile values, of its type or not, with a 4xx or a
// success, never a 5xx.
func TestAPIFieldsRefuseHostileValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	x := newAttackers(t, e)
	spec := api.Spec()
	values := []string{`"\u0000"`, `"a\u0000b"`, `"\u001b[31m"`, `"` + strings.Repeat("x", 70000) + `"`, `"' OR 1=1 --"`, `"%_\\"`,
		`"\ud800"`, `"-1"`, `"1e400"`, `"NaN"`, `"99999999999999999999.99999"`, `"0000-01-01"`, `"00000000-0000-0000-0000-000000000000"`,
		`-1`, `1e308`, `true`, `null`, `{"a":1}`, `[1,2]`, `[]`, `""`}
	attacked := 0
	for _, r := range classifyAPI(t, e) {
		if r.body == nil || r.raw {
			continue
		}
		var valid map[string]any
		if err := json.Unmarshal([]byte(r.body(e, x.own)), &valid); err != nil {
			t.Fatal(err)
		}
		item := spec.Paths[pathParam.ReplaceAllString(strings.TrimPrefix(r.path, api.Prefix), "{$1}")]
		var ref string
		switch r.method {
		case "POST":
			ref = item.Post.RequestBody.Content["application/json"].Schema.Ref
		case "PUT":
			ref = item.Put.RequestBody.Content["application/json"].Schema.Ref
		case "PATCH":
			ref = item.Patch.RequestBody.Content["application/json"].Schema.Ref
		}
		schema := spec.Components.Schemas.Map()[strings.TrimPrefix(ref, "#/components/schemas/")]
		if schema == nil {
			t.Fatalf("%s: no schema for %q", r.key(), ref)
		}
		attacked++
		t.Run(r.key(), func(t *testing.T) {
			id := ""
			if r.kind != "" {
				id = fixtures[r.kind](e, x.a, x.ac)
			}
			for name := range schema.Properties {
				for _, v := range values {
					body := map[string]json.RawMessage{}
					for k, val := range valid {
						raw, _ := json.Marshal(val)
						body[k] = raw
					}
					body[name] = json.RawMessage(v)
					raw, _ := json.Marshal(body)
					if got := e.api(t, r.method, fill(r.path, id), x.aTok, string(raw)); got.Status >= 500 {
						t.Fatalf("%s = %.60s: %d %s", name, v, got.Status, got.Raw)
					}
				}
			}
		})
	}
	if attacked < 10 {
		t.Fatalf("only %d API bodies attacked", attacked)
	}
}
