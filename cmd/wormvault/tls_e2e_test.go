package main

import (
	"strings"
	"testing"

	"github.com/wormvault/wormvault/server/servertest"
)

// The CLI dials a --dev-tls server trusting its certificate with --tls-ca,
// and fails to dial it in plaintext or without trusting it.
func TestE2ECLIDevTLS(t *testing.T) {
	srv := servertest.Start(t, servertest.WithDevTLS())
	ca := srv.Config().DevTLSCertFile()
	ok(t, srv, nil, "--tls-ca", ca, "vault", "create", "tls")
	if out := ok(t, srv, nil, "--tls-ca", ca, "vault", "ls"); !strings.Contains(out, "tls") {
		t.Errorf("vault ls over TLS:\n%s", out)
	}
	if r := cli(t, srv, nil, "vault", "ls"); r.code == 0 {
		t.Errorf("plaintext CLI against a TLS server: exit 0\n%s", r.stdout)
	}
	other := servertest.Start(t, servertest.WithDevTLS())
	if r := cli(t, srv, nil, "--tls-ca", other.Config().DevTLSCertFile(), "vault", "ls"); r.code == 0 {
		t.Errorf("CLI trusting another dev certificate: exit 0\n%s", r.stdout)
	}
}
