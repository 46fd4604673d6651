package vault

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/cors"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

// VaultCORS returns a vault's CORS rules for answering a browser, with no
// authorization: a preflight carries no credentials, and the browser must
// learn from the rules whether it may send them at all (S3 answers
// preflights the same way). A missing vault has no rules.
func (s *Store) VaultCORS(ctx context.Context, name string) (cors.Rules, error) {
	if err := wormvault.ValidateVaultName("vault", name); err != nil {
		return nil, err
	}
	var rec *recordv1.Vault
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		rec, err = tx.Vault(name)
		return err
	}); err != nil {
		return nil, fmt.Errorf("vault.VaultCORS %s: %w", name, err)
	}
	return corsFromRecord(rec.GetCors()), nil
}

func corsFromRecord(c *recordv1.Cors) cors.Rules {
	if len(c.GetRules()) == 0 {
		return nil
	}
	out := make(cors.Rules, len(c.GetRules()))
	for i, r := range c.GetRules() {
		out[i] = cors.Rule{
			AllowedOrigins: r.GetAllowedOrigins(),
			AllowedMethods: r.GetAllowedMethods(),
			AllowedHeaders: r.GetAllowedHeaders(),
			ExposeHeaders:  r.GetExposeHeaders(),
			MaxAgeSeconds:  r.GetMaxAgeSeconds(),
		}
	}
	return out
}

// corsToRecord is nil for no rules, so a vault without CORS stores nothing.
func corsToRecord(rs cors.Rules) *recordv1.Cors {
	if len(rs) == 0 {
		return nil
	}
	out := &recordv1.Cors{Rules: make([]*recordv1.CorsRule, len(rs))}
	for i, r := range rs {
		out.Rules[i] = &recordv1.CorsRule{
			AllowedOrigins: r.AllowedOrigins,
			AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders,
			ExposeHeaders:  r.ExposeHeaders,
			MaxAgeSeconds:  r.MaxAgeSeconds,
		}
	}
	return out
}

// corsDetail is the audit trail's form of a vault's rules: JSON, "" for
// none.
func corsDetail(c *recordv1.Cors) string {
	rs := corsFromRecord(c)
	if len(rs) == 0 {
		return ""
	}
	b, err := json.Marshal(rs)
	if err != nil { // plain strings and ints: cannot happen
		return fmt.Sprintf("%d rules", len(rs))
	}
	return string(b)
}
