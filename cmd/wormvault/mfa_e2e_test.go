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

// mfaCode returns a code of secret at clk's time.
func mfaCode(t *testing.T, clk *servertest.Clock, secret string) string {
	t.Helper()
	s, err := totp.GenerateCode(secret, clk.Wall())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// registerMFA registers and confirms device with the CLI and returns its
// secret. Once a device is confirmed, both steps take a --mfa of it: by is
// "NAME SECRET" of such a device, or "" for none.
func registerMFA(t *testing.T, srv *servertest.Server, clk *servertest.Clock, device, by string) string {
	t.Helper()
	mfa := func() []string {
		if by == "" {
			return nil
		}
		name, secret, _ := strings.Cut(by, " ")
		clk.Advance(30 * time.Second)
		return []string{"--mfa", name + " " + mfaCode(t, clk, secret)}
	}
	var reg wormvaultv1.RegisterMFADeviceResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, append([]string{"mfa", "register", device, "--json"}, mfa()...)...)), &reg); err != nil || reg.GetSecret() == "" {
		t.Fatalf("mfa register --json: %v, %v", &reg, err)
	}
	extra := mfa()
	if out := ok(t, srv, nil, append([]string{"mfa", "confirm", device, mfaCode(t, clk, reg.GetSecret())}, extra...)...); !strings.Contains(out, "confirmed MFA device "+device) {
		t.Errorf("mfa confirm:\n%s", out)
	}
	return reg.GetSecret()
}

func TestE2ECLIMFA(t *testing.T) {
	clk := servertest.NewClock(time.Now())
	srv := servertest.Start(t, servertest.WithClock(clk))
	out := ok(t, srv, nil, "mfa", "register", "spare")
	if !strings.Contains(out, "otpauth url:") || !strings.Contains(out, "otpauth://totp/") || !strings.Contains(out, "secret:") || !strings.Contains(out, "only this once") {
		t.Errorf("mfa register:\n%s", out)
	}
	// Registering again before confirmation replaces the secret.
	var spare wormvaultv1.RegisterMFADeviceResponse
	if err := protojson.Unmarshal([]byte(ok(t, srv, nil, "mfa", "register", "spare", "--json")), &spare); err != nil {
		t.Fatal(err)
	}
	stale, _ := totp.GenerateCode(spare.GetSecret(), clk.Wall().Add(-time.Hour))
	refused(t, srv, "MFA_INVALID", "mfa", "confirm", "spare", stale)
	phone := registerMFA(t, srv, clk, "phone", "")
	refused(t, srv, "FAILED_PRECONDITION", "mfa", "confirm", "phone", mfaCode(t, clk, phone))
	// With a device confirmed, enrolling another takes a code from it: a
	// stolen root key alone cannot add a device of its own.
	clk.Advance(30 * time.Second)
	refused(t, srv, "MFA_REQUIRED", "mfa", "register", "key")
	refused(t, srv, "MFA_REQUIRED", "mfa", "confirm", "spare", mfaCode(t, clk, spare.GetSecret()))
	key := registerMFA(t, srv, clk, "key", "phone "+phone)
	clk.Advance(30 * time.Second)

	// MFA delete: turning it on needs --mfa.
	ok(t, srv, nil, "vault", "create", "sealed")
	refused(t, srv, "MFA_REQUIRED", "vault", "update", "sealed", "--mfa-delete")
	code := mfaCode(t, clk, phone)
	if out := ok(t, srv, nil, "vault", "update", "sealed", "--mfa-delete", "--mfa", "phone "+code); !regexp.MustCompile(`mfa delete: +yes`).MatchString(out) {
		t.Errorf("vault update --mfa-delete:\n%s", out)
	}
	refused(t, srv, "MFA_INVALID", "vault", "get", "sealed", "--mfa", "phone "+code) // each code works once

	// A permanent delete needs MFA too, here from $WORMVAULT_MFA.
	var a wormvaultv1.Archive
	if err := protojson.Unmarshal([]byte(ok(t, srv, []byte("x"), "put", "sealed", "k", "-", "--json")), &a); err != nil {
		t.Fatal(err)
	}
	refused(t, srv, "MFA_REQUIRED", "rm", "sealed", "k", "--version", a.GetVersionId())
	t.Setenv(envMFA, "key "+mfaCode(t, clk, key))
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
