package server_test

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsNeverStored creates an access key, uses it, fails with a
// wrong secret, and then searches the logs, the error messages and every
// file under the data directory (catalog, journal, shards) for the secret.
func TestSecretsNeverStored(t *testing.T) {
	logs := &syncBuffer{}
	s := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	root := dial(t, s)
	ids := wormvaultv1.NewIdentityServiceClient(root.cc)
	if _, err := ids.CreatePrincipal(root.ctx(), &wormvaultv1.CreatePrincipalRequest{Name: "robot"}); err != nil {
		t.Fatal(err)
	}
	k, err := ids.CreateAccessKey(root.ctx(), &wormvaultv1.CreateAccessKeyRequest{Principal: "robot"})
	if err != nil {
		t.Fatal(err)
	}
	secret := k.GetSecret()
	robot := root.as(k.GetKeyId() + "." + secret)
	_, err = robot.vaults.ListVaults(robot.ctx(), &wormvaultv1.ListVaultsRequest{})
	wantStatus(t, err, codes.PermissionDenied, "")
	var errs []string
	errs = append(errs, err.Error())
	// A wrong secret that differs from the real one in its last byte.
	wrong := root.as(k.GetKeyId() + "." + secret[:len(secret)-1] + "x")
	_, err = wrong.vaults.ListVaults(wrong.ctx(), &wormvaultv1.ListVaultsRequest{})
	wantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
	errs = append(errs, err.Error())
	s.Stop()

	if strings.Contains(logs.String(), secret) || strings.Contains(strings.Join(errs, "\n"), secret) {
		t.Fatal("the secret appears in the logs or an error")
	}
	if !strings.Contains(logs.String(), k.GetKeyId()) {
		t.Fatal("the failed authentication was not logged with its key id")
	}
	filepath.WalkDir(s.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("the secret is stored in clear in %s", p)
		}
		return nil
	})
}

// TestAuthenticationRateLimit: failed authentications are limited per key
// id and per remote address and answered RESOURCE_EXHAUSTED with a retry
// delay; once limited, the address is refused before any credential check.
func TestAuthenticationRateLimit(t *testing.T) {
	s := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
		c.AuthFailureBurst, c.AuthFailureEvery = 3, time.Hour
	}))
	c := dial(t, s)
	keyID, _, _ := strings.Cut(s.Token, ".")
	bad := c.as(keyID + ".not-the-secret")
	for i := 0; i < 3; i++ {
		_, err := bad.vaults.ListVaults(bad.ctx(), &wormvaultv1.ListVaultsRequest{})
		wantStatus(t, err, codes.Unauthenticated, "UNAUTHENTICATED")
	}
	_, err := bad.vaults.ListVaults(bad.ctx(), &wormvaultv1.ListVaultsRequest{})
	wantStatus(t, err, codes.ResourceExhausted, "RESOURCE_EXHAUSTED")
	st, _ := status.FromError(err)
	var retry *errdetails.RetryInfo
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			retry = r
		}
	}
	if retry == nil || retry.GetRetryDelay().AsDuration() <= 0 {
		t.Fatalf("no retry delay in %v", err)
	}
	// The address is limited now: even the right secret waits (the guesser
	// and the owner share 127.0.0.1 here).
	_, err = c.vaults.ListVaults(c.ctx(), &wormvaultv1.ListVaultsRequest{})
	wantStatus(t, err, codes.ResourceExhausted, "RESOURCE_EXHAUSTED")
}
