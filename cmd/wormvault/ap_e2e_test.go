package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// TestE2ECLIAccessPoints: the ap commands, and ap/NAME wherever an archive
// command takes a vault.
func TestE2ECLIAccessPoints(t *testing.T) {
	srv := servertest.Start(t)
	ok(t, srv, nil, "vault", "create", "payroll-vault")
	policy := []byte(`{"statements":[{"sid":"uploads","effect":"ALLOW","principals":["uploader"],"actions":["wormvault:UploadArchive"],"resources":["vaults/payroll-vault/archives/*"]}]}`)
	out := ok(t, srv, policy, "ap", "create", "payroll", "--vault", "payroll-vault", "--allow-cidr", "127.0.0.1/8", "--allow-cidr", "::1/128", "--policy", "-")
	for _, want := range []string{"ap/payroll", "payroll-vault", "127.0.0.0/8, ::1/128", `"sid": "uploads"`} {
		if !strings.Contains(out, want) {
			t.Errorf("ap create output lacks %q:\n%s", want, out)
		}
	}

	// ap/NAME in the archive commands; responses name the vault.
	if out := ok(t, srv, []byte("march"), "put", "ap/payroll", "2026/03.csv", "-", "--legal-hold"); !strings.Contains(out, "payroll-vault") {
		t.Errorf("put through the access point:\n%s", out)
	}
	if out := ok(t, srv, nil, "get", "ap/payroll", "2026/03.csv"); out != "march" {
		t.Errorf("get through the access point: %q", out)
	}
	if out := ok(t, srv, nil, "ls", "ap/payroll"); !strings.Contains(out, "2026/03.csv") {
		t.Errorf("ls through the access point:\n%s", out)
	}
	ok(t, srv, nil, "stat", "ap/payroll", "2026/03.csv")
	ok(t, srv, nil, "retention", "set", "ap/payroll", "2026/03.csv", "governance:1d")
	ok(t, srv, nil, "retention", "get", "ap/payroll", "2026/03.csv")
	ok(t, srv, nil, "hold", "on", "ap/payroll", "2026/03.csv", "--id", "audit-2026")
	if out := ok(t, srv, nil, "why", "ap/payroll", "2026/03.csv"); !strings.Contains(out, "audit-2026") {
		t.Errorf("why through the access point:\n%s", out)
	}
	ok(t, srv, nil, "rm", "ap/payroll", "2026/03.csv") // a delete marker

	if out := ok(t, srv, nil, "ap", "ls", "--vault", "payroll-vault"); !strings.Contains(out, "ap/payroll") || !strings.Contains(out, "ALLOWED CIDRS") {
		t.Errorf("ap ls:\n%s", out)
	}
	var ap wormvaultv1.AccessPoint
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "ap", "get", "ap/payroll", "--json")), &ap); err != nil || ap.GetVault() != "payroll-vault" {
		t.Errorf("ap get --json: %v %v", &ap, err)
	}
	if out := ok(t, srv, nil, "ap", "set-policy", "payroll", "--none"); !strings.Contains(out, "only root") {
		t.Errorf("ap set-policy --none:\n%s", out)
	}

	ok(t, srv, nil, "ap", "create", "far-away", "--vault", "payroll-vault", "--allow-cidr", "192.0.2.0/24")
	refused(t, srv, "NETWORK_ORIGIN", "get", "ap/far-away", "2026/03.csv")
	refused(t, srv, "ACCESS_POINT_NOT_FOUND", "ls", "ap/nowhere")
	ok(t, srv, nil, "vault", "create", "empty-vault")
	ok(t, srv, nil, "ap", "create", "empty-door", "--vault", "empty-vault", "--allow-cidr", "10.0.0.0/8")
	refused(t, srv, "VAULT_HAS_ACCESS_POINTS", "vault", "rm", "empty-vault")
	ok(t, srv, nil, "ap", "rm", "ap/empty-door")
	ok(t, srv, nil, "vault", "rm", "empty-vault")
	refused(t, srv, "INVALID_ARGUMENT", "ap", "create", "bad", "--vault", "payroll-vault", "--allow-cidr", "localhost")
	for _, args := range [][]string{
		{"ap", "create", "no-cidr", "--vault", "payroll-vault"},
		{"ap", "create", "no-vault", "--allow-cidr", "10.0.0.0/8"},
		{"ap", "set-policy", "payroll"},
	} {
		if r := cli(t, srv, nil, args...); r.code != 2 {
			t.Errorf("wormvault %s: exit %d, stderr %q; want a usage error", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}
