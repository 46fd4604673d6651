package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// TestVaultCorsE2E sets, shows and removes a vault's CORS rules.
func TestVaultCorsE2E(t *testing.T) {
	srv := servertest.Start(t)
	ok(t, srv, nil, "vault", "create", "web")
	if out := ok(t, srv, nil, "vault", "cors", "get", "web"); !strings.Contains(out, "no CORS rules") {
		t.Fatalf("cors get of a new vault: %s", out)
	}
	doc := filepath.Join(t.TempDir(), "cors.json")
	os.WriteFile(doc, []byte(`{"rules": [{"allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET", "PUT"], "max_age_seconds": 60}]}`), 0o600)
	if out := ok(t, srv, nil, "vault", "cors", "set", "web", doc); !strings.Contains(out, `"https://app.example.com"`) {
		t.Fatalf("cors set: %s", out)
	}
	var got wormvaultv1.VaultCors
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "vault", "cors", "get", "web", "--json")), &got); err != nil ||
		len(got.GetRules()) != 1 || got.GetRules()[0].GetMaxAgeSeconds() != 60 {
		t.Fatalf("cors get --json: %v, %v", &got, err)
	}
	if r := cli(t, srv, []byte(`{"rules": [{"allowed_origins": ["https://*.*.example.com"], "allowed_methods": ["GET"]}]}`), "vault", "cors", "set", "web", "-"); r.code != 1 ||
		!strings.Contains(r.stderr, "vault.cors.rules[0].allowed_origins[0]") {
		t.Fatalf("a bad rule: exit %d, %s", r.code, r.stderr)
	}
	if r := cli(t, srv, []byte(`not json`), "vault", "cors", "set", "web", "-"); r.code != 2 {
		t.Fatalf("not JSON: exit %d, want 2", r.code)
	}
	ok(t, srv, nil, "vault", "cors", "rm", "web")
	if out := ok(t, srv, nil, "vault", "cors", "get", "web"); !strings.Contains(out, "no CORS rules") {
		t.Fatalf("cors get after rm: %s", out)
	}
}
