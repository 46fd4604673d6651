package client_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	"github.com/wormvault/wormvault/server/servertest"
)

// listVaultsPolicy allows principal to list vaults and nothing else.
func listVaultsPolicy(principal string) string {
	return `{"statements":[{"sid":"list","effect":"ALLOW","principals":["` + principal + `"],` +
		`"actions":["wormvault:ListVaults"],"resources":["*"]}]}`
}

// listErr runs ListVaults to the end and returns its error.
func listErr(c *client.Client, t *testing.T) error {
	for _, err := range c.ListVaults(t.Context()) {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestE2EIdentity(t *testing.T) {
	srv := servertest.Start(t)
	root := dial(t, srv, client.WithPageSize(2))
	ctx := t.Context()
	if _, err := root.CreateVault(ctx, "shared"); err != nil {
		t.Fatal(err)
	}

	for _, n := range []string{"robot", "auditor", "backup"} {
		p, err := root.CreatePrincipal(ctx, n)
		if err != nil || p.GetName() != n || p.GetCreateTime() == nil {
			t.Fatalf("CreatePrincipal %s = %v, %v", n, p, err)
		}
	}
	if _, err := root.CreatePrincipal(ctx, "robot"); !errors.Is(err, wormvault.ErrAlreadyExists) {
		t.Errorf("CreatePrincipal twice: err = %v, want ErrAlreadyExists", err)
	}
	if _, err := root.CreatePrincipal(ctx, "no spaces"); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("CreatePrincipal with a bad name: err = %v, want ErrInvalidArgument", err)
	}
	if p, err := root.GetPrincipal(ctx, "robot"); err != nil || p.GetName() != "robot" {
		t.Errorf("GetPrincipal = %v, %v", p, err)
	}
	if _, err := root.GetPrincipal(ctx, "nobody"); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("GetPrincipal missing: err = %v, want ErrNotFound", err)
	}
	var names []string
	for p, err := range root.ListPrincipals(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p.GetName())
	}
	if want := []string{"root", "auditor", "backup", "robot"}; !slices.Equal(names, want) {
		t.Errorf("ListPrincipals (pages of 2) = %v, want %v", names, want)
	}
	if err := root.DeletePrincipal(ctx, "backup"); err != nil {
		t.Fatal(err)
	}
	if err := root.DeletePrincipal(ctx, "backup"); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("DeletePrincipal twice: err = %v, want ErrNotFound", err)
	}
	if err := root.DeletePrincipal(ctx, "root"); !errors.Is(err, wormvault.ErrFailedPrecondition) {
		t.Errorf("DeletePrincipal root: err = %v, want ErrFailedPrecondition", err)
	}

	// A key for a principal with no policy authenticates but is denied.
	keyID, token, err := root.CreateAccessKey(ctx, "robot")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, keyID+".") || len(token) <= len(keyID)+1 {
		t.Fatalf("CreateAccessKey = %q, %q; want the token KEYID.SECRET", keyID, token)
	}
	if _, _, err := root.CreateAccessKey(ctx, "nobody"); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("CreateAccessKey for a missing principal: err = %v, want ErrNotFound", err)
	}
	keys, err := root.ListAccessKeys(ctx, "robot")
	if err != nil || len(keys) != 1 || keys[0].GetKeyId() != keyID || keys[0].GetPrincipal() != "robot" || keys[0].GetCreateTime() == nil {
		t.Errorf("ListAccessKeys = %v, %v", keys, err)
	}
	robot := dial(t, srv, client.WithToken(token))
	if err := listErr(robot, t); !errors.Is(err, wormvault.ErrPermissionDenied) {
		t.Errorf("ListVaults with no identity policy: err = %v, want ErrPermissionDenied", err)
	}
	if _, err := robot.CreatePrincipal(ctx, "escalate"); !errors.Is(err, wormvault.ErrPermissionDenied) {
		t.Errorf("CreatePrincipal as robot: err = %v, want ErrPermissionDenied", err)
	}

	// The identity policy allows ListVaults, and only that.
	if doc, err := root.GetPrincipalPolicy(ctx, "robot"); err != nil || doc != "" {
		t.Errorf("GetPrincipalPolicy with none = %q, %v", doc, err)
	}
	if err := root.SetPrincipalPolicy(ctx, "robot", `{"statements":[{"effect":"MAYBE"}]}`); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("SetPrincipalPolicy with a bad document: err = %v, want ErrInvalidArgument", err)
	}
	if err := root.SetPrincipalPolicy(ctx, "robot", listVaultsPolicy("robot")); err != nil {
		t.Fatal(err)
	}
	if doc, err := root.GetPrincipalPolicy(ctx, "robot"); err != nil || doc != listVaultsPolicy("robot") {
		t.Errorf("GetPrincipalPolicy = %q, %v", doc, err)
	}
	if err := listErr(robot, t); err != nil {
		t.Errorf("ListVaults allowed by the identity policy: %v", err)
	}
	if _, err := robot.GetVault(ctx, "shared"); !errors.Is(err, wormvault.ErrPermissionDenied) {
		t.Errorf("GetVault not in the policy: err = %v, want ErrPermissionDenied", err)
	}

	// A deleted key is refused (one failed authentication).
	if err := root.DeleteAccessKey(ctx, keyID); err != nil {
		t.Fatal(err)
	}
	if err := listErr(robot, t); !errors.Is(err, wormvault.ErrUnauthenticated) {
		t.Errorf("ListVaults with a deleted key: err = %v, want ErrUnauthenticated", err)
	}
	if keys, err := root.ListAccessKeys(ctx, "robot"); err != nil || len(keys) != 0 {
		t.Errorf("ListAccessKeys after delete = %v, %v", keys, err)
	}
	if err := root.DeleteAccessKey(ctx, keyID); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("DeleteAccessKey twice: err = %v, want ErrNotFound", err)
	}
	if err := root.SetPrincipalPolicy(ctx, "robot", ""); err != nil {
		t.Errorf("SetPrincipalPolicy empty (remove): %v", err)
	}
	if doc, err := root.GetPrincipalPolicy(ctx, "robot"); err != nil || doc != "" {
		t.Errorf("GetPrincipalPolicy after removal = %q, %v", doc, err)
	}
}

func TestE2ERotateRootKey(t *testing.T) {
	srv := servertest.Start(t)
	old := dial(t, srv)
	ctx := t.Context()
	if _, err := old.CreatePrincipal(ctx, "robot"); err != nil {
		t.Fatal(err)
	}
	_, robotToken, err := old.CreateAccessKey(ctx, "robot")
	if err != nil {
		t.Fatal(err)
	}
	if err := old.SetPrincipalPolicy(ctx, "robot", `{"statements":[{"sid":"all","effect":"ALLOW","principals":["robot"],"actions":["wormvault:*"],"resources":["*"]}]}`); err != nil {
		t.Fatal(err)
	}
	// Only root may rotate root's key, whatever a policy allows.
	robot := dial(t, srv, client.WithToken(robotToken))
	if _, err := robot.RotateRootKey(ctx); !errors.Is(err, wormvault.ErrPermissionDenied) {
		t.Errorf("RotateRootKey as robot: err = %v, want ErrPermissionDenied", err)
	}

	token, err := old.RotateRootKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if token == srv.Token || !strings.Contains(token, ".") {
		t.Fatalf("RotateRootKey = %q", token)
	}
	if err := listErr(old, t); !errors.Is(err, wormvault.ErrUnauthenticated) {
		t.Errorf("old root token after rotation: err = %v, want ErrUnauthenticated", err)
	}
	root := dial(t, srv, client.WithToken(token))
	if _, err := root.CreateVault(ctx, "after-rotation"); err != nil {
		t.Errorf("new root token: %v", err)
	}
	keyID, _, _ := strings.Cut(token, ".")
	keys, err := root.ListAccessKeys(ctx, "root")
	if err != nil || len(keys) != 1 || keys[0].GetKeyId() != keyID {
		t.Errorf("root keys after rotation = %v, %v; want only %s", keys, err, keyID)
	}
	if err := root.DeleteAccessKey(ctx, keyID); !errors.Is(err, wormvault.ErrFailedPrecondition) {
		t.Errorf("deleting root's last key: err = %v, want ErrFailedPrecondition", err)
	}
	if err := listErr(robot, t); err != nil {
		t.Errorf("other principals' keys survive a root rotation: %v", err)
	}
}
