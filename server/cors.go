package server

// CORS on the HTTP listener, as S3 defines it: a vault's routes
// (/v1/vaults/{vault}/...) answer from that vault's rules, everything else
// (Connect and gRPC-Web, /v1/vaults, /v1/audit, the console) from the
// server-wide Config.CORSOrigins. Matching is package cors; this file turns
// a match into response headers.

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/cors"
)

// serverCORSRules is the one rule Config.CORSOrigins stands for: any
// method the API uses, any request header (the bearer key, Connect's and
// gRPC-Web's own), preflights cached for two hours. The page may read
// gRPC-Web's status, which a trailers-only response sends as headers, and
// the archive bytes routes' headers.
func serverCORSRules(origins []string) cors.Rules {
	if len(origins) == 0 {
		return nil
	}
	return cors.Rules{{
		AllowedOrigins: origins,
		AllowedMethods: []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders: []string{
			"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin",
			"X-Wormvault-Version-Id", "X-Wormvault-Sha256", "Content-Disposition", "ETag",
		},
		MaxAgeSeconds: 7200,
	}}
}

// vaultOfPath returns the vault a REST path, as the client escaped it, is
// under: "records" for /v1/vaults/records and
// /v1/vaults/records/archives/a:retention, "ap/door" for the access point
// /v1/vaults/ap%2Fdoor/archives.
func vaultOfPath(escaped string) (string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/v1/vaults/")
	if !ok {
		return "", false
	}
	if i := strings.IndexAny(rest, "/:"); i >= 0 {
		rest = rest[:i]
	}
	v, err := url.PathUnescape(rest)
	return v, err == nil && v != ""
}

// corsHandler answers CORS preflights itself and marks actual cross-origin
// requests allowed by a rule; requests without an Origin pass untouched.
// An actual request that no rule allows is still served, without CORS
// headers: the browser then withholds the response from the page, which is
// what S3 does too. A vault's rules are read from the catalog without
// authorization (Store.VaultCORS): a preflight carries no credentials.
func (s *Server) corsHandler(next http.Handler) http.Handler {
	server := serverCORSRules(s.cfg.CORSOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		rules := server
		if v, ok := vaultOfPath(r.URL.EscapedPath()); ok {
			// An access point's requests follow its vault's rules.
			if _, viaAP := wormvault.AccessPointOf(v); viaAP {
				if vault, _, err := s.store.AccessPointVault(v); err == nil {
					v = vault
				}
			}
			var err error
			rules, err = s.store.VaultCORS(r.Context(), v)
			if err != nil && !errors.Is(err, wormvault.ErrNotFound) && !errors.Is(err, wormvault.ErrInvalidArgument) {
				s.log.WarnContext(r.Context(), "cors: reading vault rules", "vault", v, "err", err)
			}
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			preflight(w, r, origin, rules)
			return
		}
		if rule := rules.Actual(origin, r.Method); rule != nil {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if len(rule.ExposeHeaders) > 0 {
				h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers an OPTIONS preflight from the first rule that allows
// its origin, method and headers; without one, 403 and no CORS headers.
func preflight(w http.ResponseWriter, r *http.Request, origin string, rules cors.Rules) {
	method := r.Header.Get("Access-Control-Request-Method")
	headers := cors.HeaderList(r.Header.Values("Access-Control-Request-Headers"))
	rule := rules.Preflight(origin, method, headers)
	if rule == nil {
		http.Error(w, "CORS preflight refused: no CORS rule allows this origin, method and headers", http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", strings.Join(rule.AllowedMethods, ", "))
	if len(headers) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	if len(rule.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(rule.ExposeHeaders, ", "))
	}
	if rule.MaxAgeSeconds > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(rule.MaxAgeSeconds)))
	}
	h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	w.WriteHeader(http.StatusOK)
}
