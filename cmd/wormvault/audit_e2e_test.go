package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wormvault/wormvault/server/servertest"
)

func TestE2ECLIAudit(t *testing.T) {
	srv := servertest.Start(t)
	ok(t, srv, nil, "vault", "create", "audited")
	ok(t, srv, nil, "vault", "create", "other")
	ok(t, srv, nil, "vault", "rm", "other")

	out := ok(t, srv, nil, "audit", "ls", "--vault", "audited")
	if !strings.Contains(out, "VAULT_CREATE") || !strings.Contains(out, "root") || strings.Contains(out, "other") {
		t.Errorf("audit ls --vault audited:\n%s", out)
	}
	if out := ok(t, srv, nil, "audit", "ls", "--kind", "vault_delete", "--since", "1h"); !strings.Contains(out, "VAULT_DELETE") || strings.Contains(out, "VAULT_CREATE") {
		t.Errorf("audit ls --kind vault_delete:\n%s", out)
	}
	// The first start records RECEIPT_KEY_CREATE and ROOT_KEY_CREATE.
	if out := ok(t, srv, nil, "audit", "verify"); !strings.Contains(out, "OK: 5 events") {
		t.Errorf("audit verify:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(ok(t, srv, nil, "audit", "export", "--since", "24h")), "\n")
	if len(lines) != 5 {
		t.Fatalf("audit export: %d lines, want 5:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for i, l := range lines {
		var ev struct {
			Sequence string `json:"sequence"`
			Kind     string `json:"kind"`
			Sha256   string `json:"sha256"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Kind == "" || ev.Sha256 == "" || ev.Sequence != string(rune('1'+i)) {
			t.Errorf("audit export line %d %q: %+v %v", i, l, ev, err)
		}
	}
	if r := cli(t, srv, nil, "audit", "ls", "--kind", "NOPE"); r.code != 1 || !strings.Contains(r.stderr, "kind") {
		t.Errorf("audit ls --kind NOPE: exit %d, stderr %q", r.code, r.stderr)
	}
}
