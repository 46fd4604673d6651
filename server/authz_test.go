package server_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// as returns a connection that authenticates with token.
func (c *conn) as(token string) *conn {
	d := *c
	d.token = token
	return &d
}

func newPrincipal(t *testing.T, c *conn, name, policy string) *conn {
	t.Helper()
	ids := wormvaultv1.NewIdentityServiceClient(c.cc)
	if _, err := ids.CreatePrincipal(c.ctx(), &wormvaultv1.CreatePrincipalRequest{Name: name}); err != nil {
		t.Fatal(err)
	}
	if policy != "" {
		if _, err := ids.SetPrincipalPolicy(c.ctx(), &wormvaultv1.SetPrincipalPolicyRequest{Principal: name, Policy: policy}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := ids.CreateAccessKey(c.ctx(), &wormvaultv1.CreateAccessKeyRequest{Principal: name})
	if err != nil {
		t.Fatal(err)
	}
	return c.as(k.GetKeyId() + "." + k.GetSecret())
}

const (
	uploaderPolicy = `{"statements":[{"sid":"upload","effect":"ALLOW","principals":["uploader"],
		"actions":["wormvault:UploadArchive","wormvault:ListArchives","wormvault:GetVault"],
		"resources":["vaults/matrix","vaults/matrix/archives/*"]}]}`
	auditorPolicy = `{"statements":[{"sid":"read-only","effect":"ALLOW","principals":["auditor"],
		"actions":["wormvault:Get*","wormvault:List*","wormvault:DownloadArchive","wormvault:ExplainProtection"],
		"resources":["*"]}]}`
	officerPolicy = `{"statements":[{"sid":"compliance","effect":"ALLOW","principals":["officer"],
		"actions":["wormvault:*Retention","wormvault:*LegalHold","wormvault:BypassGovernanceRetention","wormvault:DeleteArchive",
			"wormvault:GetArchive","wormvault:ListArchives","wormvault:ExplainProtection"],
		"resources":["vaults/matrix","vaults/matrix/archives/*"]}]}`
)

// TestAuthorizationMatrix calls every RPC as root, an uploader, a read-only
// auditor and a compliance officer allowed to bypass GOVERNANCE retention,
// and checks who is allowed and who gets PERMISSION_DENIED.
func TestAuthorizationMatrix(t *testing.T) {
	s := servertest.Start(t)
	root := dial(t, s)
	root.createVault("matrix")
	users := map[string]*conn{
		"root":     root,
		"uploader": newPrincipal(t, root, "uploader", uploaderPolicy),
		"auditor":  newPrincipal(t, root, "auditor", auditorPolicy),
		"officer":  newPrincipal(t, root, "officer", officerPolicy),
	}
	gov := &wormvaultv1.Retention{Mode: wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE, RetainUntilTime: timestamppb.New(time.Now().Add(time.Hour))}
	n := 0
	fresh := func(ret *wormvaultv1.Retention) *wormvaultv1.Archive {
		n++
		a, err := root.upload(&wormvaultv1.ArchiveHeader{Vault: "matrix", Key: fmt.Sprintf("k%d", n), Retention: ret}, &prngReader{r: nil, n: 0}, 1024)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	drain := func(st interface {
		Recv() (*wormvaultv1.DownloadArchiveResponse, error)
	}, err error) error {
		if err != nil {
			return err
		}
		for {
			if _, err := st.Recv(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}
	vaultN := 0
	newVault := func() string {
		vaultN++
		name := fmt.Sprintf("scratch-%d", vaultN)
		root.createVault(name)
		return name
	}
	type call func(c *conn, ctx context.Context) error
	cases := []struct {
		rpc     string
		allowed []string // besides root, unless root is denied
		call    call
	}{
		{"CreateVault", nil, func(c *conn, ctx context.Context) error {
			vaultN++
			_, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{Name: fmt.Sprintf("made-%d", vaultN)})
			return err
		}},
		{"GetVault", []string{"uploader", "auditor"}, func(c *conn, ctx context.Context) error {
			_, err := c.vaults.GetVault(ctx, &wormvaultv1.GetVaultRequest{Name: "matrix"})
			return err
		}},
		{"ListVaults", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := c.vaults.ListVaults(ctx, &wormvaultv1.ListVaultsRequest{})
			return err
		}},
		{"UpdateVault", nil, func(c *conn, ctx context.Context) error {
			_, err := c.vaults.UpdateVault(ctx, &wormvaultv1.UpdateVaultRequest{Vault: &wormvaultv1.Vault{Name: "matrix"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"default_retention"}}})
			return err
		}},
		{"DeleteVault", nil, func(c *conn, ctx context.Context) error {
			_, err := c.vaults.DeleteVault(ctx, &wormvaultv1.DeleteVaultRequest{Name: newVault()})
			return err
		}},
		{"SetVaultAccessPolicy", nil, func(c *conn, ctx context.Context) error {
			_, err := c.vaults.SetVaultAccessPolicy(ctx, &wormvaultv1.SetVaultAccessPolicyRequest{Vault: newVault(), Policy: `{"statements":[{"sid":"x","effect":"DENY","principals":["nobody"],"actions":["wormvault:GetVault"],"resources":["*"]}]}`})
			return err
		}},
		{"GetVaultAccessPolicy", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := c.vaults.GetVaultAccessPolicy(ctx, &wormvaultv1.GetVaultAccessPolicyRequest{Vault: "matrix"})
			if status.Code(err) == codes.NotFound {
				return nil // allowed, and there is none
			}
			return err
		}},
		{"DeleteVaultAccessPolicy", nil, func(c *conn, ctx context.Context) error {
			_, err := c.vaults.DeleteVaultAccessPolicy(ctx, &wormvaultv1.DeleteVaultAccessPolicyRequest{Vault: "matrix"})
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return err
		}},
		{"UploadArchive", []string{"uploader"}, func(c *conn, ctx context.Context) error {
			n++
			_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "matrix", Key: fmt.Sprintf("up%d", n)}, &prngReader{r: nil, n: 0}, 1024)
			return err
		}},
		{"DownloadArchive", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			a := fresh(nil)
			st, err := c.archives.DownloadArchive(ctx, &wormvaultv1.DownloadArchiveRequest{Vault: "matrix", Key: a.GetKey()})
			return drain(st, err)
		}},
		{"GetArchive", []string{"auditor", "officer"}, func(c *conn, ctx context.Context) error {
			_, err := c.archives.GetArchive(ctx, &wormvaultv1.GetArchiveRequest{Vault: "matrix", Key: fresh(nil).GetKey()})
			return err
		}},
		{"ListArchives", []string{"uploader", "auditor", "officer"}, func(c *conn, ctx context.Context) error {
			_, err := c.archives.ListArchives(ctx, &wormvaultv1.ListArchivesRequest{Vault: "matrix"})
			return err
		}},
		{"DeleteArchive (marker)", []string{"officer"}, func(c *conn, ctx context.Context) error {
			_, err := c.archives.DeleteArchive(ctx, &wormvaultv1.DeleteArchiveRequest{Vault: "matrix", Key: fresh(nil).GetKey()})
			return err
		}},
		{"DeleteArchive (GOVERNANCE, bypass)", []string{"officer"}, func(c *conn, ctx context.Context) error {
			a := fresh(gov)
			_, err := c.archives.DeleteArchive(ctx, &wormvaultv1.DeleteArchiveRequest{Vault: "matrix", Key: a.GetKey(), VersionId: a.GetVersionId(), BypassGovernanceRetention: true})
			return err
		}},
		{"SetRetention", []string{"officer"}, func(c *conn, ctx context.Context) error {
			a := fresh(nil)
			_, err := c.archives.SetRetention(ctx, &wormvaultv1.SetRetentionRequest{Vault: "matrix", Key: a.GetKey(), Retention: gov})
			return err
		}},
		{"SetRetention (shorten GOVERNANCE, bypass)", []string{"officer"}, func(c *conn, ctx context.Context) error {
			a := fresh(gov)
			_, err := c.archives.SetRetention(ctx, &wormvaultv1.SetRetentionRequest{Vault: "matrix", Key: a.GetKey(), BypassGovernanceRetention: true,
				Retention: &wormvaultv1.Retention{Mode: gov.GetMode(), RetainUntilTime: timestamppb.New(time.Now().Add(time.Minute))}})
			return err
		}},
		{"GetRetention", []string{"auditor", "officer"}, func(c *conn, ctx context.Context) error {
			_, err := c.archives.GetRetention(ctx, &wormvaultv1.GetRetentionRequest{Vault: "matrix", Key: fresh(gov).GetKey()})
			return err
		}},
		{"SetLegalHold", []string{"officer"}, func(c *conn, ctx context.Context) error {
			_, err := c.archives.SetLegalHold(ctx, &wormvaultv1.SetLegalHoldRequest{Vault: "matrix", Key: fresh(nil).GetKey(), LegalHold: true})
			return err
		}},
		{"GetLegalHold", []string{"auditor", "officer"}, func(c *conn, ctx context.Context) error {
			_, err := c.archives.GetLegalHold(ctx, &wormvaultv1.GetLegalHoldRequest{Vault: "matrix", Key: fresh(nil).GetKey()})
			return err
		}},
		{"ExplainProtection", []string{"auditor", "officer"}, func(c *conn, ctx context.Context) error {
			_, err := c.archives.ExplainProtection(ctx, &wormvaultv1.ExplainProtectionRequest{Vault: "matrix", Key: fresh(gov).GetKey()})
			return err
		}},
		{"InitiateVaultLock", nil, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewLockServiceClient(c.cc).InitiateVaultLock(ctx, &wormvaultv1.InitiateVaultLockRequest{Vault: newVault(),
				Policy: `{"statements":[{"sid":"x","effect":"DENY","principals":["nobody"],"actions":["wormvault:DeleteArchive"],"resources":["*"]}]}`})
			return err
		}},
		{"GetVaultLock", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewLockServiceClient(c.cc).GetVaultLock(ctx, &wormvaultv1.GetVaultLockRequest{Vault: "matrix"})
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return err
		}},
		{"AbortVaultLock", nil, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewLockServiceClient(c.cc).AbortVaultLock(ctx, &wormvaultv1.AbortVaultLockRequest{Vault: "matrix"})
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return err
		}},
		{"CompleteVaultLock", nil, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewLockServiceClient(c.cc).CompleteVaultLock(ctx, &wormvaultv1.CompleteVaultLockRequest{Vault: "matrix", LockId: "x"})
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return err
		}},
		{"CreatePrincipal", nil, func(c *conn, ctx context.Context) error {
			n++
			_, err := wormvaultv1.NewIdentityServiceClient(c.cc).CreatePrincipal(ctx, &wormvaultv1.CreatePrincipalRequest{Name: fmt.Sprintf("p%d", n)})
			return err
		}},
		{"GetPrincipal", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewIdentityServiceClient(c.cc).GetPrincipal(ctx, &wormvaultv1.GetPrincipalRequest{Name: "uploader"})
			return err
		}},
		{"ListPrincipals", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewIdentityServiceClient(c.cc).ListPrincipals(ctx, &wormvaultv1.ListPrincipalsRequest{})
			return err
		}},
		{"ListAccessKeys", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewIdentityServiceClient(c.cc).ListAccessKeys(ctx, &wormvaultv1.ListAccessKeysRequest{Principal: "uploader"})
			return err
		}},
		{"CreateAccessKey", nil, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewIdentityServiceClient(c.cc).CreateAccessKey(ctx, &wormvaultv1.CreateAccessKeyRequest{Principal: "auditor"})
			return err
		}},
		{"SetPrincipalPolicy", nil, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewIdentityServiceClient(c.cc).SetPrincipalPolicy(ctx, &wormvaultv1.SetPrincipalPolicyRequest{Principal: "uploader", Policy: uploaderPolicy})
			return err
		}},
		{"GetPrincipalPolicy", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := wormvaultv1.NewIdentityServiceClient(c.cc).GetPrincipalPolicy(ctx, &wormvaultv1.GetPrincipalPolicyRequest{Principal: "uploader"})
			return err
		}},
		{"DeletePrincipal", nil, func(c *conn, ctx context.Context) error {
			n++
			name := fmt.Sprintf("doomed%d", n)
			if _, err := wormvaultv1.NewIdentityServiceClient(root.cc).CreatePrincipal(root.ctx(), &wormvaultv1.CreatePrincipalRequest{Name: name}); err != nil {
				t.Fatal(err)
			}
			_, err := wormvaultv1.NewIdentityServiceClient(c.cc).DeletePrincipal(ctx, &wormvaultv1.DeletePrincipalRequest{Name: name})
			return err
		}},
		{"GetStorageStatus", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := c.admin.GetStorageStatus(ctx, &wormvaultv1.GetStorageStatusRequest{})
			return err
		}},
		{"ListFixityReports", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := c.admin.ListFixityReports(ctx, &wormvaultv1.ListFixityReportsRequest{})
			return err
		}},
		{"GetClockStatus", []string{"auditor"}, func(c *conn, ctx context.Context) error {
			_, err := c.admin.GetClockStatus(ctx, &wormvaultv1.GetClockStatusRequest{})
			return err
		}},
		{"Scrub", nil, func(c *conn, ctx context.Context) error {
			_, err := c.admin.Scrub(ctx, &wormvaultv1.ScrubRequest{})
			return err
		}},
		{"AcknowledgeClock", nil, func(c *conn, ctx context.Context) error {
			_, err := c.admin.AcknowledgeClock(ctx, &wormvaultv1.AcknowledgeClockRequest{})
			return err
		}},
	}
	for _, tc := range cases {
		for _, who := range []string{"root", "uploader", "auditor", "officer"} {
			allowed := who == "root"
			for _, a := range tc.allowed {
				allowed = allowed || a == who
			}
			t.Run(tc.rpc+"/"+who, func(t *testing.T) {
				c := users[who]
				err := tc.call(c, c.ctx())
				switch {
				case allowed && err != nil:
					t.Fatalf("%s may call %s, got %v", who, tc.rpc, err)
				case !allowed && status.Code(err) != codes.PermissionDenied:
					t.Fatalf("%s may not call %s, got %v", who, tc.rpc, err)
				}
			})
		}
	}
	// Bypass needs the permission AND the flag: the uploader asking for it
	// is refused by the retention rule, not by a policy.
	a := fresh(gov)
	_, err := users["uploader"].archives.DeleteArchive(users["uploader"].ctx(), &wormvaultv1.DeleteArchiveRequest{Vault: "matrix", Key: a.GetKey(), VersionId: a.GetVersionId(), BypassGovernanceRetention: true})
	wantStatus(t, err, codes.PermissionDenied, "")
	_, err = users["officer"].archives.DeleteArchive(users["officer"].ctx(), &wormvaultv1.DeleteArchiveRequest{Vault: "matrix", Key: a.GetKey(), VersionId: a.GetVersionId()})
	wantStatus(t, err, codes.PermissionDenied, "RETENTION_GOVERNANCE_ACTIVE")
}
