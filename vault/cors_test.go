package vault

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/cors"
	"github.com/wormvault/wormvault/vault/audit"
)

// TestVaultCORSRebuild: a vault's CORS rules are validated, read without a
// caller, and journaled with the vault, so a catalog rebuilt from the
// drives has them.
func TestVaultCORSRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	if _, err := s.CreateVault(ctx, root, "web", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	if rs, err := s.VaultCORS(ctx, "web"); err != nil || rs != nil {
		t.Fatalf("a new vault's rules: %v, %v", rs, err)
	}
	rules := cors.Rules{{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET"}, MaxAgeSeconds: 60}}
	bad := append(slices.Clone(rules), cors.Rule{AllowedOrigins: []string{"ftp//x"}, AllowedMethods: []string{"GET"}})
	var ia *wormvault.InvalidArgumentError
	if _, err := s.UpdateVault(ctx, root, "web", VaultUpdate{CORS: &bad}); !errors.As(err, &ia) || ia.Field != "vault.cors.rules[1].allowed_origins[0]" {
		t.Fatalf("a bad rule: %v", err)
	}
	v, err := s.UpdateVault(ctx, root, "web", VaultUpdate{CORS: &rules})
	if err != nil || len(v.CORS) != 1 {
		t.Fatalf("UpdateVault: %+v, %v", v, err)
	}
	if _, err := s.VaultCORS(ctx, "missing"); !errors.Is(err, wormvault.ErrVaultNotFound) {
		t.Fatalf("rules of a missing vault: %v", err)
	}
	s.Close()

	if _, err := MoveCatalogAside(dir); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	if s.LastRebuild() == nil {
		t.Fatal("no rebuild ran")
	}
	got, err := s.VaultCORS(ctx, "web")
	if err != nil || len(got) != 1 || got[0].AllowedOrigins[0] != "https://app.example.com" || got[0].MaxAgeSeconds != 60 {
		t.Fatalf("rules after a rebuild: %+v, %v", got, err)
	}
	evs := auditEvents(t, s, audit.KindVaultUpdate)
	if len(evs) != 1 || evs[0].GetDetails()["old_cors"] != "" || evs[0].GetDetails()["new_cors"] == "" {
		t.Fatalf("VAULT_UPDATE events: %v", evs)
	}
}
