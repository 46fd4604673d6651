package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

func TestVaultCORS(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "sdk-cors"); err != nil {
		t.Fatal(err)
	}
	rule := &wormvaultv1.CorsRule{AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET", "PUT"},
		AllowedHeaders: []string{"authorization"}, MaxAgeSeconds: 60}
	v, err := c.UpdateVault(ctx, "sdk-cors", client.WithCORS(rule))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.GetCors().GetRules(); len(got) != 1 || got[0].GetAllowedOrigins()[0] != "https://app.example.com" || got[0].GetMaxAgeSeconds() != 60 {
		t.Fatalf("UpdateVault answered %v", v.GetCors())
	}
	bad := &wormvaultv1.CorsRule{AllowedOrigins: []string{"https://*.*.example.com"}, AllowedMethods: []string{"GET"}}
	_, err = c.UpdateVault(ctx, "sdk-cors", client.WithCORS(rule, bad))
	if !errors.Is(err, wormvault.ErrInvalidArgument) || !strings.Contains(err.Error(), "vault.cors.rules[1].allowed_origins[0]") {
		t.Fatalf("bad rule: %v", err)
	}
	if v, err = c.UpdateVault(ctx, "sdk-cors", client.WithCORS()); err != nil || v.GetCors() != nil {
		t.Fatalf("removing the rules: %v, %v", v.GetCors(), err)
	}
}
