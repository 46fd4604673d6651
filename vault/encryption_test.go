package vault

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/sse"
)

// encMarker is a 32-byte plaintext that must never appear in a stored file.
var encMarker = []byte("WORMVAULT-PLAINTEXT-MARKER-32B!!")

func encData(seed uint64, size int) []byte {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	// Plant the marker every 4 KiB so any stored plaintext run shows.
	for off := 0; off+len(encMarker) <= size; off += 4096 {
		copy(b[off:], encMarker)
	}
	return b
}

func openEncStore(t *testing.T, dir string, inline int) *Store {
	t.Helper()
	cfg := DefaultConfig(dir)
	cfg.BlockSize = 64 << 10
	cfg.InlineThreshold = inline
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readArchive(t *testing.T, s *Store, vault, key string, off, length int64) ([]byte, error) {
	t.Helper()
	_, rc, err := s.Download(context.Background(), root, vault, key, "", off, length)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

var encSizes = []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 10 << 20}

// TestEncryptedRoundTrip: every size, inline and sharded, reads back
// bit-exact, whole and in ranges across package boundaries, and is stored
// as an sse stream of exactly CiphertextSize bytes, also after a restart.
func TestEncryptedRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, inline := range []int{0, 128 << 10} {
		t.Run(fmt.Sprintf("inline%d", inline), func(t *testing.T) {
			dir := t.TempDir()
			s := openEncStore(t, dir, inline)
			if _, err := s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{}); err != nil {
				t.Fatal(err)
			}
			data := map[string][]byte{}
			check := func(s *Store) {
				for _, size := range encSizes {
					key := fmt.Sprintf("k%d", size)
					want := data[key]
					got, err := readArchive(t, s, "enc", key, 0, 0)
					if err != nil || !bytes.Equal(got, want) {
						t.Fatalf("size %d: read %d bytes (%v)", size, len(got), err)
					}
					const P = sse.PackageSize
					for _, r := range [][2]int64{{0, 1}, {P - 3, 6}, {P, P}, {P - 1, 2*P + 2}, {3*P + 5, 10}, {int64(size) - 1, 1}, {1, int64(size) - 1}} {
						off, n := r[0], r[1]
						if off < 0 || n <= 0 || off+n > int64(size) {
							continue
						}
						got, err := readArchive(t, s, "enc", key, off, n)
						if err != nil || !bytes.Equal(got, want[off:off+n]) {
							t.Fatalf("size %d: range [%d,+%d): got %d bytes (%v)", size, off, n, len(got), err)
						}
					}
				}
			}
			for i, size := range encSizes {
				key := fmt.Sprintf("k%d", size)
				data[key] = encData(uint64(i), size)
				a, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: key}, bytes.NewReader(data[key]))
				if err != nil {
					t.Fatal(err)
				}
				r := a.Record
				if r.GetEncryption().GetMode() != recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE || len(r.GetEncryption().GetWrappedKey()) == 0 {
					t.Fatalf("size %d: encryption %v", size, r.GetEncryption())
				}
				if r.GetSizeBytes() != int64(size) || r.GetStoredBytes() != sse.CiphertextSize(int64(size)) {
					t.Fatalf("size %d: size_bytes %d stored_bytes %d", size, r.GetSizeBytes(), r.GetStoredBytes())
				}
				if wantInline := inline > 0 && size <= inline; r.GetInline() != wantInline {
					t.Fatalf("size %d: inline %v, want %v", size, r.GetInline(), wantInline)
				}
			}
			check(s)
			rep, err := s.Scrub(ctx, 0)
			if err != nil || len(rep.GetUnrecoverable()) > 0 || len(rep.GetFailed()) > 0 {
				t.Fatalf("scrub: %v %v", rep, err)
			}
			s.Close()
			s = openEncStore(t, dir, inline)
			defer s.Close()
			check(s)
		})
	}
}

// TestNoPlaintextAtRest: no file under the data directory (shards, journal,
// Badger) holds the plaintext marker, for inline and sharded archives.
func TestNoPlaintextAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openEncStore(t, dir, 128<<10)
	s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{})
	for i, size := range []int{32, 100, 4 << 10, 100 << 10, 300 << 10, 3 << 20} {
		a, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: fmt.Sprintf("k%d", i)}, bytes.NewReader(encData(uint64(i), size)))
		if err != nil {
			t.Fatal(err)
		}
		if size == 100 && !a.Record.GetInline() || size == 3<<20 && a.Record.GetInline() {
			t.Fatalf("size %d: inline %v", size, a.Record.GetInline())
		}
	}
	// Archive keys are plaintext in the journal and shard metadata, but
	// Badger encrypts everything it stores under meta/.
	keyMarker := "BADGER-MUST-ENCRYPT-THIS-KEY-NAME"
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: keyMarker}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	// Check before and after close (which flushes Badger's tables).
	grepDir := func() {
		t.Helper()
		files := 0
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files++
			if bytes.Contains(b, encMarker) {
				t.Errorf("%s holds plaintext", p)
			}
			if strings.HasPrefix(p, filepath.Join(dir, "meta")) && bytes.Contains(b, []byte(keyMarker)) {
				t.Errorf("%s holds an archive key in plaintext", p)
			}
			return nil
		})
		if files < 10 {
			t.Fatalf("only %d files under the data dir", files)
		}
	}
	grepDir()
	s.Close()
	grepDir()
	// Sanity: the marker is found where it is planted.
	if !bytes.Contains(encData(0, 32), encMarker) {
		t.Fatal("marker not planted")
	}
}

// flipShardBytes corrupts n shard files of object id in the middle.
func flipShardBytes(t *testing.T, dir, id string, n int) {
	t.Helper()
	var files []string
	filepath.WalkDir(filepath.Join(dir, "drives"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, id) && !strings.Contains(p, string(filepath.Separator)+"journal") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < n {
		t.Fatalf("found %d shard files of %s, want %d", len(files), id, n)
	}
	for _, p := range files[:n] {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(b) / 2; i < len(b)/2+64; i++ {
			b[i] ^= 0xA5
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEncryptedTamper: damage beyond parity's reach in shards, and any
// flipped byte of an inline blob, end the read with ErrDataLoss.
func TestEncryptedTamper(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openEncStore(t, dir, 128<<10)
	defer s.Close()
	s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{})
	big, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: "big"}, bytes.NewReader(encData(1, 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	small, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: "small"}, bytes.NewReader(encData(2, 1000)))
	if err != nil {
		t.Fatal(err)
	}
	flipShardBytes(t, dir, big.Record.GetObjectId(), s.cfg.ParityShards+1)
	if _, err := readArchive(t, s, "enc", "big", 0, 0); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("tampered shards: %v, want ErrDataLoss", err)
	}
	// The inline blob is authenticated by sse alone.
	vid := small.Record.GetVersionId()
	err = s.catalog.Update(ctx, func(tx *catalog.Txn) error {
		b, err := tx.Blob(vid)
		if err != nil {
			return err
		}
		b = bytes.Clone(b)
		b[len(b)/2] ^= 1
		return tx.PutBlob(&recordv1.Blob{VersionId: vid, Data: b})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{0, 0}, {500, 10}} {
		if _, err := readArchive(t, s, "enc", "small", r[0], r[1]); !errors.Is(err, wormvault.ErrDataLoss) {
			t.Fatalf("tampered blob, range %v: %v, want ErrDataLoss", r, err)
		}
	}
}

func TestEncryptionModeRequest(t *testing.T) {
	ctx := context.Background()
	s := openEncStore(t, t.TempDir(), 128<<10)
	defer s.Close()
	s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{})
	// NONE is refused unless the server allows it; KMS needs a key
	// (kms_test.go), CUSTOMER a key over TLS (ssec_test.go).
	for _, m := range []recordv1.EncryptionMode{recordv1.EncryptionMode_ENCRYPTION_MODE_NONE, 99} {
		_, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: "k", Encryption: m}, strings.NewReader("x"))
		if !errors.Is(err, wormvault.ErrInvalidArgument) || !strings.Contains(err.Error(), "header.encryption.mode") {
			t.Fatalf("mode %v: %v", m, err)
		}
	}
	a, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: "k", Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE}, strings.NewReader("x"))
	if err != nil || a.Record.GetEncryption().GetMode() != recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE {
		t.Fatalf("SERVICE: %v %v", a, err)
	}
}

func TestMasterKeyFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openEncStore(t, dir, 0)
	s.Close()
	path := filepath.Join(dir, MasterKeyFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if len(b) != 65 || b[64] != '\n' {
		t.Fatalf("master.key holds %d bytes, want 64 hex digits and a newline", len(b))
	}
	if _, err := hex.DecodeString(string(b[:64])); err != nil {
		t.Fatal(err)
	}
	k, err := LoadMasterKey(path)
	if err != nil {
		t.Fatal(err)
	}
	// The key never prints.
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "key", k)
	for _, out := range []string{logged.String(), fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(out, string(b[:64])) || !strings.Contains(out, "REDACTED") {
			t.Fatalf("master key printed as %q", out)
		}
	}

	open := func() error {
		s, err := Open(ctx, DefaultConfig(dir))
		if err == nil {
			s.Close()
		}
		return err
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := open(); err == nil || !strings.Contains(err.Error(), "permissions") {
		t.Fatalf("group-readable master.key: %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, b[:40], 0o600)
	if err := open(); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("short master.key: %v", err)
	}
	// Raw 32 bytes are accepted, but another key does not open the catalog.
	raw := bytes.Repeat([]byte{9}, 32)
	os.WriteFile(path, raw, 0o600)
	if err := open(); !errors.Is(err, catalog.ErrEncryptionKey) {
		t.Fatalf("other master key: %v, want catalog.ErrEncryptionKey", err)
	}
	// The original key, in raw form, does.
	orig, _ := hex.DecodeString(string(b[:64]))
	os.WriteFile(path, orig, 0o600)
	if err := open(); err != nil {
		t.Fatal(err)
	}

	// MasterKeyFile elsewhere: created there, not in the data dir.
	dir2 := t.TempDir()
	cfg := DefaultConfig(dir2)
	cfg.MasterKeyFile = filepath.Join(t.TempDir(), "keys", "wv.key")
	s2, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := os.Stat(cfg.MasterKeyFile); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir2, MasterKeyFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("master.key created in the data dir too: %v", err)
	}
}

// TestUnencryptedCatalogRefused: a meta/ written without Badger encryption
// does not open, with an error that says why.
func TestUnencryptedCatalogRefused(t *testing.T) {
	dir := t.TempDir()
	c, err := catalog.Open(catalog.Options{Dir: filepath.Join(dir, "meta")})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Without a master key, Open refuses to make one over existing data.
	if _, err := Open(context.Background(), DefaultConfig(dir)); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("missing master key over meta/: %v", err)
	}
	if _, err := LoadMasterKey(filepath.Join(dir, MasterKeyFileName)); err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), DefaultConfig(dir))
	if !errors.Is(err, catalog.ErrEncryptionKey) || !strings.Contains(err.Error(), "without encryption") {
		t.Fatalf("unencrypted meta/: %v", err)
	}
}
