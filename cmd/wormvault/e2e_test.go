package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// The end-to-end tests run the CLI as a separate process, as users do: the
// test binary re-executes itself with envRunMain set and then behaves as the
// wormvault binary.
const envRunMain = "WORMVAULT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

type result struct {
	stdout, stderr string
	code           int
}

// cli runs the wormvault command against srv with stdin and returns what it
// printed and its exit code. The working directory is empty, so no local
// credentials file is read.
func cli(t *testing.T, srv *servertest.Server, stdin []byte, args ...string) result {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), exe, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), envRunMain+"=1", envServer+"="+srv.Addr, envToken+"="+srv.Token)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		ee := (*exec.ExitError)(nil)
		if !errors.As(err, &ee) {
			t.Fatalf("running %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// ok runs the command and fails the test unless it exits 0.
func ok(t *testing.T, srv *servertest.Server, stdin []byte, args ...string) string {
	t.Helper()
	r := cli(t, srv, stdin, args...)
	if r.code != 0 {
		t.Fatalf("wormvault %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// refused runs the command and checks it exits 1 with the server's reason.
func refused(t *testing.T, srv *servertest.Server, reason string, args ...string) {
	t.Helper()
	r := cli(t, srv, nil, args...)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "wormvault: ") || !strings.Contains(r.stderr, "(reason "+reason+")") {
		t.Errorf("wormvault %s: exit %d, stderr %q; want exit 1 with reason %s", strings.Join(args, " "), r.code, r.stderr, reason)
	}
}

func TestE2ECLIArchives(t *testing.T) {
	srv := servertest.Start(t)
	dir := t.TempDir()
	data := make([]byte, 3<<20+5)
	rand.Read(data)
	sum := sha256.Sum256(data)
	file := filepath.Join(dir, "in.bin")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	if out := ok(t, srv, nil, "vault", "create", "logs", "--retention", "governance:30d"); !strings.Contains(out, "governance:30d") {
		t.Errorf("vault create output:\n%s", out)
	}
	if out := ok(t, srv, nil, "vault", "ls"); !strings.Contains(out, "NAME") || !strings.Contains(out, "logs") {
		t.Errorf("vault ls:\n%s", out)
	}
	var v wormvaultv1.Vault
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "vault", "get", "logs", "--json")), &v); err != nil || v.GetName() != "logs" {
		t.Errorf("vault get --json: %v %v", &v, err)
	}

	// put from a file, with --json.
	var a wormvaultv1.Archive
	out := ok(t, srv, nil, "put", "logs", "a/big.bin", file, "--json", "--meta", "host=db1", "--content-type", "application/x-test")
	if err := protojson.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("put --json output %q: %v", out, err)
	}
	if a.GetSizeBytes() != int64(len(data)) || !bytes.Equal(a.GetSha256(), sum[:]) || a.GetMetadata()["host"] != "db1" {
		t.Errorf("put stored %v", &a)
	}
	if a.GetRetention().GetMode() != wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE {
		t.Errorf("vault default retention not applied: %v", a.GetRetention())
	}
	// put from stdin, human output.
	out = ok(t, srv, []byte("small"), "put", "logs", "a/small.txt", "-")
	if !strings.Contains(out, "version:") || !strings.Contains(out, "5 B (5 bytes)") {
		t.Errorf("put - output:\n%s", out)
	}

	// get to a file, to stdout, and a range.
	dst := filepath.Join(dir, "out.bin")
	ok(t, srv, nil, "get", "logs", "a/big.bin", "-o", dst)
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, data) {
		t.Errorf("get -o: %d bytes, %v", len(got), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".out.bin.part-*")); len(leftovers) > 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
	if got := ok(t, srv, nil, "get", "logs", "a/big.bin"); got != string(data) {
		t.Errorf("get to stdout: %d bytes", len(got))
	}
	if got := ok(t, srv, nil, "get", "logs", "a/big.bin", "--offset", "100", "--length", "1000", "--version", a.GetVersionId()); got != string(data[100:1100]) {
		t.Errorf("ranged get: %d bytes", len(got))
	}

	// stat, ls.
	if out := ok(t, srv, nil, "stat", "logs", "a/big.bin"); !strings.Contains(out, hex.EncodeToString(sum[:])) || !strings.Contains(out, "GOVERNANCE until") {
		t.Errorf("stat:\n%s", out)
	}
	out = ok(t, srv, nil, "ls", "logs")
	if !strings.Contains(out, "KEY") || !strings.Contains(out, "a/big.bin") || !strings.Contains(out, "3.0 MiB") {
		t.Errorf("ls:\n%s", out)
	}
	sc := bufio.NewScanner(strings.NewReader(ok(t, srv, nil, "ls", "logs", "a/s", "--json")))
	var keys []string
	for sc.Scan() {
		var la wormvaultv1.Archive
		if err := protojson.Unmarshal(sc.Bytes(), &la); err != nil {
			t.Fatalf("ls --json line %q: %v", sc.Text(), err)
		}
		keys = append(keys, la.GetKey())
	}
	if strings.Join(keys, ",") != "a/small.txt" {
		t.Errorf("ls --json with prefix: %v", keys)
	}

	// why, retention, holds.
	if out := ok(t, srv, nil, "why", "logs", "a/big.bin"); !strings.Contains(out, "RETENTION") {
		t.Errorf("why:\n%s", out)
	}
	refused(t, srv, "RETENTION_GOVERNANCE_ACTIVE", "rm", "logs", "a/big.bin", "--version", a.GetVersionId())
	ok(t, srv, nil, "retention", "set", "logs", "a/small.txt", "compliance:60d", "--bypass-governance")
	if out := ok(t, srv, nil, "retention", "get", "logs", "a/small.txt"); !strings.Contains(out, "COMPLIANCE") {
		t.Errorf("retention get:\n%s", out)
	}
	refused(t, srv, "RETENTION_COMPLIANCE_ACTIVE", "retention", "set", "logs", "a/small.txt", "--remove", "--bypass-governance")
	ok(t, srv, nil, "hold", "on", "logs", "a/small.txt", "--id", "case-7", "--reason", "audit")
	if out := ok(t, srv, nil, "hold", "get", "logs", "a/small.txt"); !strings.Contains(out, "case-7") || !strings.Contains(out, "audit") {
		t.Errorf("hold get:\n%s", out)
	}
	ok(t, srv, nil, "hold", "off", "logs", "a/small.txt", "--id", "case-7")

	// rm adds a delete marker; the key then reads as not found.
	if out := ok(t, srv, nil, "rm", "logs", "a/big.bin"); !strings.Contains(out, "delete marker") {
		t.Errorf("rm:\n%s", out)
	}
	refused(t, srv, "ARCHIVE_NOT_FOUND", "get", "logs", "a/big.bin")
	if out := ok(t, srv, nil, "ls", "logs", "--versions"); !strings.Contains(out, "(deleted)") {
		t.Errorf("ls --versions:\n%s", out)
	}
	refused(t, srv, "VAULT_NOT_EMPTY", "vault", "rm", "logs")

	if out := ok(t, srv, nil, "admin", "clock"); !strings.Contains(out, "TRUSTED") {
		t.Errorf("admin clock:\n%s", out)
	}
}

func TestE2ECLIVaultsAndExitCodes(t *testing.T) {
	srv := servertest.Start(t)
	ok(t, srv, nil, "vault", "create", "tmp")
	if out := ok(t, srv, nil, "vault", "update", "tmp", "--max-retention", "10y", "--retention", "compliance:7y"); !strings.Contains(out, "10y") || !strings.Contains(out, "compliance:7y") {
		t.Errorf("vault update:\n%s", out)
	}
	ok(t, srv, nil, "vault", "update", "tmp", "--no-retention")
	ok(t, srv, nil, "vault", "rm", "tmp")
	refused(t, srv, "VAULT_NOT_FOUND", "vault", "rm", "tmp")
	refused(t, srv, "VAULT_NOT_FOUND", "put", "tmp", "k", "-")
	ok(t, srv, nil, "vault", "create", "dup")
	refused(t, srv, "VAULT_EXISTS", "vault", "create", "dup")
	refused(t, srv, "INVALID_ARGUMENT", "vault", "create", "Not_Valid")

	bad := cli(t, srv, nil, "vault", "ls", "--token", "WVNOPE.wrong")
	if bad.code != 1 || !strings.Contains(bad.stderr, "Unauthenticated") {
		t.Errorf("bad token: exit %d, stderr %q", bad.code, bad.stderr)
	}
	for _, args := range [][]string{{"put", "tmp"}, {"nosuchcommand"}, {"vault", "create", "x", "--retention", "bogus"}, {"ls", "--nope", "v"}} {
		if r := cli(t, srv, nil, args...); r.code != 2 {
			t.Errorf("wormvault %v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
}

func TestE2ECLIAdmin(t *testing.T) {
	srv := servertest.Start(t)
	ok(t, srv, nil, "vault", "create", "ops")
	ok(t, srv, []byte("some bytes"), "put", "ops", "k", "-")
	if out := ok(t, srv, nil, "admin", "storage"); !strings.Contains(out, "DRIVE") || !strings.Contains(out, "data +") {
		t.Errorf("admin storage:\n%s", out)
	}
	r := cli(t, srv, nil, "admin", "heal", "--vault", "ops")
	if r.code != 0 || !strings.Contains(r.stdout, "heal done: checked 1") {
		t.Errorf("admin heal: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if out := ok(t, srv, nil, "admin", "scrub"); !strings.Contains(out, "STARTED") {
		t.Errorf("admin scrub:\n%s", out)
	}
	if out := ok(t, srv, nil, "admin", "fixity", "--json"); !strings.Contains(out, "archivesChecked") {
		t.Errorf("admin fixity --json:\n%s", out)
	}
	if r := cli(t, srv, nil, "admin", "clock", "ack"); r.code == 2 {
		t.Errorf("admin clock ack: exit 2, stderr %q", r.stderr)
	}
}

// lockPolicy denies deleting archives younger than a year in vault.
func lockPolicy(vault string) string {
	return `{"statements":[{"sid":"no-young-deletes","effect":"DENY","principals":["*"],` +
		`"actions":["wormvault:DeleteArchive"],"resources":["vaults/` + vault + `/archives/*"],` +
		`"condition":"archive.age_days < 365"}]}`
}

func TestE2ECLIVaultLock(t *testing.T) {
	srv := servertest.Start(t)
	file := filepath.Join(t.TempDir(), "lock.json")
	if err := os.WriteFile(file, []byte(lockPolicy("sealed")), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, srv, nil, "vault", "create", "sealed")
	refused(t, srv, "VAULT_LOCK_NOT_FOUND", "lock", "get", "sealed")

	// Initiate from stdin and abort; then initiate from a file, with --json.
	out := ok(t, srv, []byte(lockPolicy("sealed")), "lock", "initiate", "sealed", "-")
	if !strings.Contains(out, "lock id:") || !strings.Contains(out, "expires:") || !strings.Contains(out, "wormvault lock complete sealed ") {
		t.Errorf("lock initiate:\n%s", out)
	}
	if out := ok(t, srv, nil, "lock", "abort", "sealed"); !strings.Contains(out, "aborted") {
		t.Errorf("lock abort:\n%s", out)
	}
	var init wormvaultv1.InitiateVaultLockResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "lock", "initiate", "sealed", file, "--json")), &init); err != nil || init.GetLockId() == "" || init.GetExpireTime() == nil {
		t.Fatalf("lock initiate --json: %v, %v", &init, err)
	}
	refused(t, srv, "VAULT_LOCK_IN_PROGRESS", "lock", "initiate", "sealed", file)
	out = ok(t, srv, nil, "lock", "get", "sealed")
	if !strings.Contains(out, "IN_PROGRESS") || !strings.Contains(out, `"sid": "no-young-deletes"`) || !strings.Contains(out, "expires:") {
		t.Errorf("lock get in progress:\n%s", out)
	}

	// The in-progress lock is enforced.
	var a wormvaultv1.Archive
	if err := protojson.Unmarshal([]byte(ok(t, srv, []byte("young"), "put", "sealed", "k", "-", "--json")), &a); err != nil {
		t.Fatal(err)
	}
	refused(t, srv, "POLICY_DENIED", "rm", "sealed", "k", "--version", a.GetVersionId())

	if out := ok(t, srv, nil, "lock", "complete", "sealed", init.GetLockId()); !strings.Contains(out, "LOCKED") {
		t.Errorf("lock complete:\n%s", out)
	}
	var l wormvaultv1.GetVaultLockResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "lock", "get", "sealed", "--json")), &l); err != nil ||
		l.GetState() != wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED || l.GetPolicy() != lockPolicy("sealed") {
		t.Errorf("lock get --json: %v, %v", &l, err)
	}
	if out := ok(t, srv, nil, "lock", "get", "sealed"); !strings.Contains(out, "state:    LOCKED") {
		t.Errorf("lock get locked:\n%s", out)
	}
	refused(t, srv, "VAULT_LOCKED", "lock", "abort", "sealed")
	refused(t, srv, "VAULT_LOCKED", "lock", "initiate", "sealed", file)

	if r := cli(t, srv, nil, "lock", "initiate", "sealed", filepath.Join(t.TempDir(), "missing.json")); r.code != 1 {
		t.Errorf("lock initiate with a missing file: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"lock", "initiate", "sealed"}, {"lock", "complete", "sealed"}, {"lock", "abort"}, {"lock", "nope"}, {"lock", "initiate", "sealed", "-"}} {
		if r := cli(t, srv, nil, args...); r.code != 2 {
			t.Errorf("wormvault %v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
}

func TestE2ECLIAccessPolicy(t *testing.T) {
	srv := servertest.Start(t)
	ok(t, srv, nil, "vault", "create", "guarded")
	refused(t, srv, "NO_ACCESS_POLICY", "policy", "get", "guarded")
	if r := cli(t, srv, []byte(`{"statements":[{"effect":"MAYBE"}]}`), "policy", "set", "guarded", "-"); r.code != 1 || !strings.Contains(r.stderr, "InvalidArgument") {
		t.Errorf("policy set with a bad document: exit %d, stderr %q", r.code, r.stderr)
	}

	if out := ok(t, srv, []byte(lockPolicy("guarded")), "policy", "set", "guarded", "-"); !strings.Contains(out, "set the access policy") {
		t.Errorf("policy set:\n%s", out)
	}
	if out := ok(t, srv, nil, "policy", "get", "guarded"); out != lockPolicy("guarded")+"\n" {
		t.Errorf("policy get = %q", out)
	}
	var doc wormvaultv1.GetVaultAccessPolicyResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "policy", "get", "guarded", "--json")), &doc); err != nil || doc.GetPolicy() != lockPolicy("guarded") {
		t.Errorf("policy get --json: %v, %v", &doc, err)
	}
	// Round trip: what get prints, set takes back.
	file := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(file, []byte(ok(t, srv, nil, "policy", "get", "guarded")), 0o600); err != nil {
		t.Fatal(err)
	}
	ok(t, srv, nil, "policy", "set", "guarded", file)

	if out := ok(t, srv, nil, "policy", "rm", "guarded"); !strings.Contains(out, "removed") {
		t.Errorf("policy rm:\n%s", out)
	}
	refused(t, srv, "NO_ACCESS_POLICY", "policy", "get", "guarded")
	refused(t, srv, "NO_ACCESS_POLICY", "policy", "rm", "guarded")
	refused(t, srv, "VAULT_NOT_FOUND", "policy", "get", "nope-nope")
	for _, args := range [][]string{{"policy", "set", "guarded"}, {"policy", "set", "guarded", "-"}, {"policy", "get"}, {"policy", "rm", "a", "b"}, {"policy", "nope"}} {
		if r := cli(t, srv, nil, args...); r.code != 2 {
			t.Errorf("wormvault %v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
}
