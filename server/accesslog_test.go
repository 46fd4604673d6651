package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
	"github.com/wormvault/wormvault/vault/accesslog"
)

const (
	rpcUpload   = "/wormvault.v1.ArchiveService/UploadArchive"
	rpcDownload = "/wormvault.v1.ArchiveService/DownloadArchive"
	rpcGet      = "/wormvault.v1.ArchiveService/GetArchive"
	rpcList     = "/wormvault.v1.ArchiveService/ListArchives"
	rpcDelete   = "/wormvault.v1.ArchiveService/DeleteArchive"
)

func (c *conn) setLogging(vault, target, prefix string) error {
	_, err := c.vaults.UpdateVault(c.ctx(), &wormvaultv1.UpdateVaultRequest{
		Vault:      &wormvaultv1.Vault{Name: vault, Logging: &wormvaultv1.VaultLogging{TargetVault: target, Prefix: prefix}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"logging"}},
	})
	return err
}

// loggedOp is one request of the mix and what its record must say.
type loggedOp struct {
	rpc, key  string
	principal string
	code      codes.Code
	do        func() (version string, err error)
}

// mixedOps are requests against vault: allowed ones by root, denied ones
// by a principal without rights, unauthenticated ones with a bad key; the
// full mix is 200 when scale is 1, and unauth sets how many unauthenticated
// GetArchive, DownloadArchive and UploadArchive calls it has. The keys
// pre/0 .. pre/49 must exist. Every (rpc, key) pair is distinct, but for
// the lists, which name no key.
func mixedOps(root, reader, bad *conn, vault string, scale float64, unauth [3]int) []loggedOp {
	var ops []loggedOp
	add := func(n int, rpc, prefix, principal string, code codes.Code, do func(c string) (string, error)) {
		if principal != "" {
			n = int(float64(n) * scale)
		}
		for i := range n {
			key := fmt.Sprintf("%s/%d", prefix, i)
			if rpc == rpcList {
				key = ""
			}
			ops = append(ops, loggedOp{rpc: rpc, key: key, principal: principal, code: code, do: func() (string, error) { return do(fmt.Sprintf("%s/%d", prefix, i)) }})
		}
	}
	upload := func(c *conn) func(string) (string, error) {
		return func(key string) (string, error) {
			a, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: vault, Key: key}, bytes.NewReader([]byte("log me "+key)), 1<<20)
			return a.GetVersionId(), err
		}
	}
	download := func(c *conn) func(string) (string, error) {
		return func(key string) (string, error) {
			a, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: vault, Key: key}, io.Discard)
			return a.GetVersionId(), err
		}
	}
	get := func(c *conn) func(string) (string, error) {
		return func(key string) (string, error) {
			r, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: vault, Key: key})
			return r.GetArchive().GetVersionId(), err
		}
	}
	add(50, rpcUpload, "up", "root", codes.OK, upload(root))
	add(30, rpcDownload, "pre", "root", codes.OK, download(root))
	add(30, rpcGet, "pre", "root", codes.OK, get(root))
	add(20, rpcList, "", "root", codes.OK, func(string) (string, error) {
		_, err := root.archives.ListArchives(root.ctx(), &wormvaultv1.ListArchivesRequest{Vault: vault})
		return "", err
	})
	add(20, rpcGet, "deny", "reader", codes.PermissionDenied, get(reader))
	add(10, rpcUpload, "deny-up", "reader", codes.PermissionDenied, upload(reader))
	add(10, rpcDelete, "pre", "reader", codes.PermissionDenied, func(key string) (string, error) {
		_, err := reader.archives.DeleteArchive(reader.ctx(), &wormvaultv1.DeleteArchiveRequest{Vault: vault, Key: key})
		return "", err
	})
	add(unauth[0], rpcGet, "unauth", "", codes.Unauthenticated, get(bad))
	add(unauth[1], rpcDownload, "unauth-dl", "", codes.Unauthenticated, download(bad))
	add(unauth[2], rpcUpload, "unauth-up", "", codes.Unauthenticated, upload(bad))
	return ops
}

// runOps runs ops on 8 workers and returns the version id each reported.
func runOps(t *testing.T, ops []loggedOp) []string {
	t.Helper()
	versions := make([]string, len(ops))
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				versions[i], errs[i] = ops[i].do()
			}
		})
	}
	for i := range ops {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, op := range ops {
		if got := status.Code(errs[i]); got != op.code {
			t.Fatalf("%s %s as %q: %v, want %v", op.rpc, op.key, op.principal, errs[i], op.code)
		}
	}
	return versions
}

// readLogs downloads every log archive of vault logVault under prefix and
// returns their records.
func readLogs(t *testing.T, c *conn, logVault, prefix string) []accesslog.Record {
	t.Helper()
	var recs []accesslog.Record
	token := ""
	for {
		l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: logVault, Prefix: prefix, PageToken: token, AllVersions: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range l.GetArchives() {
			var buf bytes.Buffer
			if _, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: logVault, Key: a.GetKey(), VersionId: a.GetVersionId()}, &buf); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(&buf)
			for sc.Scan() {
				r, err := accesslog.Parse(sc.Bytes())
				if err != nil {
					t.Fatalf("%s: %v", a.GetKey(), err)
				}
				recs = append(recs, r)
			}
		}
		if token = l.GetNextPageToken(); token == "" {
			return recs
		}
	}
}

// awaitLogs polls the log vault until want records are delivered (or
// fails after a generous deadline) and returns them.
func awaitLogs(t *testing.T, c *conn, logVault, prefix string, want int) []accesslog.Record {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs := readLogs(t, c, logVault, prefix)
		if len(recs) >= want || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkExactlyOnce asserts that recs are the records of ops, each exactly
// once, with the right status and principal.
func checkExactlyOnce(t *testing.T, recs []accesslog.Record, ops []loggedOp, versions []string, vault string) {
	t.Helper()
	if len(recs) != len(ops) {
		t.Fatalf("%d records delivered for %d requests", len(recs), len(ops))
	}
	type id struct{ rpc, key string }
	want := map[id]int{}
	for i, op := range ops {
		if op.rpc != rpcList {
			want[id{op.rpc, op.key}] = i
		}
	}
	seen := map[id]bool{}
	requestIDs := map[string]bool{}
	lists := 0
	wantLists := 0
	for _, op := range ops {
		if op.rpc == rpcList {
			wantLists++
		}
	}
	for _, r := range recs {
		if r.Vault != vault {
			t.Fatalf("record of vault %q: %+v", r.Vault, r)
		}
		if r.RequestID == "" || requestIDs[r.RequestID] {
			t.Fatalf("request id %q empty or seen twice", r.RequestID)
		}
		requestIDs[r.RequestID] = true
		if !strings.HasPrefix(r.RemoteAddr, "127.0.0.1:") || r.TLS || !strings.Contains(r.UserAgent, "grpc-go") || r.Time.IsZero() || r.Duration <= 0 {
			t.Fatalf("record lacks its transport facts: %+v", r)
		}
		if r.RPC == rpcList {
			lists++
			if r.Status != "OK" || r.Principal != "root" || r.BytesOut == 0 {
				t.Fatalf("list record %+v", r)
			}
			continue
		}
		k := id{r.RPC, r.Key}
		i, ok := want[k]
		if !ok {
			t.Fatalf("record of no request: %+v", r)
		}
		if seen[k] {
			t.Fatalf("request %s %s delivered twice", r.RPC, r.Key)
		}
		seen[k] = true
		op := ops[i]
		wantStatus := map[codes.Code]string{codes.OK: "OK", codes.PermissionDenied: "PERMISSION_DENIED", codes.Unauthenticated: "UNAUTHENTICATED"}[op.code]
		if r.Status != wantStatus || r.Principal != op.principal {
			t.Fatalf("%s %s: record says %s by %q, want %s by %q", r.RPC, r.Key, r.Status, r.Principal, wantStatus, op.principal)
		}
		if op.code != codes.OK && r.Reason == "" {
			t.Fatalf("%s %s: a refusal without a reason: %+v", r.RPC, r.Key, r)
		}
		if r.BytesIn == 0 {
			t.Fatalf("%s %s: no bytes in", r.RPC, r.Key)
		}
		if op.code == codes.OK && (r.VersionID == "" || r.VersionID != versions[i] || r.BytesOut == 0) {
			t.Fatalf("%s %s: version %q bytes out %d, want version %q", r.RPC, r.Key, r.VersionID, r.BytesOut, versions[i])
		}
	}
	if lists != wantLists {
		t.Fatalf("%d list records, want %d", lists, wantLists)
	}
}

// TestAccessLogExactlyOnce sends 200 mixed requests (allowed, denied,
// unauthenticated; unary and streaming) to a logged vault: after delivery
// each appears exactly once in the target's JSON lines, with its status.
func TestAccessLogExactlyOnce(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.AccessLogInterval = 200 * time.Millisecond
		c.AuthFailureBurst = 0 // the unauthenticated requests are not rate limited here
	}))
	root := dial(t, s)
	root.createVault("src")
	root.createVault("logs")
	reader := newPrincipal(t, root, "reader", "")
	bad := root.as("AKNOSUCHKEY.wrongsecret")
	for i := range 50 {
		root.put("src", fmt.Sprintf("pre/%d", i), []byte("pre"))
	}
	if err := root.setLogging("src", "logs", "access/src/"); err != nil {
		t.Fatal(err)
	}
	ops := mixedOps(root, reader, bad, "src", 1, [3]int{15, 10, 5})
	if len(ops) != 200 {
		t.Fatalf("%d requests in the mix", len(ops))
	}
	versions := runOps(t, ops)
	recs := awaitLogs(t, root, "logs", "access/src/", len(ops))
	checkExactlyOnce(t, recs, ops, versions, "src")

	// The archives are where the prefix says, and reading them was not
	// logged (the log vault does not log).
	l, err := root.archives.ListArchives(root.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "logs"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range l.GetArchives() {
		if !strings.HasPrefix(a.GetKey(), "access/src/") || !strings.HasSuffix(a.GetKey(), ".jsonl") || a.GetContentType() != accesslog.ContentType {
			t.Fatalf("log archive %q (%s)", a.GetKey(), a.GetContentType())
		}
	}
	if again := readLogs(t, root, "logs", ""); len(again) != len(ops) {
		t.Fatalf("%d records after reading the logs, want still %d", len(again), len(ops))
	}
}

// TestAccessLogSurvivesKill kills the server with SIGKILL after the
// requests were answered and before their delivery; restarted, it delivers
// every request exactly once.
func TestAccessLogSurvivesKill(t *testing.T) {
	p := &process{t: t, bin: buildBinary(t), data: t.TempDir(), addr: freeAddr(t)}
	startProcess(p, "--access-log-interval", "1h")
	root := dial(t, &servertest.Server{Addr: p.addr, Token: p.token()})
	root.createVault("src")
	root.createVault("logs")
	reader := newPrincipal(t, root, "reader", "")
	bad := root.as("AKNOSUCHKEY.wrongsecret")
	for i := range 50 {
		root.put("src", fmt.Sprintf("pre/%d", i), []byte("pre"))
	}
	if err := root.setLogging("src", "logs", ""); err != nil {
		t.Fatal(err)
	}
	// Half the mix; the unauthenticated part stays under the server's
	// default limit of 10 failed authentications per address.
	ops := mixedOps(root, reader, bad, "src", 0.5, [3]int{4, 3, 2})
	versions := runOps(t, ops)
	if recs := readLogs(t, root, "logs", ""); len(recs) != 0 {
		t.Fatalf("%d records delivered before the kill", len(recs))
	}
	p.kill9()

	startProcess(p, "--access-log-interval", "200ms")
	root = dial(t, &servertest.Server{Addr: p.addr, Token: p.token()})
	recs := awaitLogs(t, root, "logs", "", len(ops))
	checkExactlyOnce(t, recs, ops, versions, "src")
}

// startProcess is process.start with extra serve flags.
func startProcess(p *process, extra ...string) {
	p.t.Helper()
	args := append([]string{"serve", "--data", p.data, "--listen", p.addr, "--log-level", "warn"}, extra...)
	p.cmd = exec.Command(p.bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = os.Stderr, os.Stderr
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	cmd := p.cmd
	p.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	cc, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		p.t.Fatal(err)
	}
	defer cc.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("server did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAccessLogSettings(t *testing.T) {
	s := servertest.Start(t)
	root := dial(t, s)
	for _, v := range []string{"src", "logs", "other"} {
		root.createVault(v)
	}
	// ops may change "other" but not upload into "logs".
	ops := newPrincipal(t, root, "ops", `{"statements":[{"sid":"ops","effect":"ALLOW","principals":["ops"],
		"actions":["wormvault:UpdateVault","wormvault:GetVault"],"resources":["vaults/other"]}]}`)

	wantField(t, root.setLogging("src", "src", ""), "vault.logging.target_vault")
	wantField(t, root.setLogging("src", "logs", "bad\x00prefix"), "vault.logging.prefix")
	wantStatus(t, root.setLogging("src", "nowhere", ""), codes.NotFound, "VAULT_NOT_FOUND")
	wantStatus(t, ops.setLogging("other", "logs", ""), codes.PermissionDenied, "")

	if err := root.setLogging("src", "logs", "access/"); err != nil {
		t.Fatal(err)
	}
	v, err := root.vaults.GetVault(root.ctx(), &wormvaultv1.GetVaultRequest{Name: "src"})
	if err != nil {
		t.Fatal(err)
	}
	if l := v.GetVault().GetLogging(); l.GetTargetVault() != "logs" || l.GetPrefix() != "access/" {
		t.Fatalf("GetVault says logging %v", l)
	}
	_, err = root.vaults.DeleteVault(root.ctx(), &wormvaultv1.DeleteVaultRequest{Name: "logs"})
	wantStatus(t, err, codes.FailedPrecondition, "VAULT_IS_LOG_TARGET")
	if !strings.Contains(status.Convert(err).Message(), `"src"`) {
		t.Fatalf("refusal does not name the source vault: %v", err)
	}
	// Turned off, the vault shows no logging.
	if err := root.setLogging("src", "", ""); err != nil {
		t.Fatal(err)
	}
	v, err = root.vaults.GetVault(root.ctx(), &wormvaultv1.GetVaultRequest{Name: "src"})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetVault().GetLogging() != nil {
		t.Fatalf("logging still set: %v", v.GetVault().GetLogging())
	}
}

// TestAccessLogComplianceVault: log archives take the target's default
// retention, so in a COMPLIANCE log vault they cannot be deleted.
func TestAccessLogComplianceVault(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.AccessLogInterval = 200 * time.Millisecond }))
	root := dial(t, s)
	root.createVault("src")
	if _, err := root.vaults.CreateVault(root.ctx(), &wormvaultv1.CreateVaultRequest{Name: "worm-logs",
		DefaultRetention: &wormvaultv1.DefaultRetention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE, Days: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := root.setLogging("src", "worm-logs", "src/"); err != nil {
		t.Fatal(err)
	}
	_, err := root.archives.GetArchive(root.ctx(), &wormvaultv1.GetArchiveRequest{Vault: "src", Key: "missing"})
	wantStatus(t, err, codes.NotFound, "ARCHIVE_NOT_FOUND")
	recs := awaitLogs(t, root, "worm-logs", "src/", 1)
	if len(recs) != 1 || recs[0].Status != "NOT_FOUND" || recs[0].Reason != "ARCHIVE_NOT_FOUND" || recs[0].Key != "missing" {
		t.Fatalf("records %+v", recs)
	}
	l, err := root.archives.ListArchives(root.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "worm-logs"})
	if err != nil {
		t.Fatal(err)
	}
	a := l.GetArchives()[0]
	if r := a.GetRetention(); r.GetMode() != wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE || !r.GetFromDefault() {
		t.Fatalf("log archive retention %v, want the vault's COMPLIANCE default", r)
	}
	_, err = root.archives.DeleteArchive(root.ctx(), &wormvaultv1.DeleteArchiveRequest{Vault: "worm-logs", Key: a.GetKey(), VersionId: a.GetVersionId()})
	wantStatus(t, err, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE")
}
