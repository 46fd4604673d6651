// Package cors holds cross-origin resource sharing rules as S3 defines
// them: a list of rules (origins, methods, headers), their validation, and
// the matching of a browser's preflight or actual request against them,
// first matching rule first. Pure: no I/O and no HTTP server; the server
// turns a match into response headers.
//
// An origin is a scheme, a host and a port, compared exactly:
// http://example.com, https://example.com and http://www.example.com are
// three origins. A rule's origin may hold one * wildcard
// (https://*.example.com), which matches any run of characters; a
// browser's Origin that is not a well-formed origin (the opaque "null",
// one with a path) matches nothing, not even "*".
package cors

import (
	"strconv"
	"strings"

	"github.com/wormvault/wormvault"
)

// Limits of a configuration, so a vault record stays small.
const (
	// MaxRules is how many rules a vault may have.
	MaxRules = 100
	// maxEntries bounds each list of a rule.
	maxEntries = 100
	// maxEntryLen bounds each origin and header name.
	maxEntryLen = 256
)

// Rule is one CORS rule. A request matches it when its origin matches one
// of AllowedOrigins, its method is one of AllowedMethods and, for a
// preflight, every header it asks for matches one of AllowedHeaders.
type Rule struct {
	// AllowedOrigins: scheme://host[:port], at most one * each.
	AllowedOrigins []string `json:"allowed_origins"`
	// AllowedMethods: GET, PUT, POST, DELETE, HEAD, PATCH.
	AllowedMethods []string `json:"allowed_methods"`
	// AllowedHeaders: header names, case-insensitive, at most one * each
	// ("*" allows any).
	AllowedHeaders []string `json:"allowed_headers,omitempty"`
	// ExposeHeaders are response headers the browser lets the page read.
	ExposeHeaders []string `json:"expose_headers,omitempty"`
	// MaxAgeSeconds is how long a browser may cache a preflight's answer;
	// 0 leaves it to the browser.
	MaxAgeSeconds int32 `json:"max_age_seconds,omitempty"`
}

// Rules are a vault's CORS configuration; the first rule that matches a
// request answers it. Empty: no cross-origin access.
type Rules []Rule

// allowedMethod reports whether a rule may name m: the methods S3 allows,
// and PATCH, which UpdateVault's REST route uses.
func allowedMethod(m string) bool {
	switch m {
	case "GET", "PUT", "POST", "DELETE", "HEAD", "PATCH":
		return true
	}
	return false
}

// Validate checks rules, naming the offending element below field, e.g.
// "vault.cors.rules[3].allowed_origins[0]".
func (rs Rules) Validate(field string) error {
	if len(rs) > MaxRules {
		return wormvault.InvalidArgument(field+".rules", "at most %d rules, got %d", MaxRules, len(rs))
	}
	for i, r := range rs {
		if err := r.validate(field + ".rules[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	return nil
}

func (r Rule) validate(field string) error {
	lists := []struct {
		name   string
		values []string
		check  func(string) string
		needed bool
	}{
		{"allowed_origins", r.AllowedOrigins, checkOriginPattern, true},
		{"allowed_methods", r.AllowedMethods, checkMethod, true},
		{"allowed_headers", r.AllowedHeaders, checkHeaderPattern, false},
		{"expose_headers", r.ExposeHeaders, checkHeaderName, false},
	}
	for _, l := range lists {
		if l.needed && len(l.values) == 0 {
			return wormvault.InvalidArgument(field+"."+l.name, "at least one is required")
		}
		if len(l.values) > maxEntries {
			return wormvault.InvalidArgument(field+"."+l.name, "at most %d, got %d", maxEntries, len(l.values))
		}
		for j, v := range l.values {
			if len(v) > maxEntryLen {
				return wormvault.InvalidArgument(field+"."+l.name+"["+strconv.Itoa(j)+"]", "longer than %d bytes", maxEntryLen)
			}
			if problem := l.check(v); problem != "" {
				return wormvault.InvalidArgument(field+"."+l.name+"["+strconv.Itoa(j)+"]", "%q: %s", v, problem)
			}
		}
	}
	if r.MaxAgeSeconds < 0 {
		return wormvault.InvalidArgument(field+".max_age_seconds", "must not be negative")
	}
	return nil
}

// ValidateOrigin checks one origin pattern, e.g. a server-wide allowed
// origin, naming field in the error.
func ValidateOrigin(field, pattern string) error {
	if len(pattern) > maxEntryLen {
		return wormvault.InvalidArgument(field, "longer than %d bytes", maxEntryLen)
	}
	if problem := checkOriginPattern(pattern); problem != "" {
		return wormvault.InvalidArgument(field, "%q: %s", pattern, problem)
	}
	return nil
}

func checkMethod(m string) string {
	if !allowedMethod(m) {
		return "not one of GET, PUT, POST, DELETE, HEAD, PATCH (upper case)"
	}
	return ""
}

// checkOriginPattern explains what is wrong with a rule's origin, or
// returns "".
func checkOriginPattern(p string) string {
	switch n := strings.Count(p, "*"); {
	case p == "*":
		return ""
	case n > 1:
		return "at most one * wildcard"
	case n == 1:
		// The pattern must be an origin whatever the wildcard stands
		// for: a name part ("https://*.example.com") or a port
		// ("http://localhost:*").
		if _, ok := Origin(strings.Replace(p, "*", "x", 1)); ok {
			return ""
		}
		if _, ok := Origin(strings.Replace(p, "*", "1", 1)); ok {
			return ""
		}
	default:
		if _, ok := Origin(p); ok {
			return ""
		}
	}
	return "not an origin: want scheme://host[:port] with no path, e.g. https://app.example.com"
}

func checkHeaderPattern(h string) string {
	if strings.Count(h, "*") > 1 {
		return "at most one * wildcard"
	}
	return checkToken(strings.ReplaceAll(h, "*", ""), h == "*")
}

func checkHeaderName(h string) string {
	if strings.Contains(h, "*") {
		return "no wildcard in expose_headers"
	}
	return checkToken(h, false)
}

// checkToken checks an HTTP header name (RFC 9110 token); empty is allowed
// only when it is what remains of a lone "*".
func checkToken(s string, emptyOK bool) string {
	if s == "" && !emptyOK {
		return "empty header name"
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return "not a header name"
		}
	}
	return ""
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// Origin returns the canonical form of a serialized origin as browsers
// send it in the Origin header — lower case, without the scheme's default
// port — and whether s is one: scheme://host[:port], no user, path, query
// or fragment.
func Origin(s string) (string, bool) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" || rest == "" {
		return "", false
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", false
		}
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" || len(port) > 5 {
			return "", false
		}
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return "", false
			}
		}
	}
	if !validHost(host) {
		return "", false
	}
	scheme, host = strings.ToLower(scheme), strings.ToLower(host)
	if scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	if port != "" {
		return scheme + "://" + host + ":" + port, true
	}
	return scheme + "://" + host, true
}

// validHost accepts a DNS name, an IPv4 address or a bracketed IPv6
// address: letters, digits, '-', '.', and ':' only inside brackets.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	if strings.HasPrefix(h, "[") {
		if !strings.HasSuffix(h, "]") || len(h) < 3 {
			return false
		}
		for i := 1; i < len(h)-1; i++ {
			c := h[i]
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '.') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// Preflight returns the first rule that allows a preflight from origin for
// method with the requested headers, or nil. origin is the Origin header
// as sent; headers are the names in Access-Control-Request-Headers.
func (rs Rules) Preflight(origin, method string, headers []string) *Rule {
	o, ok := Origin(origin)
	if !ok {
		return nil
	}
	for i := range rs {
		r := &rs[i]
		if r.allowsOrigin(o) && r.allowsMethod(method) && r.allowsHeaders(headers) {
			return r
		}
	}
	return nil
}

// Actual returns the first rule that allows an actual (non-preflight)
// request from origin with method, or nil.
func (rs Rules) Actual(origin, method string) *Rule {
	o, ok := Origin(origin)
	if !ok {
		return nil
	}
	for i := range rs {
		r := &rs[i]
		if r.allowsOrigin(o) && r.allowsMethod(method) {
			return r
		}
	}
	return nil
}

// allowsOrigin matches a canonical origin against the rule's patterns.
func (r *Rule) allowsOrigin(origin string) bool {
	for _, p := range r.AllowedOrigins {
		if originMatches(p, origin) {
			return true
		}
	}
	return false
}

func originMatches(pattern, origin string) bool {
	if pattern == "*" {
		return true
	}
	if !strings.Contains(pattern, "*") {
		want, ok := Origin(pattern)
		return ok && want == origin
	}
	pattern = strings.ToLower(pattern)
	// A default port written in the pattern is absent from the canonical
	// origin a browser sends.
	if s, _, _ := strings.Cut(pattern, "://"); s == "http" {
		pattern = strings.TrimSuffix(pattern, ":80")
	} else if s == "https" {
		pattern = strings.TrimSuffix(pattern, ":443")
	}
	return globMatch(pattern, origin)
}

// globMatch matches s against a pattern with exactly one '*', which
// stands for any run of characters, the empty one included.
func globMatch(pattern, s string) bool {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	return len(s) >= len(prefix)+len(suffix) && strings.HasPrefix(s, prefix) && strings.HasSuffix(s, suffix)
}

// allowsMethod compares exactly: HTTP methods are case-sensitive.
func (r *Rule) allowsMethod(m string) bool {
	for _, x := range r.AllowedMethods {
		if x == m {
			return true
		}
	}
	return false
}

// allowsHeaders reports whether every requested header matches one of the
// rule's allowed header patterns, case-insensitively.
func (r *Rule) allowsHeaders(headers []string) bool {
	for _, h := range headers {
		h = strings.ToLower(h)
		ok := false
		for _, p := range r.AllowedHeaders {
			p = strings.ToLower(p)
			if p == h || strings.Contains(p, "*") && globMatch(p, h) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// HeaderList splits the value of Access-Control-Request-Headers (or any
// comma-separated list of header names) into trimmed, non-empty names.
func HeaderList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				out = append(out, h)
			}
		}
	}
	return out
}
