package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// listPolicy allows principal to list vaults and nothing else.
func listPolicy(principal string) string {
	return `{"statements":[{"sid":"list","effect":"ALLOW","principals":["` + principal + `"],` +
		`"actions":["wormvault:ListVaults"],"resources":["*"]}]}`
}

// jsonLines decodes JSON-lines output into one message per line.
func jsonLines[T any, P interface {
	*T
	proto.Message
}](t *testing.T, out string) []P {
	t.Helper()
	var msgs []P
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := P(new(T))
		if err := protojson.Unmarshal(sc.Bytes(), m); err != nil {
			t.Fatalf("JSON line %q: %v", sc.Text(), err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func TestE2ECLIPrincipalsAndKeys(t *testing.T) {
	srv := servertest.Start(t)
	ok(t, srv, nil, "vault", "create", "shared")

	// Principals.
	if out := ok(t, srv, nil, "principal", "create", "robot"); !strings.Contains(out, "name:") || !strings.Contains(out, "robot") {
		t.Errorf("principal create:\n%s", out)
	}
	ok(t, srv, nil, "principal", "create", "auditor")
	refused(t, srv, "ALREADY_EXISTS", "principal", "create", "robot")
	refused(t, srv, "INVALID_ARGUMENT", "principal", "create", "no spaces")
	var p wormvaultv1.Principal
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "principal", "get", "robot", "--json")), &p); err != nil || p.GetName() != "robot" || p.GetCreateTime() == nil {
		t.Errorf("principal get --json: %v, %v", &p, err)
	}
	refused(t, srv, "NOT_FOUND", "principal", "get", "nobody")
	if out := ok(t, srv, nil, "principal", "ls"); !strings.Contains(out, "NAME") || !strings.Contains(out, "root") || !strings.Contains(out, "robot") {
		t.Errorf("principal ls:\n%s", out)
	}
	var names []string
	for _, p := range jsonLines[wormvaultv1.Principal](t, ok(t, srv, nil, "principal", "ls", "--json")) {
		names = append(names, p.GetName())
	}
	if strings.Join(names, ",") != "root,auditor,robot" {
		t.Errorf("principal ls --json: %v", names)
	}

	// Keys: the token alone on stdout, the warning on stderr.
	r := cli(t, srv, nil, "key", "create", "robot")
	token := strings.TrimSpace(r.stdout)
	keyID, _, found := strings.Cut(token, ".")
	if r.code != 0 || !found || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stderr, "only this once") || !strings.Contains(r.stderr, keyID) {
		t.Fatalf("key create: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	var second wormvaultv1.CreateAccessKeyResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "key", "create", "robot", "--json")), &second); err != nil || second.GetKeyId() == "" || second.GetSecret() == "" {
		t.Errorf("key create --json: %v, %v", &second, err)
	}
	refused(t, srv, "NOT_FOUND", "key", "create", "nobody")
	if out := ok(t, srv, nil, "key", "ls", "robot"); !strings.Contains(out, "KEY ID") || !strings.Contains(out, keyID) || !strings.Contains(out, second.GetKeyId()) {
		t.Errorf("key ls:\n%s", out)
	} else if strings.Contains(out, second.GetSecret()) {
		t.Errorf("key ls shows a secret:\n%s", out)
	}
	if keys := jsonLines[wormvaultv1.AccessKey](t, ok(t, srv, nil, "key", "ls", "robot", "--json")); len(keys) != 2 || keys[0].GetPrincipal() != "robot" {
		t.Errorf("key ls --json: %v", keys)
	}

	// No identity policy: authenticated, denied everything.
	refused(t, srv, "PERMISSION_DENIED", "vault", "ls", "--token", token)
	r = cli(t, srv, nil, "principal", "policy", "get", "robot")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "no identity policy") {
		t.Errorf("principal policy get with none: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, srv, []byte(`{"statements":[{"effect":"MAYBE"}]}`), "principal", "policy", "set", "robot", "-"); r.code != 1 || !strings.Contains(r.stderr, "InvalidArgument") {
		t.Errorf("principal policy set with a bad document: exit %d, stderr %q", r.code, r.stderr)
	}
	file := filepath.Join(t.TempDir(), "robot.json")
	if err := os.WriteFile(file, []byte(listPolicy("robot")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := ok(t, srv, nil, "principal", "policy", "set", "robot", file); !strings.Contains(out, "set the identity policy") {
		t.Errorf("principal policy set:\n%s", out)
	}
	ok(t, srv, []byte(listPolicy("robot")), "principal", "policy", "set", "robot", "-")
	if out := ok(t, srv, nil, "principal", "policy", "get", "robot"); out != listPolicy("robot")+"\n" {
		t.Errorf("principal policy get = %q", out)
	}
	var doc wormvaultv1.GetPrincipalPolicyResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "principal", "policy", "get", "robot", "--json")), &doc); err != nil || doc.GetPolicy() != listPolicy("robot") {
		t.Errorf("principal policy get --json: %v, %v", &doc, err)
	}
	if out := ok(t, srv, nil, "vault", "ls", "--token", token); !strings.Contains(out, "shared") {
		t.Errorf("vault ls as robot with a policy:\n%s", out)
	}
	refused(t, srv, "PERMISSION_DENIED", "vault", "get", "shared", "--token", token)
	refused(t, srv, "PERMISSION_DENIED", "principal", "create", "escalate", "--token", token)
	ok(t, srv, nil, "principal", "policy", "rm", "robot")
	refused(t, srv, "PERMISSION_DENIED", "vault", "ls", "--token", token)

	// A deleted key is refused (the one failed authentication here).
	if out := ok(t, srv, nil, "key", "rm", keyID); !strings.Contains(out, "deleted access key "+keyID) {
		t.Errorf("key rm:\n%s", out)
	}
	refused(t, srv, "UNAUTHENTICATED", "vault", "ls", "--token", token)
	refused(t, srv, "NOT_FOUND", "key", "rm", keyID)

	if out := ok(t, srv, nil, "principal", "rm", "robot"); !strings.Contains(out, "deleted principal robot") {
		t.Errorf("principal rm:\n%s", out)
	}
	refused(t, srv, "NOT_FOUND", "key", "ls", "robot")
	refused(t, srv, "FAILED_PRECONDITION", "principal", "rm", "root")

	for _, args := range [][]string{
		{"principal", "create"}, {"principal", "get", "a", "b"}, {"principal", "ls", "x"}, {"principal", "nope"},
		{"principal", "policy", "set", "auditor"}, {"principal", "policy", "set", "auditor", "-"}, {"principal", "policy", "get"},
		{"key", "create"}, {"key", "ls"}, {"key", "rm", keyID + ".secret"}, {"key", "nope"}, {"admin", "rotate-root", "x"},
	} {
		if r := cli(t, srv, nil, args...); r.code != 2 {
			t.Errorf("wormvault %v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
}

func TestE2ECLIRotateRoot(t *testing.T) {
	srv := servertest.Start(t)
	// A principal allowed everything still may not rotate root's key.
	ok(t, srv, nil, "principal", "create", "ops")
	ok(t, srv, []byte(`{"statements":[{"sid":"all","effect":"ALLOW","principals":["ops"],"actions":["wormvault:*"],"resources":["*"]}]}`),
		"principal", "policy", "set", "ops", "-")
	opsToken := strings.TrimSpace(ok(t, srv, nil, "key", "create", "ops"))
	refused(t, srv, "PERMISSION_DENIED", "admin", "rotate-root", "--token", opsToken)

	r := cli(t, srv, nil, "admin", "rotate-root")
	token := strings.TrimSpace(r.stdout)
	if r.code != 0 || token == srv.Token || !strings.Contains(token, ".") || !strings.Contains(r.stderr, "rewrote root.credentials") {
		t.Fatalf("admin rotate-root: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	// The server rewrote its credentials file with the new token.
	if got, err := readCredentialsFile(filepath.Join(srv.DataDir, "root.credentials")); err != nil || got != token {
		t.Errorf("root.credentials after rotation = %q, %v; want the new token", redact(got), err)
	}
	if r := cli(t, srv, nil, "vault", "ls"); r.code != 1 || !strings.Contains(r.stderr, "(reason UNAUTHENTICATED)") {
		t.Errorf("old root token after rotation: exit %d, stderr %q", r.code, r.stderr)
	}
	ok(t, srv, nil, "vault", "create", "after", "--token", token)

	var resp wormvaultv1.RotateRootKeyResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "admin", "rotate-root", "--json", "--token", token)), &resp); err != nil || resp.GetKeyId() == "" || resp.GetSecret() == "" {
		t.Fatalf("admin rotate-root --json: %v, %v", &resp, err)
	}
	newest := resp.GetKeyId() + "." + resp.GetSecret()
	keys := jsonLines[wormvaultv1.AccessKey](t, ok(t, srv, nil, "key", "ls", "root", "--json", "--token", newest))
	if len(keys) != 1 || keys[0].GetKeyId() != resp.GetKeyId() {
		t.Errorf("root keys after two rotations: %v", keys)
	}
	refused(t, srv, "FAILED_PRECONDITION", "key", "rm", resp.GetKeyId(), "--token", newest)
	ok(t, srv, nil, "vault", "ls", "--token", opsToken)
}
