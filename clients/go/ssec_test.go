package client_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// dialDevTLS dials srv, started WithDevTLS, over TLS.
func dialDevTLS(t *testing.T, srv *servertest.Server) *client.Client {
	t.Helper()
	pem, err := os.ReadFile(srv.Config().DevTLSCertFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the dev TLS file")
	}
	return dial(t, srv, client.WithTLS(&tls.Config{RootCAs: pool}))
}

// TestE2ECustomerKey: an SSE-C round trip through the SDK over TLS, a
// ranged read, Stat with and without the key, the wrong key as a
// sentinel, and the SDK's refusal to send a key without TLS.
func TestE2ECustomerKey(t *testing.T) {
	srv := servertest.Start(t, servertest.WithDevTLS())
	ctx := t.Context()
	c := dialDevTLS(t, srv)
	if _, err := c.CreateVault(ctx, "sdk-ssec"); err != nil {
		t.Fatal(err)
	}
	key, other := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{8}, 32)
	data := randomBytes(t, 200<<10)
	a, err := c.Upload(ctx, "sdk-ssec", "k", bytes.NewReader(data), client.WithCustomerKey(key))
	if err != nil || a.GetEncryption().GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER {
		t.Fatalf("upload: %v %v", a, err)
	}
	_, rc, err := c.Download(ctx, "sdk-ssec", "k", client.ReadWithCustomerKey(key))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download: %d bytes, %v", len(got), err)
	}
	_, rc, err = c.Download(ctx, "sdk-ssec", "k", client.ReadWithCustomerKey(key), client.WithRange(65530, 20))
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data[65530:65550]) {
		t.Fatalf("ranged download: %d bytes, %v", len(got), err)
	}
	if st, err := c.StatWithCustomerKey(ctx, "sdk-ssec", "k", "", key); err != nil || st.GetSizeBytes() != int64(len(data)) {
		t.Fatalf("stat with the key: %v %v", st, err)
	}
	if _, err := c.Stat(ctx, "sdk-ssec", "k", ""); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Fatalf("stat without the key: %v", err)
	}
	if _, _, err := c.Download(ctx, "sdk-ssec", "k", client.ReadWithCustomerKey(other)); !errors.Is(err, wormvault.ErrCustomerKeyMismatch) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := c.Upload(ctx, "sdk-ssec", "short", bytes.NewReader(data), client.WithCustomerKey(key[:31])); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Fatalf("short key: %v", err)
	}

	// Without TLS the SDK sends no key: the server never sees the call.
	plain := servertest.Start(t)
	p := dial(t, plain)
	if _, err := p.CreateVault(ctx, "sdk-ssec"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Upload(ctx, "sdk-ssec", "k", bytes.NewReader(data), client.WithCustomerKey(key)); !errors.Is(err, wormvault.ErrTLSRequired) {
		t.Fatalf("upload without TLS: %v", err)
	}
	if _, _, err := p.Download(ctx, "sdk-ssec", "k", client.ReadWithCustomerKey(key)); !errors.Is(err, wormvault.ErrTLSRequired) {
		t.Fatalf("download without TLS: %v", err)
	}
	if _, err := p.StatWithCustomerKey(ctx, "sdk-ssec", "k", "", key); !errors.Is(err, wormvault.ErrTLSRequired) {
		t.Fatalf("stat without TLS: %v", err)
	}
}

// TestE2ERotateMasterKey: root rotates through the SDK and archives read
// on.
func TestE2ERotateMasterKey(t *testing.T) {
	srv := servertest.Start(t)
	ctx := t.Context()
	c := dial(t, srv)
	if _, err := c.CreateVault(ctx, "sdk-rot"); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 300<<10)
	if _, err := c.Upload(ctx, "sdk-rot", "k", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	rep, err := c.RotateMasterKey(ctx)
	if err != nil || rep.GetRewrappedVersions() != 1 || rep.GetOldKeyFile() == "" {
		t.Fatalf("RotateMasterKey: %v %v", rep, err)
	}
	_, rc, err := c.Download(ctx, "sdk-rot", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("download after the rotation: %d bytes, %v", len(got), err)
	}
}
