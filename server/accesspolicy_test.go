package server_test

// Acceptance tests of vault access policies through the real server:
// Set/Get/Delete, enforcement on root (an explicit DENY binds root too),
// root's standing right to manage the access policy itself, and conditions
// on how the request arrived. Helpers are in vaultlock_test.go.

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

func (c *conn) setAccessPolicy(vault, doc string) error {
	_, err := c.vaults.SetVaultAccessPolicy(c.ctx(), &wormvaultv1.SetVaultAccessPolicyRequest{Vault: vault, Policy: doc})
	return err
}

func (c *conn) getAccessPolicy(vault string) (string, error) {
	r, err := c.vaults.GetVaultAccessPolicy(c.ctx(), &wormvaultv1.GetVaultAccessPolicyRequest{Vault: vault})
	return r.GetPolicy(), err
}

func (c *conn) deleteAccessPolicy(vault string) error {
	_, err := c.vaults.DeleteVaultAccessPolicy(c.ctx(), &wormvaultv1.DeleteVaultAccessPolicyRequest{Vault: vault})
	return err
}

func wantAccessPolicy(t testing.TB, c *conn, vault, doc string) {
	t.Helper()
	got, err := c.getAccessPolicy(vault)
	mustOK(t, err, "GetVaultAccessPolicy "+vault)
	if got != doc {
		t.Fatalf("access policy of %s is %s, want %s", vault, got, doc)
	}
}

func TestAccessPolicyRoundTrip(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	const v = "ap-round-trip"
	c.createVault(v)
	vs := []string{v}

	refusedPolicy(t, c, s, vs, codes.NotFound, "NO_ACCESS_POLICY", "", func() error { _, err := c.getAccessPolicy(v); return err })
	refusedPolicy(t, c, s, vs, codes.NotFound, "NO_ACCESS_POLICY", "", func() error { return c.deleteAccessPolicy(v) })

	doc1 := `{"statements":[{"sid":"a","effect":"ALLOW","principals":["alice"],"actions":["wormvault:GetArchive","wormvault:DownloadArchive"],"resources":["vaults/ap-round-trip/archives/*"]}]}`
	doc2 := "{\n  \"statements\": [{\"sid\": \"b\", \"effect\": \"DENY\", \"principals\": [\"bob\"], \"actions\": [\"wormvault:*\"], \"resources\": [\"*\"]}]\n}\n"
	mustOK(t, c.setAccessPolicy(v, doc1), "set")
	wantAccessPolicy(t, c, v, doc1)
	mustOK(t, c.setAccessPolicy(v, doc2), "replace")
	wantAccessPolicy(t, c, v, doc2) // byte for byte, as written

	for name, doc := range map[string]string{
		"malformed":      `{"statements":`,
		"unknown action": `{"statements":[{"effect":"DENY","principals":["*"],"actions":["wormvault:Nope"],"resources":["*"]}]}`,
		"CEL type error": `{"statements":[{"effect":"DENY","principals":["*"],"actions":["wormvault:GetArchive"],"resources":["*"],"condition":"request.time > 3"}]}`,
		"empty":          ``,
	} {
		t.Run(name, func(t *testing.T) {
			refusedPolicy(t, c, s, vs, codes.InvalidArgument, "INVALID_ARGUMENT", "policy", func() error { return c.setAccessPolicy(v, doc) })
		})
	}
	refused(t, c, s, codes.NotFound, "VAULT_NOT_FOUND", "", func() error { return c.setAccessPolicy("ap-missing", doc1) })
	refused(t, c, s, codes.NotFound, "VAULT_NOT_FOUND", "", func() error { _, err := c.getAccessPolicy("ap-missing"); return err })
	refused(t, c, s, codes.NotFound, "VAULT_NOT_FOUND", "", func() error { return c.deleteAccessPolicy("ap-missing") })

	mustOK(t, c.deleteAccessPolicy(v), "delete")
	refusedPolicy(t, c, s, vs, codes.NotFound, "NO_ACCESS_POLICY", "", func() error { _, err := c.getAccessPolicy(v); return err })

	// It survives a restart.
	mustOK(t, c.setAccessPolicy(v, doc1), "set again")
	s.Restart()
	c = dial(t, s)
	wantAccessPolicy(t, c, v, doc1)
}

// An access-policy DENY binds root; removing the policy lifts it.
func TestAccessPolicyDenyBindsRoot(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	const v = "ap-deny"
	c.createVault(v)
	a := c.put(v, "k", []byte("readable"))
	doc := `{"statements":[{"sid":"no-get","effect":"DENY","principals":["*"],"actions":["wormvault:GetArchive"],"resources":["vaults/ap-deny/archives/*"]}]}`
	mustOK(t, c.setAccessPolicy(v, doc), "set")

	for _, key := range []string{"k", "never-uploaded"} {
		_, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: v, Key: key})
		wantPolicyDenied(t, err, "no-get")
	}
	_, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: v, Key: "k", VersionId: a.GetVersionId()})
	wantPolicyDenied(t, err, "no-get")
	// Only the action named is denied.
	if string(c.get(v, "k", "")) != "readable" {
		t.Fatal("download under a GetArchive deny")
	}
	// An access-policy statement shows in ExplainProtection as well.
	del := `{"statements":[{"sid":"no-delete","effect":"DENY","principals":["*"],"actions":["wormvault:DeleteArchive"],"resources":["vaults/ap-deny/archives/k"]}]}`
	mustOK(t, c.setAccessPolicy(v, del), "set delete deny")
	if e := c.explain(v, "k", a.GetVersionId()); e.GetDeletable() || len(e.GetProtections()) != 1 ||
		e.GetProtections()[0].GetKind() != "POLICY" || e.GetProtections()[0].GetStatementSid() != "no-delete" {
		t.Fatalf("explain under an access-policy deny: %v", e)
	}
	wantPolicyDenied(t, refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
		_, err := c.deleteArchive(v, "k", a.GetVersionId(), false)
		return err
	}), "no-delete")

	mustOK(t, c.deleteAccessPolicy(v), "delete policy")
	if got := c.archive(v, "k", ""); got.GetVersionId() != a.GetVersionId() {
		t.Fatalf("GetArchive after the policy went: %v", got)
	}
	if e := c.explain(v, "k", a.GetVersionId()); !e.GetDeletable() {
		t.Fatalf("explain after the policy went: %v", e)
	}
}

// Root can always read, replace and remove a vault's access policy, even
// one that denies everything to everyone: no access policy locks root out.
func TestAccessPolicyRootKeepsPolicyAdmin(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	const v = "ap-deny-all"
	c.createVault(v)
	c.put(v, "k", []byte("x"))
	denyAll := func(sid string) string {
		return fmt.Sprintf(`{"statements":[{"sid":%q,"effect":"DENY","principals":["*"],"actions":["wormvault:*"],"resources":["*"]}]}`, sid)
	}
	mustOK(t, c.setAccessPolicy(v, denyAll("deny-all")), "set deny-all")

	calls := map[string]func() error{
		"GetVault": func() error {
			_, err := c.vaults.GetVault(c.ctx(), &wormvaultv1.GetVaultRequest{Name: v})
			return err
		},
		"GetArchive": func() error {
			_, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: v, Key: "k"})
			return err
		},
		"ListArchives": func() error {
			_, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: v})
			return err
		},
		"DownloadArchive": func() error {
			_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: v, Key: "k"}, &bytes.Buffer{})
			return err
		},
		"UploadArchive": func() error {
			_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: v, Key: "new"}, bytes.NewReader([]byte("y")), 1<<20)
			return err
		},
		"DeleteVault":  func() error { return c.deleteVault(v) },
		"GetVaultLock": func() error { _, err := c.getLock(v); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantPolicyDenied(t, call(), "deny-all") })
	}

	wantAccessPolicy(t, c, v, denyAll("deny-all"))
	mustOK(t, c.setAccessPolicy(v, denyAll("deny-all-2")), "replace deny-all")
	wantAccessPolicy(t, c, v, denyAll("deny-all-2"))
	wantPolicyDenied(t, calls["GetArchive"](), "deny-all-2")
	mustOK(t, c.deleteAccessPolicy(v), "delete deny-all")
	refusedPolicy(t, c, s, []string{v}, codes.NotFound, "NO_ACCESS_POLICY", "", func() error { _, err := c.getAccessPolicy(v); return err })

	for name, call := range calls {
		if name == "DeleteVault" || name == "GetVaultLock" || name == "UploadArchive" {
			continue
		}
		mustOK(t, call(), name+" after the policy went")
	}
	wantNoVaultLock(t, c, v)
}

// A "deny unless TLS" statement denies everything arriving in plaintext;
// the test server is plaintext.
func TestAccessPolicySecureTransport(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	const v = "ap-tls"
	c.createVault(v)
	a := c.put(v, "k", []byte("before"))
	doc := `{"statements":[{"sid":"tls-only","effect":"DENY","principals":["*"],"actions":["wormvault:UploadArchive","wormvault:DownloadArchive"],` +
		`"resources":["vaults/ap-tls/archives/*"],"condition":"!request.secure_transport"}]}`
	mustOK(t, c.setAccessPolicy(v, doc), "set")
	for _, size := range []int{0, 10, 3 << 20} {
		err := refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
			_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: v, Key: "k"}, bytes.NewReader(randomBytes(uint64(size), size)), 1<<20)
			return err
		})
		wantPolicyDenied(t, err, "tls-only")
	}
	_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: v, Key: "k"}, &bytes.Buffer{})
	wantPolicyDenied(t, err, "tls-only")
	if got := c.archive(v, "k", ""); got.GetVersionId() != a.GetVersionId() {
		t.Fatalf("latest is %v, want the version from before the policy", got)
	}
	mustOK(t, c.deleteAccessPolicy(v), "delete")
	c.put(v, "k", []byte("after"))
	if string(c.get(v, "k", "")) != "after" {
		t.Fatal("upload after the policy went")
	}
}

// A caller the policies refuse learns nothing of what the vault holds: a
// denied read or change of a version that does not exist is denied, not
// VERSION_NOT_FOUND.
func TestAccessPolicyDenialHidesExistence(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	const v = "ap-hide"
	c.createVault(v)
	a := c.put(v, "k", []byte("x"))
	missing := []byte(a.GetVersionId())
	if missing[len(missing)-1] == 'a' {
		missing[len(missing)-1] = 'b'
	} else {
		missing[len(missing)-1] = 'a'
	}
	mv := string(missing)
	calls := map[string]func() error{
		"GetArchive": func() error {
			_, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: v, Key: "k", VersionId: mv})
			return err
		},
		"DeleteArchive": func() error { _, err := c.deleteArchive(v, "k", mv, false); return err },
		"SetLegalHold":  func() error { _, err := c.setHold(v, "k", mv, true, "h", ""); return err },
		"SetRetention": func() error {
			_, err := c.setRetention(v, "k", mv, retention(gov, time.Now().Add(time.Hour)), false)
			return err
		},
	}
	for name, call := range calls {
		wantStatus(t, call(), codes.NotFound, "VERSION_NOT_FOUND") // no policy yet
		t.Run(name, func(t *testing.T) {
			doc := fmt.Sprintf(`{"statements":[{"sid":"hide","effect":"DENY","principals":["*"],"actions":["wormvault:%s"],"resources":["vaults/ap-hide/archives/*"]}]}`, name)
			mustOK(t, c.setAccessPolicy(v, doc), "set")
			wantPolicyDenied(t, refusedPolicy(t, c, s, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", call), "hide")
		})
	}
}
