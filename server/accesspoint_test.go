package server_test

// Access points through the real server: the four acceptance scenarios of
// issue #13 (an uploader allowed only through ap/payroll; a network origin
// that excludes loopback; a vault policy requiring access points; a vault
// lock binding every access point), and around them COMPLIANCE retention,
// deleting a vault with access points, bad input, the access log, the
// audit trail, management rights and x-forwarded-for from trusted proxies.
// Rebuild-catalog is covered by durability_test.go's populate.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

func (c *conn) aps() wormvaultv1.AccessPointServiceClient {
	return wormvaultv1.NewAccessPointServiceClient(c.cc)
}

func (c *conn) createAP(name, vault, policy string, cidrs ...string) (*wormvaultv1.AccessPoint, error) {
	r, err := c.aps().CreateAccessPoint(c.ctx(), &wormvaultv1.CreateAccessPointRequest{
		Name: name, Vault: vault, Policy: policy, NetworkOrigin: &wormvaultv1.NetworkOrigin{AllowedCidrs: cidrs},
	})
	return r.GetAccessPoint(), err
}

func (c *conn) mustCreateAP(name, vault, policy string, cidrs ...string) *wormvaultv1.AccessPoint {
	c.t.Helper()
	ap, err := c.createAP(name, vault, policy, cidrs...)
	if err != nil {
		c.t.Fatalf("CreateAccessPoint %s: %v", name, err)
	}
	return ap
}

// allowAll is an access point policy allowing everyone everything.
const allowAll = `{"statements":[{"sid":"all","effect":"ALLOW","principals":["*"],"actions":["wormvault:*"],"resources":["*"]}]}`

// archiveCall is one archive RPC against vault (a name or "ap/NAME").
type archiveCall struct {
	rpc  string
	call func(c *conn, vault string) error
}

// archiveCalls are every ArchiveService RPC, on key k at version (its
// only version).
func archiveCalls(version string) []archiveCall {
	return []archiveCall{
		{"UploadArchive", func(c *conn, v string) error {
			_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: v, Key: "k"}, strings.NewReader("new"), 1<<20)
			return err
		}},
		{"DownloadArchive", func(c *conn, v string) error {
			_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: v, Key: "k", VersionId: version}, io.Discard)
			return err
		}},
		{"GetArchive", func(c *conn, v string) error {
			_, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: v, Key: "k", VersionId: version})
			return err
		}},
		{"ListArchives", func(c *conn, v string) error {
			_, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: v})
			return err
		}},
		{"DeleteArchive", func(c *conn, v string) error {
			_, err := c.deleteArchive(v, "k", version, false)
			return err
		}},
		{"SetRetention", func(c *conn, v string) error {
			_, err := c.setRetention(v, "k", version, retention(wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE, time.Now().Add(time.Hour)), false)
			return err
		}},
		{"GetRetention", func(c *conn, v string) error {
			_, err := c.archives.GetRetention(c.ctx(), &wormvaultv1.GetRetentionRequest{Vault: v, Key: "k", VersionId: version})
			return err
		}},
		{"SetLegalHold", func(c *conn, v string) error {
			_, err := c.setHold(v, "k", version, true, "", "")
			return err
		}},
		{"GetLegalHold", func(c *conn, v string) error {
			_, err := c.archives.GetLegalHold(c.ctx(), &wormvaultv1.GetLegalHoldRequest{Vault: v, Key: "k", VersionId: version})
			return err
		}},
		{"ExplainProtection", func(c *conn, v string) error {
			_, err := c.archives.ExplainProtection(c.ctx(), &wormvaultv1.ExplainProtectionRequest{Vault: v, Key: "k", VersionId: version})
			return err
		}},
	}
}

// Acceptance 1: an uploader allowed only through ap/payroll from
// 127.0.0.0/8 can upload through the access point and is denied directly
// (and through any other access point).
func TestAccessPointUploaderOnlyThroughAccessPoint(t *testing.T) {
	s := servertest.Start(t)
	root := dial(t, s)
	const v = "payroll-vault"
	root.createVault(v)
	// The vault grants uploads to the uploader only through ap/payroll;
	// the access point's own policy grants them too (both must allow).
	mustOK(t, root.setAccessPolicy(v, `{"statements":[{"sid":"via-payroll","effect":"ALLOW","principals":["uploader"],
		"actions":["wormvault:UploadArchive"],"resources":["vaults/payroll-vault/archives/*"],
		"condition":"request.access_point == \"payroll\""}]}`), "SetVaultAccessPolicy")
	uploads := `{"statements":[{"sid":"uploads","effect":"ALLOW","principals":["uploader"],"actions":["wormvault:UploadArchive"],"resources":["vaults/payroll-vault/archives/*"]}]}`
	ap := root.mustCreateAP("payroll", v, uploads, "127.0.0.0/8")
	if ap.GetVault() != v || ap.GetNetworkOrigin().GetAllowedCidrs()[0] != "127.0.0.0/8" || ap.GetPolicy() != uploads || ap.GetCreateTime() == nil {
		t.Fatalf("created %v", ap)
	}
	root.mustCreateAP("other-door", v, uploads, "127.0.0.0/8")
	uploader := newPrincipal(t, root, "uploader", "")

	a, err := uploader.upload(&wormvaultv1.ArchiveHeader{Vault: "ap/payroll", Key: "2026/03.csv"}, strings.NewReader("salaries"), 1<<20)
	mustOK(t, err, "upload through ap/payroll")
	// Responses name the vault, as S3 names the bucket.
	if a.GetVault() != v || a.GetKey() != "2026/03.csv" {
		t.Fatalf("upload through the access point reports %s/%s", a.GetVault(), a.GetKey())
	}
	if got := root.get(v, "2026/03.csv", a.GetVersionId()); string(got) != "salaries" {
		t.Fatalf("the vault holds %q", got)
	}

	for _, via := range []string{v, "ap/other-door"} {
		_, err := uploader.upload(&wormvaultv1.ArchiveHeader{Vault: via, Key: "2026/04.csv"}, strings.NewReader("x"), 1<<20)
		wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
	}
	// The uploader may do nothing else through the access point.
	_, err = uploader.archives.GetArchive(uploader.ctx(), &wormvaultv1.GetArchiveRequest{Vault: "ap/payroll", Key: "2026/03.csv"})
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
}

// Acceptance 2: an access point whose CIDRs exclude the loopback address
// denies every archive RPC, root's included, with NETWORK_ORIGIN; the
// denial is in the vault's access log, naming the access point.
func TestAccessPointNetworkOriginDeniesEverything(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.AccessLogInterval = 100 * time.Millisecond }))
	root := dial(t, s)
	const v = "far-vault"
	root.createVault(v)
	root.createVault("far-logs")
	mustOK(t, root.setLogging(v, "far-logs", "far/"), "logging on")
	a := root.put(v, "k", []byte("kept"))
	root.mustCreateAP("elsewhere", v, allowAll, "192.0.2.0/24", "2001:db8::/32")

	calls := archiveCalls(a.GetVersionId())
	for _, ac := range calls {
		wantStatus(t, ac.call(root, "ap/elsewhere"), codes.PermissionDenied, "NETWORK_ORIGIN")
	}
	// Nothing changed, and directly root still may.
	l, err := root.archives.ListArchives(root.ctx(), &wormvaultv1.ListArchivesRequest{Vault: v, AllVersions: true})
	if err != nil || len(l.GetArchives()) != 1 || len(l.GetArchives()[0].GetLegalHolds()) != 0 || l.GetArchives()[0].GetRetention() != nil {
		t.Fatalf("after the refusals the vault holds %v (%v)", l.GetArchives(), err)
	}
	if got := root.get(v, "k", ""); string(got) != "kept" {
		t.Fatalf("direct read: %q", got)
	}

	// Every denial reaches the vault's access log, naming the access point.
	deadline := time.Now().Add(60 * time.Second)
	for {
		recs := readLogs(t, root, "far-logs", "far/")
		denied := map[string]bool{}
		for _, r := range recs {
			if r.Reason != "NETWORK_ORIGIN" && r.AccessPoint == "" {
				continue
			}
			if r.AccessPoint != "elsewhere" || r.Vault != v || r.Status != "PERMISSION_DENIED" || r.Reason != "NETWORK_ORIGIN" || r.Principal != "root" {
				t.Fatalf("record of a request through the access point: %+v", r)
			}
			denied[strings.TrimPrefix(r.RPC, "/wormvault.v1.ArchiveService/")] = true
		}
		missing := 0
		for _, ac := range calls {
			if !denied[ac.rpc] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d NETWORK_ORIGIN denials missing from the access log: %+v", missing, recs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Acceptance 3: a vault policy requiring access points denies direct
// access even to root's non-admin actions, and allows access through an
// access point; root still manages the vault's access policy directly.
func TestAccessPointVaultPolicyRequiresAccessPoints(t *testing.T) {
	s := servertest.Start(t)
	root := dial(t, s)
	const v = "ap-only"
	root.createVault(v)
	before := root.put(v, "k", []byte("before the policy"))
	requireAP := `{"statements":[{"sid":"require-access-point","effect":"DENY","principals":["*"],"actions":["wormvault:*"],
		"resources":["vaults/ap-only","vaults/ap-only/archives/*"],"condition":"request.access_point == \"\""}]}`
	mustOK(t, root.setAccessPolicy(v, requireAP), "SetVaultAccessPolicy")
	root.mustCreateAP("front-door", v, "", "127.0.0.0/8")

	for _, ac := range archiveCalls(before.GetVersionId()) {
		wantPolicyDenied(t, ac.call(root, v), "require-access-point")
	}
	_, err := root.vaults.GetVault(root.ctx(), &wormvaultv1.GetVaultRequest{Name: v})
	wantPolicyDenied(t, err, "require-access-point")
	// Root's standing right to manage the access policy is untouched.
	wantAccessPolicy(t, root, v, requireAP)

	// Through the access point root needs no ALLOW (its policy is empty),
	// and the vault's condition no longer holds.
	a, err := root.upload(&wormvaultv1.ArchiveHeader{Vault: "ap/front-door", Key: "k2"}, strings.NewReader("through the door"), 1<<20)
	mustOK(t, err, "root upload through the access point")
	var buf bytes.Buffer
	if _, err := root.download(&wormvaultv1.DownloadArchiveRequest{Vault: "ap/front-door", Key: "k2"}, &buf); err != nil || buf.String() != "through the door" {
		t.Fatalf("root download through the access point: %q, %v", buf.String(), err)
	}
	l, err := root.archives.ListArchives(root.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "ap/front-door"})
	if err != nil || len(l.GetArchives()) != 2 {
		t.Fatalf("list through the access point: %v, %v", l, err)
	}
	// A principal needs the access point's ALLOW and the vault side's.
	reader := newPrincipal(t, root, "reader", `{"statements":[{"sid":"read","effect":"ALLOW","principals":["reader"],"actions":["wormvault:GetArchive"],"resources":["vaults/ap-only/archives/*"]}]}`)
	_, err = reader.archives.GetArchive(reader.ctx(), &wormvaultv1.GetArchiveRequest{Vault: "ap/front-door", Key: "k2"})
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED") // the access point's policy allows nobody
	_, err = root.aps().UpdateAccessPointPolicy(root.ctx(), &wormvaultv1.UpdateAccessPointPolicyRequest{Name: "front-door", Policy: allowAll})
	mustOK(t, err, "UpdateAccessPointPolicy")
	r, err := reader.archives.GetArchive(reader.ctx(), &wormvaultv1.GetArchiveRequest{Vault: "ap/front-door", Key: "k2"})
	if err != nil || r.GetArchive().GetVersionId() != a.GetVersionId() {
		t.Fatalf("reader through the access point: %v, %v", r, err)
	}
	_, err = reader.archives.GetArchive(reader.ctx(), &wormvaultv1.GetArchiveRequest{Vault: v, Key: "k2"})
	wantPolicyDenied(t, err, "require-access-point")
	// The access point's allow-all does not widen the reader's rights.
	_, err = reader.upload(&wormvaultv1.ArchiveHeader{Vault: "ap/front-door", Key: "k3"}, strings.NewReader("x"), 1<<20)
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
}

// Acceptance 4: a vault-lock deny binds through every access point, root
// and principals alike, whatever the access points' policies allow; and so
// does COMPLIANCE retention.
func TestAccessPointVaultLockAndComplianceBind(t *testing.T) {
	s := servertest.Start(t)
	root := dial(t, s)
	const v = "locked-vault"
	root.createVault(v)
	comp := root.putLocked(v, "k", retention(wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE, time.Now().Add(time.Hour)), false, []byte("evidence"))
	doors := []string{"door-a", "door-b", "door-c"}
	for _, d := range doors {
		root.mustCreateAP(d, v, allowAll, "127.0.0.0/8", "::1/128")
	}
	officer := newPrincipal(t, root, "officer", `{"statements":[{"sid":"compliance","effect":"ALLOW","principals":["officer"],
		"actions":["wormvault:*Retention","wormvault:DeleteArchive","wormvault:BypassGovernanceRetention","wormvault:ExplainProtection"],
		"resources":["vaults/locked-vault/archives/*"]}]}`)

	// COMPLIANCE retention: no shortening, no delete, bypass or not.
	for _, d := range doors {
		for _, c := range []*conn{root, officer} {
			_, err := c.setRetention("ap/"+d, "k", comp.GetVersionId(), nil, true)
			wantStatus(t, err, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE")
			_, err = c.deleteArchive("ap/"+d, "k", comp.GetVersionId(), true)
			wantStatus(t, err, codes.PermissionDenied, "RETENTION_COMPLIANCE_ACTIVE")
		}
	}

	free := root.put(v, "free", []byte("no retention"))
	c := root.mustInitiateLock(v, denyDeletes(v, "keep-all"))
	mustOK(t, root.completeLock(v, c.GetLockId()), "CompleteVaultLock")
	for _, d := range doors {
		for name, c := range map[string]*conn{"root": root, "officer": officer} {
			_, err := c.deleteArchive("ap/"+d, "free", free.GetVersionId(), false)
			wantPolicyDenied(t, err, "keep-all")
			_, err = c.deleteArchive("ap/"+d, "free", "", false)
			wantPolicyDenied(t, err, "keep-all")
			if e := c.explain("ap/"+d, "free", free.GetVersionId()); e.GetDeletable() {
				t.Fatalf("%s through %s: ExplainProtection says deletable under a lock deny", name, d)
			}
		}
	}
	// Reads through the access points still work.
	if got := root.get("ap/door-b", "free", ""); string(got) != "no retention" {
		t.Fatalf("root read through the access point: %q", got)
	}
}

// Deleting a vault that access points lead to is refused, naming them.
func TestAccessPointDeleteVaultRefused(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	const v = "doors"
	c.createVault(v)
	for _, n := range []string{"door-2", "door-1"} {
		c.mustCreateAP(n, v, "", "10.0.0.0/8")
	}
	refused(t, c, s, codes.FailedPrecondition, "VAULT_HAS_ACCESS_POINTS", "", func() error {
		err := c.deleteVault(v)
		if err != nil && !strings.Contains(err.Error(), "ap/door-1, ap/door-2") {
			t.Fatalf("the refusal does not name the access points: %v", err)
		}
		return err
	})
	for _, n := range []string{"door-1", "door-2"} {
		_, err := c.aps().DeleteAccessPoint(c.ctx(), &wormvaultv1.DeleteAccessPointRequest{Name: n})
		mustOK(t, err, "DeleteAccessPoint "+n)
	}
	mustOK(t, c.deleteVault(v), "DeleteVault without access points")
}

// Bad input names its field; missing things are NOT_FOUND with their
// reason; nothing changes.
func TestAccessPointBadInput(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	const v = "bad-input"
	c.createVault(v)
	a := c.put(v, "k", []byte("x"))
	c.mustCreateAP("taken", v, "", "127.0.0.0/8")
	create := func(name, vault, policy string, origin *wormvaultv1.NetworkOrigin) func() error {
		return func() error {
			_, err := c.aps().CreateAccessPoint(c.ctx(), &wormvaultv1.CreateAccessPointRequest{Name: name, Vault: vault, Policy: policy, NetworkOrigin: origin})
			return err
		}
	}
	origin := func(cidrs ...string) *wormvaultv1.NetworkOrigin {
		return &wormvaultv1.NetworkOrigin{AllowedCidrs: cidrs}
	}
	local := origin("127.0.0.0/8")
	tests := []struct {
		name          string
		code          codes.Code
		reason, field string
		call          func() error
	}{
		{"name too short", codes.InvalidArgument, "INVALID_ARGUMENT", "name", create("ab", v, "", local)},
		{"name upper case", codes.InvalidArgument, "INVALID_ARGUMENT", "name", create("Payroll", v, "", local)},
		{"name with ap/", codes.InvalidArgument, "INVALID_ARGUMENT", "name", create("ap/payroll", v, "", local)},
		{"vault name", codes.InvalidArgument, "INVALID_ARGUMENT", "vault", create("payroll", "Bad_Vault", "", local)},
		{"vault missing", codes.NotFound, "VAULT_NOT_FOUND", "", create("payroll", "no-such-vault", "", local)},
		{"no network origin", codes.InvalidArgument, "INVALID_ARGUMENT", "network_origin", create("payroll", v, "", nil)},
		{"no cidrs", codes.InvalidArgument, "INVALID_ARGUMENT", "network_origin.allowed_cidrs", create("payroll", v, "", origin())},
		{"not a cidr", codes.InvalidArgument, "INVALID_ARGUMENT", "network_origin.allowed_cidrs", create("payroll", v, "", origin("127.0.0.1"))},
		{"bad prefix length", codes.InvalidArgument, "INVALID_ARGUMENT", "network_origin.allowed_cidrs", create("payroll", v, "", origin("127.0.0.0/8", "10.0.0.0/40"))},
		{"policy not JSON", codes.InvalidArgument, "INVALID_ARGUMENT", "policy", create("payroll", v, `{"statements":`, local)},
		{"policy unknown action", codes.InvalidArgument, "INVALID_ARGUMENT", "policy", create("payroll", v, `{"statements":[{"effect":"ALLOW","principals":["*"],"actions":["wormvault:Nope"],"resources":["*"]}]}`, local)},
		{"name taken", codes.AlreadyExists, "ACCESS_POINT_EXISTS", "", create("taken", v, "", local)},
		{"get bad name", codes.InvalidArgument, "INVALID_ARGUMENT", "name", func() error {
			_, err := c.aps().GetAccessPoint(c.ctx(), &wormvaultv1.GetAccessPointRequest{Name: "-x-"})
			return err
		}},
		{"get missing", codes.NotFound, "ACCESS_POINT_NOT_FOUND", "", func() error {
			_, err := c.aps().GetAccessPoint(c.ctx(), &wormvaultv1.GetAccessPointRequest{Name: "missing"})
			return err
		}},
		{"list bad vault", codes.InvalidArgument, "INVALID_ARGUMENT", "vault", func() error {
			_, err := c.aps().ListAccessPoints(c.ctx(), &wormvaultv1.ListAccessPointsRequest{Vault: "X"})
			return err
		}},
		{"list missing vault", codes.NotFound, "VAULT_NOT_FOUND", "", func() error {
			_, err := c.aps().ListAccessPoints(c.ctx(), &wormvaultv1.ListAccessPointsRequest{Vault: "no-such-vault"})
			return err
		}},
		{"list bad token", codes.InvalidArgument, "INVALID_ARGUMENT", "page_token", func() error {
			_, err := c.aps().ListAccessPoints(c.ctx(), &wormvaultv1.ListAccessPointsRequest{PageToken: "!!"})
			return err
		}},
		{"list bad page size", codes.InvalidArgument, "INVALID_ARGUMENT", "page_size", func() error {
			_, err := c.aps().ListAccessPoints(c.ctx(), &wormvaultv1.ListAccessPointsRequest{PageSize: -1})
			return err
		}},
		{"update bad policy", codes.InvalidArgument, "INVALID_ARGUMENT", "policy", func() error {
			_, err := c.aps().UpdateAccessPointPolicy(c.ctx(), &wormvaultv1.UpdateAccessPointPolicyRequest{Name: "taken", Policy: "nope"})
			return err
		}},
		{"update missing", codes.NotFound, "ACCESS_POINT_NOT_FOUND", "", func() error {
			_, err := c.aps().UpdateAccessPointPolicy(c.ctx(), &wormvaultv1.UpdateAccessPointPolicyRequest{Name: "missing"})
			return err
		}},
		{"delete missing", codes.NotFound, "ACCESS_POINT_NOT_FOUND", "", func() error {
			_, err := c.aps().DeleteAccessPoint(c.ctx(), &wormvaultv1.DeleteAccessPointRequest{Name: "missing"})
			return err
		}},
		{"archive via ap/ without a name", codes.InvalidArgument, "INVALID_ARGUMENT", "vault", func() error {
			_, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: "ap/", Key: "k"})
			return err
		}},
		{"upload via a bad access point name", codes.InvalidArgument, "INVALID_ARGUMENT", "header.vault", func() error {
			_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "ap/Taken", Key: "k"}, strings.NewReader("x"), 1<<20)
			return err
		}},
		{"archive via a missing access point", codes.NotFound, "ACCESS_POINT_NOT_FOUND", "", func() error {
			_, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: "ap/missing", Key: "k", VersionId: a.GetVersionId()})
			return err
		}},
		{"upload via a missing access point", codes.NotFound, "ACCESS_POINT_NOT_FOUND", "", func() error {
			_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "ap/missing", Key: "k"}, strings.NewReader("x"), 1<<20)
			return err
		}},
	}
	before := apState(t, c)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refused(t, c, s, tt.code, tt.reason, tt.field, tt.call)
		})
	}
	if after := apState(t, c); after != before {
		t.Fatalf("refused calls changed the access points:\n%s\nbefore:\n%s", after, before)
	}
}

// apState renders every access point, for nothing-changed checks.
func apState(t *testing.T, c *conn) string {
	t.Helper()
	l, err := c.aps().ListAccessPoints(c.ctx(), &wormvaultv1.ListAccessPointsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(l.GetAccessPoints())
}

// Create, get, list (by vault, paged), update and delete; each change is
// in the audit trail with the access point and its vault.
func TestAccessPointLifecycleAndAudit(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	for _, v := range []string{"life-a", "life-b"} {
		c.createVault(v)
	}
	c.mustCreateAP("ap-3", "life-a", "", "127.0.0.1/8", "127.0.0.0/8")
	c.mustCreateAP("ap-1", "life-a", allowAll, "10.0.0.0/8")
	c.mustCreateAP("ap-2", "life-b", "", "::1/128")

	got, err := c.aps().GetAccessPoint(c.ctx(), &wormvaultv1.GetAccessPointRequest{Name: "ap-3"})
	mustOK(t, err, "GetAccessPoint")
	if cidrs := got.GetAccessPoint().GetNetworkOrigin().GetAllowedCidrs(); len(cidrs) != 1 || cidrs[0] != "127.0.0.0/8" {
		t.Fatalf("CIDRs stored as %v, want the one canonical 127.0.0.0/8", cidrs)
	}
	list := func(vault string, size int32) []string {
		var names []string
		token := ""
		for {
			l, err := c.aps().ListAccessPoints(c.ctx(), &wormvaultv1.ListAccessPointsRequest{Vault: vault, PageSize: size, PageToken: token})
			mustOK(t, err, "ListAccessPoints")
			for _, ap := range l.GetAccessPoints() {
				names = append(names, ap.GetName()+"@"+ap.GetVault())
			}
			if token = l.GetNextPageToken(); token == "" {
				return names
			}
		}
	}
	if got := fmt.Sprint(list("", 1)); got != "[ap-1@life-a ap-2@life-b ap-3@life-a]" {
		t.Fatalf("all access points, one per page: %s", got)
	}
	if got := fmt.Sprint(list("life-a", 0)); got != "[ap-1@life-a ap-3@life-a]" {
		t.Fatalf("access points of life-a: %s", got)
	}
	_, err = c.aps().UpdateAccessPointPolicy(c.ctx(), &wormvaultv1.UpdateAccessPointPolicyRequest{Name: "ap-3", Policy: allowAll})
	mustOK(t, err, "UpdateAccessPointPolicy")
	_, err = c.aps().DeleteAccessPoint(c.ctx(), &wormvaultv1.DeleteAccessPointRequest{Name: "ap-1"})
	mustOK(t, err, "DeleteAccessPoint")
	if got := fmt.Sprint(list("", 0)); got != "[ap-2@life-b ap-3@life-a]" {
		t.Fatalf("after the delete: %s", got)
	}

	evs := listAudit(t, c, &wormvaultv1.ListAuditEventsRequest{Vault: "life-a"})
	var seen []string
	for _, ev := range evs {
		if !strings.HasPrefix(ev.GetKind(), "ACCESS_POINT_") {
			continue
		}
		d := ev.GetDetails()
		seen = append(seen, ev.GetKind()+":"+d["access_point"])
		if ev.GetPrincipal() != "root" || ev.GetVault() != "life-a" {
			t.Fatalf("event %v", ev)
		}
		switch ev.GetKind() {
		case "ACCESS_POINT_CREATE":
			if d["access_point"] == "ap-3" && d["allowed_cidrs"] != "127.0.0.0/8" {
				t.Fatalf("create event %v", ev)
			}
		case "ACCESS_POINT_POLICY_SET":
			if d["policy"] != allowAll || d["old_policy"] != "" {
				t.Fatalf("policy event %v", ev)
			}
		}
	}
	want := "[ACCESS_POINT_CREATE:ap-3 ACCESS_POINT_CREATE:ap-1 ACCESS_POINT_POLICY_SET:ap-3 ACCESS_POINT_DELETE:ap-1]"
	if fmt.Sprint(seen) != want {
		t.Fatalf("access point events of life-a: %v, want %s", seen, want)
	}
}

// Managing access points is authorized on their vault: a principal needs
// the actions, which root has unless denied.
func TestAccessPointManagementRights(t *testing.T) {
	s := servertest.Start(t)
	root := dial(t, s)
	root.createVault("managed")
	root.createVault("not-mine")
	root.mustCreateAP("theirs", "not-mine", "", "127.0.0.0/8")
	ops := newPrincipal(t, root, "ops", `{"statements":[{"sid":"aps","effect":"ALLOW","principals":["ops"],
		"actions":["wormvault:*AccessPoint*"],"resources":["vaults/managed"]}]}`)
	nobody := newPrincipal(t, root, "nobody", "")

	_, err := nobody.createAP("mine", "managed", "", "127.0.0.0/8")
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
	_, err = ops.createAP("mine", "managed", "", "127.0.0.0/8")
	mustOK(t, err, "ops creates an access point to its vault")
	_, err = ops.createAP("mine-too", "not-mine", "", "127.0.0.0/8")
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
	_, err = ops.aps().GetAccessPoint(ops.ctx(), &wormvaultv1.GetAccessPointRequest{Name: "theirs"})
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED")
	_, err = ops.aps().ListAccessPoints(ops.ctx(), &wormvaultv1.ListAccessPointsRequest{Vault: "managed"})
	mustOK(t, err, "ops lists its vault's access points")
	_, err = ops.aps().ListAccessPoints(ops.ctx(), &wormvaultv1.ListAccessPointsRequest{})
	wantStatus(t, err, codes.PermissionDenied, "PERMISSION_DENIED") // every vault's: resource "*"
	_, err = ops.aps().DeleteAccessPoint(ops.ctx(), &wormvaultv1.DeleteAccessPointRequest{Name: "mine"})
	mustOK(t, err, "ops deletes its access point")
	// A vault access policy cannot keep root from managing access points
	// (as it cannot keep root from managing the access policy), but it
	// binds everyone else; a vault lock binds root too.
	noDoors := `{"statements":[{"sid":"no-doors","effect":"DENY","principals":["*"],"actions":["wormvault:CreateAccessPoint"],"resources":["vaults/managed"]}]}`
	mustOK(t, root.setAccessPolicy("managed", noDoors), "SetVaultAccessPolicy")
	_, err = ops.createAP("ops-door", "managed", "", "127.0.0.0/8")
	wantPolicyDenied(t, err, "no-doors")
	_, err = root.createAP("root-door", "managed", "", "127.0.0.0/8")
	mustOK(t, err, "root creates an access point despite the access policy")
	root.mustInitiateLock("managed", noDoors)
	_, err = root.createAP("root-door-2", "managed", "", "127.0.0.0/8")
	wantPolicyDenied(t, err, "no-doors")
}

// With --trust-proxy-header, a trusted proxy's x-forwarded-for names the
// source address; anyone else's is ignored.
func TestAccessPointTrustedProxyHeader(t *testing.T) {
	for _, tt := range []struct {
		name    string
		proxies []string
		xff     string
		want    codes.Code
	}{
		{"trusted proxy, client inside", []string{"127.0.0.0/8"}, "198.51.100.7, 127.0.0.1", codes.OK},
		{"trusted proxy, client outside", []string{"127.0.0.0/8"}, "203.0.113.9", codes.PermissionDenied},
		{"trusted proxy, no header", []string{"127.0.0.0/8"}, "", codes.PermissionDenied},
		{"trusted proxy, malformed header", []string{"127.0.0.0/8"}, "unknown", codes.PermissionDenied},
		{"untrusted peer claims an address", []string{"10.0.0.0/8"}, "198.51.100.7", codes.PermissionDenied},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
				c.TrustProxyHeader, c.TrustedProxies = true, tt.proxies
			}))
			c := dial(t, s)
			c.createVault("proxied")
			c.mustCreateAP("behind-proxy", "proxied", "", "198.51.100.0/24")
			ctx := c.ctx()
			if tt.xff != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "x-forwarded-for", tt.xff)
			}
			_, err := c.archives.ListArchives(ctx, &wormvaultv1.ListArchivesRequest{Vault: "ap/behind-proxy"})
			if tt.want == codes.OK {
				mustOK(t, err, "list through the access point")
				return
			}
			wantStatus(t, err, tt.want, "NETWORK_ORIGIN")
		})
	}
	cfg := server.DefaultConfig()
	cfg.TrustProxyHeader = true
	if err := cfg.Validate(); err == nil {
		t.Fatal("TrustProxyHeader without TrustedProxies validates")
	}
	cfg.TrustedProxies = []string{"not-a-cidr"}
	if err := cfg.Validate(); err == nil {
		t.Fatal("a TrustedProxies entry that is not a CIDR validates")
	}
}

// Policy conditions see request.source_ip too.
func TestAccessPointSourceIPCondition(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("by-ip")
	mustOK(t, c.setAccessPolicy("by-ip", `{"statements":[{"sid":"not-from-loopback","effect":"DENY","principals":["*"],
		"actions":["wormvault:ListArchives"],"resources":["vaults/by-ip"],"condition":"cidr(\"127.0.0.0/8\").containsIP(request.source_ip)"}]}`), "SetVaultAccessPolicy")
	c.mustCreateAP("loop", "by-ip", "", "127.0.0.0/8")
	for _, v := range []string{"by-ip", "ap/loop"} {
		_, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: v})
		wantPolicyDenied(t, err, "not-from-loopback")
	}
}

// The REST routes of the access point service, and an archive call through
// an access point over Connect. (A REST archive route cannot name one: the
// vault is one path segment, and ap%2FNAME is decoded to two.)
func TestAccessPointREST(t *testing.T) {
	_, c := startHTTP(t)
	c.ok(c.auth("POST", "/v1/vaults", `{"name": "rest-ap-vault"}`))
	created := c.ok(c.auth("POST", "/v1/accesspoints", `{"name": "rest-door", "vault": "rest-ap-vault", "network_origin": {"allowed_cidrs": ["127.0.0.0/8"]}}`))
	if ap := created["accessPoint"].(map[string]any); ap["vault"] != "rest-ap-vault" {
		t.Fatalf("created %v", created)
	}
	c.ok(c.auth("GET", "/v1/accesspoints/rest-door", nil))
	if l := c.ok(c.auth("GET", "/v1/accesspoints?vault=rest-ap-vault", nil)); len(l["accessPoints"].([]any)) != 1 {
		t.Fatalf("list %v", l)
	}
	c.ok(c.auth("PUT", "/v1/accesspoints/rest-door/policy", `{"policy": `+mustJSON(allowAll)+`}`))
	c.ok(c.auth("PUT", "/v1/vaults/rest-ap-vault/archives/a.txt", "direct"))
	l := c.ok(c.auth("POST", "/wormvault.v1.ArchiveService/ListArchives", `{"vault": "ap/rest-door"}`, "Content-Type", "application/json", "Connect-Protocol-Version", "1"))
	if as := l["archives"].([]any); len(as) != 1 || as[0].(map[string]any)["vault"] != "rest-ap-vault" {
		t.Fatalf("list through the access point over Connect: %v", l)
	}
	wantError(t, c.auth("GET", "/v1/accesspoints/rest-missing", nil), http.StatusNotFound, "ACCESS_POINT_NOT_FOUND")
	c.ok(c.auth("DELETE", "/v1/accesspoints/rest-door", nil))
}

// The network origin is decided by the TCP peer's address: from 127.0.0.2
// the access point for 127.0.0.2/32 opens, from 127.0.0.1 it does not.
func TestAccessPointNetworkOriginByPeerAddress(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("two-only")
	c.mustCreateAP("from-two", "two-only", "", "127.0.0.2/32")
	list := func(c *conn) error {
		_, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "ap/from-two"})
		return err
	}
	wantStatus(t, list(c), codes.PermissionDenied, "NETWORK_ORIGIN")

	cc, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext(ctx, "tcp", addr)
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	from2 := &conn{t: t, cc: cc, token: s.Token, vaults: wormvaultv1.NewVaultServiceClient(cc), archives: wormvaultv1.NewArchiveServiceClient(cc)}
	mustOK(t, list(from2), "list from 127.0.0.2 through the access point")
}

// An upload through an access point writes its access-log record in its
// own commit: the record names the access point and the vault behind it,
// the version created, and the response's bytes.
func TestAccessPointUploadLogged(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.AccessLogInterval = 100 * time.Millisecond }))
	root := dial(t, s)
	root.createVault("door-vault")
	root.createVault("door-logs")
	mustOK(t, root.setLogging("door-vault", "door-logs", "door/"), "logging on")
	root.mustCreateAP("front", "door-vault", allowAll, "127.0.0.0/8")
	a, err := root.upload(&wormvaultv1.ArchiveHeader{Vault: "ap/front", Key: "in"}, strings.NewReader("through the door"), 1<<20)
	mustOK(t, err, "upload through the access point")
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, r := range readLogs(t, root, "door-logs", "door/") {
			if !strings.HasSuffix(r.RPC, "/UploadArchive") {
				continue
			}
			if r.AccessPoint != "front" || r.Vault != "door-vault" || r.Key != "in" || r.VersionID != a.GetVersionId() ||
				r.Status != "OK" || r.Principal != "root" || r.BytesIn == 0 || r.BytesOut == 0 {
				t.Fatalf("upload record: %+v", r)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload's record was never delivered")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
