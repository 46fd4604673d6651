package vault

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	sha256 "github.com/minio/sha256-simd"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/internal/atomicfile"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// Secret is an access key secret. It redacts itself in logs and fmt output.
type Secret string

// LogValue keeps secrets out of structured logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String keeps secrets out of fmt output.
func (Secret) String() string { return "REDACTED" }

// Token is "<key-id>.<secret>", the bearer credential.
func Token(keyID string, secret Secret) string { return keyID + "." + string(secret) }

// ParseToken splits a bearer credential.
func ParseToken(tok string) (keyID string, secret Secret, err error) {
	id, sec, ok := strings.Cut(tok, ".")
	if !ok || id == "" || sec == "" {
		return "", "", fmt.Errorf("%w: malformed access key (want <key-id>.<secret>)", wormvault.ErrUnauthenticated)
	}
	return id, Secret(sec), nil
}

func newAccessKey(principal string) (*recordv1.AccessKey, Secret, error) {
	idBytes := make([]byte, 10)
	secBytes := make([]byte, 32)
	if _, err := rand.Read(idBytes); err != nil {
		return nil, "", err
	}
	if _, err := rand.Read(secBytes); err != nil {
		return nil, "", err
	}
	id := "WV" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(idBytes)
	secret := Secret(base64.RawURLEncoding.EncodeToString(secBytes))
	h := sha256.Sum256([]byte(secret))
	return &recordv1.AccessKey{KeyId: id, Principal: principal, SecretSha256: h[:], CreateTime: timestamppb.Now()}, secret, nil
}

// EnsureRootKey creates the root access key on first start and writes it to
// path (mode 0600). It returns the token when it created one, so the caller
// can print it once, and "" when root already has a key.
func (s *Store) EnsureRootKey(ctx context.Context, path string) (string, error) {
	var existing []*recordv1.AccessKey
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		existing, err = tx.AccessKeysOf(RootPrincipal)
		return err
	}); err != nil {
		return "", err
	}
	if len(existing) > 0 {
		return "", nil
	}
	rec, secret, err := newAccessKey(RootPrincipal)
	if err != nil {
		return "", err
	}
	token := Token(rec.GetKeyId(), secret)
	// The file comes first: a key that nobody could ever read back would lock
	// the operator out.
	content := fmt.Sprintf("# wormvault root access key, created %s.\n# Keep it secret: it can do everything the WORM rules allow.\n%s\n",
		time.Now().UTC().Format(time.RFC3339), token)
	if err := writeFileDurable(path, []byte(content), 0o600); err != nil {
		return "", fmt.Errorf("vault: write root credentials: %w", err)
	}
	// The server creates the key, so the event names no principal.
	ev := auditEvent(audit.KindRootKeyCreate, Caller{}, "", "", "", map[string]string{"principal": RootPrincipal, "key_id": rec.GetKeyId()})
	if err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		return s.audited(tx, []*journal.Entry{accessKeyPut(rec.GetCreateTime().AsTime(), rec)}, tx.PutAccessKey(rec), ev)
	}); err != nil {
		return "", err
	}
	return token, nil
}

// Authenticate checks a bearer token and returns the caller it names. The
// secret is compared in constant time against its stored hash.
func (s *Store) Authenticate(ctx context.Context, token string) (Caller, error) {
	keyID, secret, err := ParseToken(token)
	if err != nil {
		return Caller{}, err
	}
	var (
		rec   *recordv1.AccessKey
		found bool
	)
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		rec, found, err = tx.AccessKey(keyID)
		return err
	}); err != nil {
		return Caller{}, err
	}
	got := sha256.Sum256([]byte(secret))
	want := rec.GetSecretSha256()
	if !found {
		// Compare anyway so an unknown key id costs the same time.
		want = make([]byte, sha256.Size)
	}
	if subtle.ConstantTimeCompare(got[:], want) != 1 || !found {
		return Caller{}, fmt.Errorf("%w: unknown access key or wrong secret", wormvault.ErrUnauthenticated)
	}
	var c Caller
	err = s.catalog.View(func(tx *catalog.Txn) (err error) {
		c, err = callerFor(tx, rec.GetPrincipal())
		return err
	})
	return c, err
}

// writeFileDurable writes a file atomically and durably.
func writeFileDurable(path string, data []byte, perm os.FileMode) error {
	return atomicfile.WriteFile(path, data, perm)
}
