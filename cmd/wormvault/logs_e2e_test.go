package main

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
	"github.com/wormvault/wormvault/vault/accesslog"
)

// TestLogsE2E turns access logging on with `vault update --log-to`, makes
// an allowed and a refused request, and finds them with `logs query`.
func TestLogsE2E(t *testing.T) {
	srv := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.AccessLogInterval = 100 * time.Millisecond }))
	ok(t, srv, nil, "vault", "create", "records")
	ok(t, srv, nil, "vault", "create", "access-logs", "--retention", "compliance:1d")
	refused(t, srv, "INVALID_ARGUMENT", "vault", "update", "records", "--log-to", "records")
	if r := cli(t, srv, nil, "vault", "update", "records", "--log-prefix", "x/"); r.code != 2 {
		t.Fatalf("--log-prefix alone: exit %d, want 2", r.code)
	}
	out := ok(t, srv, nil, "vault", "update", "records", "--log-to", "access-logs", "--log-prefix", "records/", "--json")
	var v wormvaultv1.Vault
	if err := protojson.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if l := v.GetLogging(); l.GetTargetVault() != "access-logs" || l.GetPrefix() != "records/" {
		t.Fatalf("vault update --json does not show the logging:\n%s", out)
	}
	ok(t, srv, []byte("hello"), "put", "records", "a.txt", "-")
	refused(t, srv, "ARCHIVE_NOT_FOUND", "stat", "records", "missing.txt")

	// Poll until both records are delivered.
	var lines []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out = ok(t, srv, nil, "logs", "query", "--vault", "access-logs", "--prefix", "records/", "--since", "1h", "--json")
		if lines = strings.Split(strings.TrimSpace(out), "\n"); len(lines) == 2 {
			break
		}
	}
	if len(lines) != 2 {
		t.Fatalf("logs query --json printed %d lines, want 2:\n%s", len(lines), out)
	}
	for i, want := range []struct{ rpc, key, status string }{
		{"/wormvault.v1.ArchiveService/UploadArchive", "a.txt", "OK"},
		{"/wormvault.v1.ArchiveService/GetArchive", "missing.txt", "NOT_FOUND"},
	} {
		r, err := accesslog.Parse([]byte(lines[i]))
		if err != nil {
			t.Fatal(err)
		}
		if r.RPC != want.rpc || r.Key != want.key || r.Status != want.status || r.Vault != "records" || r.Principal != "root" {
			t.Fatalf("line %d: %+v, want %+v", i, r, want)
		}
	}
	// Filters and the table.
	out = ok(t, srv, nil, "logs", "query", "--vault", "access-logs", "--since", "1h", "--status", "not_found")
	if !strings.Contains(out, "NOT_FOUND (ARCHIVE_NOT_FOUND)") || strings.Contains(out, "UploadArchive") || !strings.Contains(out, "missing.txt") {
		t.Fatalf("logs query --status not_found:\n%s", out)
	}
	if out = ok(t, srv, nil, "logs", "query", "--vault", "access-logs", "--anonymous", "--json"); out != "" {
		t.Fatalf("no request was anonymous, yet:\n%s", out)
	}
	ok(t, srv, nil, "vault", "update", "records", "--no-log")
}
