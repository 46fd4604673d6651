package cors

import (
	"errors"
	"strings"
	"testing"

	"github.com/wormvault/wormvault"
)

func TestOrigin(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"https://example.com", "https://example.com", true},
		{"HTTPS://Example.COM", "https://example.com", true},
		{"http://example.com:80", "http://example.com", true},
		{"https://example.com:443", "https://example.com", true},
		{"http://example.com:443", "http://example.com:443", true},
		{"http://localhost:5173", "http://localhost:5173", true},
		{"http://127.0.0.1:7421", "http://127.0.0.1:7421", true},
		{"http://[::1]:8080", "http://[::1]:8080", true},
		{"http://[::1]", "http://[::1]", true},
		{"chrome-extension://abcdef", "chrome-extension://abcdef", true},
		{"null", "", false},
		{"", "", false},
		{"example.com", "", false},
		{"https://", "", false},
		{"https://example.com/", "", false},
		{"https://example.com/path", "", false},
		{"https://example.com?q", "", false},
		{"https://example.com#f", "", false},
		{"https://user@example.com", "", false},
		{"https://example.com:", "", false},
		{"https://example.com:port", "", false},
		{"https://example.com:123456", "", false},
		{"https://exa mple.com", "", false},
		{"1http://example.com", "", false},
		{"http://[::1", "", false},
	} {
		got, ok := Origin(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Origin(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	good := Rule{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET"}}
	with := func(f func(*Rule)) Rules {
		r := good
		f(&r)
		return Rules{good, good, good, r}
	}
	many := make(Rules, MaxRules+1)
	for i := range many {
		many[i] = good
	}
	for _, tc := range []struct {
		name  string
		rules Rules
		field string // "" means valid
	}{
		{"none", nil, ""},
		{"one", Rules{good}, ""},
		{"all fields", Rules{{
			AllowedOrigins: []string{"https://*.example.com", "http://localhost:*", "*", "http://127.0.0.1:7421"},
			AllowedMethods: []string{"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"},
			AllowedHeaders: []string{"*", "authorization", "x-wormvault-*", "Content-Type"},
			ExposeHeaders:  []string{"x-wormvault-version-id", "ETag"},
			MaxAgeSeconds:  3600,
		}}, ""},
		{"max rules", many[:MaxRules], ""},
		{"too many rules", many, "vault.cors.rules"},
		{"no origins", with(func(r *Rule) { r.AllowedOrigins = nil }), "vault.cors.rules[3].allowed_origins"},
		{"two wildcards", with(func(r *Rule) { r.AllowedOrigins = []string{"https://*.*.example.com"} }), "vault.cors.rules[3].allowed_origins[0]"},
		{"path", with(func(r *Rule) { r.AllowedOrigins = []string{"https://ok.com", "https://example.com/app"} }), "vault.cors.rules[3].allowed_origins[1]"},
		{"no scheme", with(func(r *Rule) { r.AllowedOrigins = []string{"example.com"} }), "vault.cors.rules[3].allowed_origins[0]"},
		{"wildcard path", with(func(r *Rule) { r.AllowedOrigins = []string{"https://example.com/*"} }), "vault.cors.rules[3].allowed_origins[0]"},
		{"too long", with(func(r *Rule) { r.AllowedOrigins = []string{"https://" + strings.Repeat("a", 300) + ".com"} }), "vault.cors.rules[3].allowed_origins[0]"},
		{"no methods", with(func(r *Rule) { r.AllowedMethods = nil }), "vault.cors.rules[3].allowed_methods"},
		{"lower-case method", with(func(r *Rule) { r.AllowedMethods = []string{"get"} }), "vault.cors.rules[3].allowed_methods[0]"},
		{"unknown method", with(func(r *Rule) { r.AllowedMethods = []string{"GET", "TRACE"} }), "vault.cors.rules[3].allowed_methods[1]"},
		{"header two wildcards", with(func(r *Rule) { r.AllowedHeaders = []string{"x-*-*"} }), "vault.cors.rules[3].allowed_headers[0]"},
		{"header space", with(func(r *Rule) { r.AllowedHeaders = []string{"x foo"} }), "vault.cors.rules[3].allowed_headers[0]"},
		{"header empty", with(func(r *Rule) { r.AllowedHeaders = []string{""} }), "vault.cors.rules[3].allowed_headers[0]"},
		{"expose wildcard", with(func(r *Rule) { r.ExposeHeaders = []string{"*"} }), "vault.cors.rules[3].expose_headers[0]"},
		{"negative max age", with(func(r *Rule) { r.MaxAgeSeconds = -1 }), "vault.cors.rules[3].max_age_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rules.Validate("vault.cors")
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ia *wormvault.InvalidArgumentError
			if !errors.As(err, &ia) || ia.Field != tc.field {
				t.Fatalf("Validate = %v; want an invalid argument naming %s", err, tc.field)
			}
		})
	}
}

func TestPreflight(t *testing.T) {
	rules := Rules{
		{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"Authorization", "content-type"}},
		{AllowedOrigins: []string{"https://*.example.org"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"x-wormvault-*"}},
		{AllowedOrigins: []string{"http://localhost:*"}, AllowedMethods: []string{"DELETE"}, AllowedHeaders: []string{"*"}},
		{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"DELETE"}},
		{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}},
	}
	for _, tc := range []struct {
		name, origin, method string
		headers              []string
		want                 int // index of the matching rule, -1 for none
	}{
		{"exact", "https://app.example.com", "GET", nil, 0},
		{"headers any case", "https://app.example.com", "PUT", []string{"AUTHORIZATION", "Content-Type"}, 0},
		{"default port", "https://app.example.com:443", "GET", nil, 0},
		{"wrong scheme", "http://app.example.com", "GET", nil, -1},
		{"wrong port", "https://app.example.com:8443", "GET", nil, -1},
		{"wrong host", "https://www.example.com", "GET", nil, -1},
		{"suffix trick", "https://app.example.com.evil.net", "GET", nil, -1},
		{"method not allowed", "https://app.example.com", "POST", nil, -1},
		{"method case", "https://app.example.com", "get", nil, -1},
		{"header not allowed", "https://app.example.com", "PUT", []string{"authorization", "x-other"}, -1},
		{"a later rule allows the header", "https://app.example.com", "GET", []string{"authorization", "x-other"}, 4},
		{"wildcard host", "https://a.b.example.org", "GET", []string{"X-Wormvault-MFA"}, 1},
		{"wildcard needs the dot", "https://example.org", "GET", nil, -1},
		{"wildcard port not host", "https://a.example.org:444", "GET", nil, -1},
		{"wildcard header prefix", "https://a.example.org", "GET", []string{"x-other"}, -1},
		{"wildcard port", "http://localhost:5173", "DELETE", []string{"anything", "at-all"}, 2},
		{"first match wins", "https://app.example.com", "GET", []string{"authorization"}, 0},
		{"a later rule allows the method", "https://app.example.com", "DELETE", nil, 3},
		{"null origin", "null", "GET", nil, -1},
		{"origin with path", "https://app.example.com/x", "GET", nil, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rules.Preflight(tc.origin, tc.method, tc.headers)
			if want := ruleAt(rules, tc.want); got != want {
				t.Fatalf("Preflight(%q, %q, %q) = %v, want %v", tc.origin, tc.method, tc.headers, got, want)
			}
		})
	}
	if (Rules{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}}}).Preflight("null", "GET", nil) != nil {
		t.Error(`"*" matched the opaque origin "null"`)
	}
	if (Rules(nil)).Preflight("https://app.example.com", "GET", nil) != nil {
		t.Error("no rules matched")
	}
}

func TestActual(t *testing.T) {
	rules := Rules{{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"authorization"}}}
	// Headers are a preflight's business: an actual request is matched on
	// origin and method.
	if rules.Actual("https://app.example.com", "GET") != &rules[0] {
		t.Error("allowed origin and method did not match")
	}
	for _, o := range []string{"http://app.example.com", "https://app.example.com:8443", "https://evil.example.com", "null"} {
		if rules.Actual(o, "GET") != nil {
			t.Errorf("%s matched", o)
		}
	}
	if rules.Actual("https://app.example.com", "PUT") != nil {
		t.Error("PUT matched a GET rule")
	}
}

func TestHeaderList(t *testing.T) {
	got := HeaderList([]string{"authorization, content-type", " ,x-a", ""})
	if strings.Join(got, "|") != "authorization|content-type|x-a" {
		t.Fatalf("HeaderList = %q", got)
	}
}

func ruleAt(rs Rules, i int) *Rule {
	if i < 0 {
		return nil
	}
	return &rs[i]
}
