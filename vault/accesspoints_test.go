package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// allowPolicy allows principal the actions on every resource.
func allowPolicy(principal string, actions ...string) string {
	return `{"statements":[{"sid":"allow","effect":"ALLOW","principals":["` + principal + `"],"actions":["` +
		strings.Join(actions, `","`) + `"],"resources":["*"]}]}`
}

// denyPolicy denies everyone the actions on every resource, when cond
// holds ("" for always).
func denyPolicy(sid, cond string, actions ...string) string {
	c := ""
	if cond != "" {
		c = `,"condition":` + quote(cond)
	}
	return `{"statements":[{"sid":"` + sid + `","effect":"DENY","principals":["*"],"actions":["` +
		strings.Join(actions, `","`) + `"],"resources":["*"]` + c + `}]}`
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// TestAccessPointAuthorizationRule is the rule of authorize (policy.go)
// as a table: deny anywhere wins; through an access point a non-root
// caller needs the access point's ALLOW and the vault side's ALLOW; root
// needs no ALLOW but is bound by every DENY.
func TestAccessPointAuthorizationRule(t *testing.T) {
	const up = "wormvault:UploadArchive"
	var (
		uploaderID  = allowPolicy("uploader", up)
		apAllows    = allowPolicy("uploader", up)
		apDenies    = denyPolicy("ap-no", "", up)
		viaAPOnly   = `{"statements":[{"sid":"via-ap","effect":"ALLOW","principals":["uploader"],"actions":["` + up + `"],"resources":["*"],"condition":"request.access_point == \"payroll\""}]}`
		requireAP   = denyPolicy("require-ap", `request.access_point == ""`, "wormvault:*")
		lockDenies  = denyPolicy("locked-no", "", up)
		otherAllows = allowPolicy("someone-else", up)
	)
	uploader := func(identity string) Caller {
		return Caller{Principal: "uploader", identityPolicy: identity}
	}
	rootCaller := Caller{Principal: RootPrincipal, Root: true}
	tests := []struct {
		name       string
		caller     Caller
		ap         string // access point policy; "-" for a direct request
		access     string // vault access policy
		lock       string // LOCKED vault lock policy
		action     string // "" for UploadArchive
		want       error  // nil: allowed
		wantSIDNon string // the sid the denial names, when a policy denies
	}{
		{name: "direct, identity allows", caller: uploader(uploaderID), ap: "-"},
		{name: "direct, nothing allows", caller: uploader(""), ap: "-", want: wormvault.ErrPermissionDenied},
		{name: "direct, vault allows only via the access point", caller: uploader(""), ap: "-", access: viaAPOnly, want: wormvault.ErrPermissionDenied},
		{name: "ap allows, vault allows via the access point", caller: uploader(""), ap: apAllows, access: viaAPOnly},
		{name: "ap allows, identity allows", caller: uploader(uploaderID), ap: apAllows},
		{name: "ap allows, vault side silent", caller: uploader(""), ap: apAllows, want: wormvault.ErrPermissionDenied},
		{name: "ap silent, identity allows", caller: uploader(uploaderID), ap: otherAllows, want: wormvault.ErrPermissionDenied},
		{name: "ap empty, identity allows", caller: uploader(uploaderID), ap: "", want: wormvault.ErrPermissionDenied},
		{name: "ap denies, identity allows", caller: uploader(uploaderID), ap: apDenies, want: wormvault.ErrPolicyDenied, wantSIDNon: "ap-no"},
		{name: "vault denies, ap allows", caller: uploader(uploaderID), ap: apAllows, access: denyPolicy("vault-no", "", up), want: wormvault.ErrPolicyDenied, wantSIDNon: "vault-no"},
		{name: "lock denies, ap allows", caller: uploader(uploaderID), ap: apAllows, lock: lockDenies, want: wormvault.ErrPolicyDenied, wantSIDNon: "locked-no"},
		{name: "root direct", caller: rootCaller, ap: "-"},
		{name: "root through an empty ap", caller: rootCaller, ap: ""},
		{name: "root, ap denies", caller: rootCaller, ap: apDenies, want: wormvault.ErrPolicyDenied, wantSIDNon: "ap-no"},
		{name: "root, lock denies through the ap", caller: rootCaller, ap: "", lock: lockDenies, want: wormvault.ErrPolicyDenied, wantSIDNon: "locked-no"},
		{name: "root direct, vault requires access points", caller: rootCaller, ap: "-", access: requireAP, want: wormvault.ErrPolicyDenied, wantSIDNon: "require-ap"},
		{name: "root through the ap, vault requires access points", caller: rootCaller, ap: "", access: requireAP},
		{name: "uploader through the ap, vault requires access points", caller: uploader(uploaderID), ap: apAllows, access: requireAP},
		{name: "root manages access points whatever the access policy says", caller: rootCaller, ap: "-", access: requireAP, action: "CreateAccessPoint"},
		{name: "a lock binds root's access point management", caller: rootCaller, ap: "-", lock: denyPolicy("locked-no", "", "wormvault:CreateAccessPoint"), action: "CreateAccessPoint", want: wormvault.ErrPolicyDenied, wantSIDNon: "locked-no"},
		{name: "others' access point management obeys the access policy", caller: Caller{Principal: "ops", identityPolicy: allowPolicy("ops", "wormvault:CreateAccessPoint")}, ap: "-", access: requireAP, action: "CreateAccessPoint", want: wormvault.ErrPolicyDenied, wantSIDNon: "require-ap"},
	}
	s := &Store{}
	now := time.Now()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vrec := &recordv1.Vault{Name: "ledger", AccessPolicy: tt.access}
			if tt.lock != "" {
				vrec.VaultLock = &recordv1.VaultLock{State: recordv1.VaultLockState_VAULT_LOCK_STATE_LOCKED, Policy: tt.lock}
			}
			c := tt.caller
			if tt.ap != "-" {
				c.AccessPoint, c.accessPointPolicy = "payroll", tt.ap
			}
			a := access{action: "UploadArchive", vault: vrec, key: "k"}
			if tt.action != "" {
				a = access{action: tt.action, vault: vrec}
			}
			sid, err := s.authorize(c, a, now)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("denied: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %v, want %v", err, tt.want)
			case tt.want != nil && !errors.Is(tt.want, wormvault.ErrPolicyDenied) && errors.Is(err, wormvault.ErrPolicyDenied):
				t.Fatalf("got a policy denial %v, want no policy allowing it", err)
			case sid != tt.wantSIDNon:
				t.Fatalf("denial names sid %q, want %q (%v)", sid, tt.wantSIDNon, err)
			}
		})
	}
}

func TestParseAllowedCIDRs(t *testing.T) {
	tests := []struct {
		in   []string
		want []string // nil: invalid
	}{
		{[]string{"127.0.0.0/8"}, []string{"127.0.0.0/8"}},
		{[]string{"127.0.0.1/8", "127.0.0.0/8", " 10.1.2.3/32 "}, []string{"127.0.0.0/8", "10.1.2.3/32"}},
		{[]string{"2001:db8::1/32", "::/0", "0.0.0.0/0"}, []string{"2001:db8::/32", "::/0", "0.0.0.0/0"}},
		{nil, nil},
		{[]string{}, nil},
		{[]string{"127.0.0.1"}, nil},
		{[]string{"10.0.0.0/33"}, nil},
		{[]string{"localhost/8"}, nil},
		{[]string{"fe80::1%eth0/64"}, nil},
		{[]string{"127.0.0.0/8", ""}, nil},
		{slices.Repeat([]string{"10.0.0.0/8"}, MaxAllowedCIDRs+1), nil},
	}
	for _, tt := range tests {
		got, err := parseAllowedCIDRs("network_origin.allowed_cidrs", tt.in)
		if tt.want == nil {
			var ia *wormvault.InvalidArgumentError
			if !errors.As(err, &ia) || ia.Field != "network_origin.allowed_cidrs" {
				t.Errorf("%q: got %v, %v; want an invalid network_origin.allowed_cidrs", tt.in, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestInNetworkOrigin(t *testing.T) {
	ap := &recordv1.AccessPoint{AllowedCidrs: []string{"127.0.0.0/8", "2001:db8::/32"}}
	for ip, want := range map[string]bool{
		"127.0.0.1":        true,
		"127.255.0.9":      true,
		"::ffff:127.0.0.1": true,
		"2001:db8::7":      true,
		"10.0.0.1":         false,
		"::1":              false,
		"":                 false,
		"not-an-ip":        false,
	} {
		if got := inNetworkOrigin(ap, ip); got != want {
			t.Errorf("inNetworkOrigin(%q) = %v, want %v", ip, got, want)
		}
	}
}

// An archive request through an access point acts on its vault, from
// inside its network origin only; deleting the vault waits for its access
// points; the access points come back with a rebuilt catalog.
func TestAccessPointResolveAndRebuild(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	if _, err := s.CreateVault(ctx, root, "payroll-vault", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccessPoint(ctx, root, NewAccessPoint{Name: "payroll", Vault: "payroll-vault", AllowedCIDRs: []string{"127.0.0.0/8"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccessPoint(ctx, root, NewAccessPoint{Name: "payroll", Vault: "payroll-vault", AllowedCIDRs: []string{"127.0.0.0/8"}}); !errors.Is(err, wormvault.ErrAccessPointExists) {
		t.Fatalf("second access point of the same name: %v", err)
	}
	local := root
	local.SourceIP = "127.0.0.1"
	a, err := s.Upload(ctx, local, UploadRequest{Vault: "ap/payroll", Key: "march.csv"}, strings.NewReader("salaries"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Record.GetVault() != "payroll-vault" {
		t.Fatalf("an upload through the access point is recorded in %q", a.Record.GetVault())
	}
	if _, err := s.GetArchive(ctx, local, "payroll-vault", "march.csv", ""); err != nil {
		t.Fatalf("directly: %v", err)
	}
	remote := root
	remote.SourceIP = "192.0.2.7"
	if _, err := s.GetArchive(ctx, remote, "ap/payroll", "march.csv", ""); !errors.Is(err, wormvault.ErrNetworkOrigin) {
		t.Fatalf("from outside the network origin: %v", err)
	}
	if _, err := s.GetArchive(ctx, local, "ap/nope", "march.csv", ""); !errors.Is(err, wormvault.ErrAccessPointNotFound) {
		t.Fatalf("an unknown access point: %v", err)
	}
	var ia *wormvault.InvalidArgumentError
	if _, err := s.GetArchive(ctx, local, "ap/No", "march.csv", ""); !errors.As(err, &ia) || ia.Field != "vault" {
		t.Fatalf("an invalid access point name: %v", err)
	}

	if _, err := s.CreateVault(ctx, root, "empty", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"door-b", "door-a"} {
		if _, err := s.CreateAccessPoint(ctx, root, NewAccessPoint{Name: name, Vault: "empty", AllowedCIDRs: []string{"10.0.0.0/8"}}); err != nil {
			t.Fatal(err)
		}
	}
	err = s.DeleteVault(ctx, root, "empty")
	if !errors.Is(err, wormvault.ErrVaultHasAccessPoints) || !strings.Contains(err.Error(), "ap/door-a, ap/door-b") {
		t.Fatalf("deleting a vault with access points: %v", err)
	}
	if err := s.DeleteAccessPoint(ctx, root, "door-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateAccessPointPolicy(ctx, root, "payroll", allowPolicy("uploader", "wormvault:UploadArchive")); err != nil {
		t.Fatal(err)
	}

	// Lose meta/: the access points come back from the journal.
	before := listAccessPoints(t, s)
	s.Close()
	if err := os.RemoveAll(filepath.Join(dir, "meta")); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	if after := listAccessPoints(t, s); after != before {
		t.Fatalf("access points after the rebuild:\n%s\nbefore:\n%s", after, before)
	}
	if _, err := s.GetArchive(ctx, local, "ap/payroll", "march.csv", ""); err != nil {
		t.Fatalf("through the rebuilt access point: %v", err)
	}
}

func listAccessPoints(t *testing.T, s *Store) string {
	t.Helper()
	aps, more, err := s.ListAccessPoints(context.Background(), root, "", "", 100)
	if err != nil || more {
		t.Fatal(err, more)
	}
	var b strings.Builder
	for _, ap := range aps {
		b.WriteString(ap.Name + " " + ap.Vault + " " + ap.Policy + " " + ap.CreateTime.String())
		for _, p := range ap.AllowedCIDRs {
			b.WriteString(" " + p.String())
		}
		b.WriteString("\n")
	}
	return b.String()
}
