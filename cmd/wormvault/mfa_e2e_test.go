package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"google.golang.org/protobuf/encoding/protojson"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// registerMFA registers and confirms device with the CLI and returns its
// code for the TOTP step n steps after the one the confirmation spent (the
// server accepts each step once, one step either side of the current one).
func registerMFA(t *testing.T, srv *servertest.Server, device string) func(n int) string {
	t.Helper()
	var reg wormvaultv1.RegisterMFADeviceResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "mfa", "register", device, "--json")), &reg); err != nil || reg.GetSecret() == "" {
		t.Fatalf("mfa register --json: %v, %v", &reg, err)
	}
	base := time.Now()
	code := func(n int) string {
		s, err := totp.GenerateCode(reg.GetSecret(), base.Add(time.Duration(n)*30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if out := ok(t, srv, nil, "mfa", "confirm", device, code(0)); !strings.Contains(out, "confirmed MFA device "+device) {
		t.Errorf("mfa confirm:\n%s", out)
	}
	return code
}

func TestE2ECLIMFA(t *testing.T) {
	srv := servertest.Start(t)
	out := ok(t, srv, nil, "mfa", "register", "spare")
	if !strings.Contains(out, "otpauth url:") || !strings.Contains(out, "otpauth://totp/") || !strings.Contains(out, "secret:") || !strings.Contains(out, "only this once") {
		t.Errorf("mfa register:\n%s", out)
	}
	// Registering again before confirmation replaces the secret.
	var spare wormvaultv1.RegisterMFADeviceResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "mfa", "register", "spare", "--json")), &spare); err != nil {
		t.Fatal(err)
	}
	stale, _ := totp.GenerateCode(spare.GetSecret(), time.Now().Add(-time.Hour))
	refused(t, srv, "MFA_INVALID", "mfa", "confirm", "spare", stale)
	phone := registerMFA(t, srv, "phone")
	key := registerMFA(t, srv, "key")
	refused(t, srv, "FAILED_PRECONDITION", "mfa", "confirm", "phone", phone(1))

	// MFA delete: turning it on needs --mfa.
	ok(t, srv, nil, "vault", "create", "sealed")
	refused(t, srv, "MFA_REQUIRED", "vault", "update", "sealed", "--mfa-delete")
	if out := ok(t, srv, nil, "vault", "update", "sealed", "--mfa-delete", "--mfa", "phone "+phone(1)); !regexp.MustCompile(`mfa delete: +yes`).MatchString(out) {
		t.Errorf("vault update --mfa-delete:\n%s", out)
	}
	refused(t, srv, "MFA_INVALID", "vault", "get", "sealed", "--mfa", "phone "+phone(1)) // each code works once

	// A permanent delete needs MFA too, here from $WORMVAULT_MFA.
	var a wormvaultv1.Archive
	if err := protojson.Unmarshal([]byte(ok(t, srv, []byte("x"), "put", "sealed", "k", "-", "--json")), &a); err != nil {
		t.Fatal(err)
	}
	refused(t, srv, "MFA_REQUIRED", "rm", "sealed", "k", "--version", a.GetVersionId())
	t.Setenv(envMFA, "key "+key(1))
	ok(t, srv, nil, "rm", "sealed", "k", "--version", a.GetVersionId())
	t.Setenv(envMFA, "")
	refused(t, srv, "VERSION_NOT_FOUND", "stat", "sealed", "k", "--version", a.GetVersionId())

	for _, args := range [][]string{
		{"mfa", "register"}, {"mfa", "confirm", "phone"}, {"mfa", "confirm", "phone", "12ab56"}, {"mfa", "nope"},
		{"vault", "ls", "--mfa", "phone"}, {"vault", "ls", "--mfa", "phone 123456 extra"},
	} {
		if r := cli(t, srv, nil, args...); r.code != 2 {
			t.Errorf("wormvault %v: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
		}
	}
}
