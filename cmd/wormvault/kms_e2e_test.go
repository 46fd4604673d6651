package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// TestE2ECLIKMS: the kms commands, a vault defaulting to a KMS key, put
// --kms-key, and stat showing how an archive is encrypted.
func TestE2ECLIKMS(t *testing.T) {
	srv := servertest.Start(t)
	if out := ok(t, srv, nil, "kms", "create", "cli-key", "--description", "for the CLI"); !strings.Contains(out, "ENABLED") || !strings.Contains(out, "1 (of 1)") {
		t.Errorf("kms create:\n%s", out)
	}
	if out := ok(t, srv, nil, "kms", "rotate", "cli-key"); !strings.Contains(out, "2 (of 2)") {
		t.Errorf("kms rotate:\n%s", out)
	}
	if out := ok(t, srv, nil, "vault", "create", "kms-vault", "--encryption", "kms:cli-key"); !strings.Contains(out, "KMS (key cli-key)") {
		t.Errorf("vault create --encryption:\n%s", out)
	}
	if out := ok(t, srv, []byte("by default"), "put", "kms-vault", "a.txt", "-"); !strings.Contains(out, "KMS (key cli-key)") {
		t.Errorf("put under the vault default:\n%s", out)
	}
	ok(t, srv, nil, "vault", "create", "svc-vault")
	ok(t, srv, nil, "kms", "create", "other-key")
	ok(t, srv, []byte("asked"), "put", "svc-vault", "b.txt", "-", "--kms-key", "other-key")
	if out := ok(t, srv, nil, "stat", "svc-vault", "b.txt"); !strings.Contains(out, "KMS (key other-key)") {
		t.Errorf("stat:\n%s", out)
	}
	if out := ok(t, srv, nil, "kms", "disable", "other-key", "--days", "3"); !strings.Contains(out, "DISABLED") || !strings.Contains(out, "disabled until") {
		t.Errorf("kms disable:\n%s", out)
	}
	refused(t, srv, "KMS_KEY_DISABLED", "get", "svc-vault", "b.txt")
	ok(t, srv, nil, "kms", "enable", "other-key")
	if out := ok(t, srv, nil, "get", "svc-vault", "b.txt"); out != "asked" {
		t.Errorf("get after enable: %q", out)
	}
	if out := ok(t, srv, nil, "kms", "schedule-deletion", "other-key", "--days", "7"); !strings.Contains(out, "PENDING_DELETION") || !strings.Contains(out, "deletion time") {
		t.Errorf("kms schedule-deletion:\n%s", out)
	}
	refused(t, srv, "INVALID_ARGUMENT", "kms", "schedule-deletion", "cli-key", "--days", "3")
	ok(t, srv, nil, "kms", "cancel-deletion", "other-key")
	out := ok(t, srv, nil, "kms", "ls")
	if !strings.Contains(out, "cli-key") || !strings.Contains(out, "other-key") || !strings.Contains(out, "STATE") {
		t.Errorf("kms ls:\n%s", out)
	}
	var k wormvaultv1.Key
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "kms", "get", "cli-key", "--json")), &k); err != nil || k.GetVersionCount() != 2 {
		t.Errorf("kms get --json: %v %v", &k, err)
	}
	refused(t, srv, "KMS_KEY_NOT_FOUND", "kms", "get", "no-such-key")
	if r := cli(t, srv, nil, "vault", "create", "x-vault", "--encryption", "aes"); r.code != 2 {
		t.Errorf("bad --encryption: exit %d, stderr %q", r.code, r.stderr)
	}
}
