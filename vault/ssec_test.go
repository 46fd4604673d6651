package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/sse"
)

// overTLS is root on a TLS connection, as SSE-C requires.
var overTLS = Caller{Principal: RootPrincipal, Root: true, SecureTransport: true}

func testCustomerKey(t *testing.T, fill byte) (CustomerKey, []byte) {
	t.Helper()
	raw := bytes.Repeat([]byte{fill}, sse.KeySize)
	raw[0], raw[31] = 0xC5, 0x5C // not a run of one byte, so greps are meaningful
	k, err := NewCustomerKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k, raw
}

func uploadCustomer(t *testing.T, s *Store, k CustomerKey, key string, data []byte) *Archive {
	t.Helper()
	a, err := s.Upload(context.Background(), overTLS, UploadRequest{Vault: "enc", Key: key, Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER, CustomerKey: k}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func readCustomer(s *Store, caller Caller, k CustomerKey, key string, off, length int64) ([]byte, error) {
	_, rc, err := s.DownloadArchive(context.Background(), caller, ReadRequest{Vault: "enc", Key: key, Offset: off, Length: length, CustomerKey: k})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestParseCustomerKey(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	sum := sha256.Sum256(raw)
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct {
		name, key, sum string
		field          string // "" means valid
	}{
		{"none", "", "", ""},
		{"valid", b64(raw), b64(sum[:]), ""},
		{"unpadded", base64.RawStdEncoding.EncodeToString(raw), base64.RawStdEncoding.EncodeToString(sum[:]), ""},
		{"key without digest", b64(raw), "", CustomerKeySHA256Metadata},
		{"digest without key", "", b64(sum[:]), CustomerKeyMetadata},
		{"short key", b64(raw[:16]), b64(sum[:]), CustomerKeyMetadata},
		{"not base64", "%%%", b64(sum[:]), CustomerKeyMetadata},
		{"wrong digest", b64(raw), b64(make([]byte, 32)), CustomerKeySHA256Metadata},
		{"digest not base64", b64(raw), "!", CustomerKeySHA256Metadata},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseCustomerKey(tc.key, tc.sum)
			var ia *wormvault.InvalidArgumentError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("got %v", err)
			case tc.field == "":
				if (tc.key == "") != k.IsZero() {
					t.Fatalf("IsZero %v", k.IsZero())
				}
			case !errors.As(err, &ia) || ia.Field != tc.field:
				t.Fatalf("got %v, want an invalid %s", err, tc.field)
			case strings.Contains(err.Error(), tc.key) && tc.key != "":
				t.Fatalf("the error quotes the key: %v", err)
			}
		})
	}
}

// TestCustomerKeyNeverPrints: fmt and slog show REDACTED; Wipe zeroes
// every copy.
func TestCustomerKeyNeverPrints(t *testing.T) {
	k, raw := testCustomerKey(t, 3)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "key", k, "req", UploadRequest{CustomerKey: k})
	for _, out := range []string{logged.String(), fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(out, hex.EncodeToString(raw)) || strings.Contains(out, string(raw)) || !strings.Contains(out, "REDACTED") {
			t.Fatalf("customer key printed as %q", out)
		}
	}
	cp := k
	k.Wipe()
	if !bytes.Equal(cp.b[:], make([]byte, 32)) {
		t.Fatal("Wipe left a copy's bytes")
	}
}

// TestCustomerEncryption: every size reads back bit-exact with the key,
// whole and in ranges across packages, never inline, also after a
// restart and a rebuild of the catalog from the journal; the wrong key is
// refused before any byte, a missing key and a connection without TLS
// are refused, and the key never reaches the disk.
func TestCustomerEncryption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openEncStore(t, dir, 128<<10)
	defer func() { s.Close() }()
	if _, err := s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	k, raw := testCustomerKey(t, 1)
	other, _ := testCustomerKey(t, 2)
	data := map[string][]byte{}
	for i, size := range encSizes {
		key := fmt.Sprintf("k%d", size)
		data[key] = encData(uint64(40+i), size)
		a := uploadCustomer(t, s, k, key, data[key])
		enc := a.Record.GetEncryption()
		if enc.GetMode() != recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER || a.Record.GetInline() ||
			len(enc.GetCustomerKeySalt()) != 16 || len(enc.GetCustomerKeyHmac()) != 32 || a.Record.GetStoredBytes() != sse.CiphertextSize(int64(size)) {
			t.Fatalf("size %d: record %v", size, a.Record)
		}
	}
	check := func(s *Store) {
		t.Helper()
		for _, size := range encSizes {
			key := fmt.Sprintf("k%d", size)
			want := data[key]
			got, err := readCustomer(s, overTLS, k, key, 0, 0)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("size %d: read %d bytes (%v)", size, len(got), err)
			}
			const P = sse.PackageSize
			for _, r := range [][2]int64{{P - 3, 6}, {P, P}, {P - 1, 2*P + 2}, {int64(size) - 1, 1}} {
				off, n := r[0], r[1]
				if off < 0 || off+n > int64(size) {
					continue
				}
				if got, err := readCustomer(s, overTLS, k, key, off, n); err != nil || !bytes.Equal(got, want[off:off+n]) {
					t.Fatalf("size %d [%d,+%d): %d bytes (%v)", size, off, n, len(got), err)
				}
			}
			if _, err := s.StatArchive(ctx, overTLS, ReadRequest{Vault: "enc", Key: key, CustomerKey: k}); err != nil {
				t.Fatalf("stat with the key: %v", err)
			}
		}
	}
	check(s)

	refusals := []struct {
		name   string
		caller Caller
		key    CustomerKey
		want   error
	}{
		{"wrong key", overTLS, other, wormvault.ErrCustomerKeyMismatch},
		{"no key", overTLS, CustomerKey{}, wormvault.ErrInvalidArgument},
		{"no TLS", root, k, wormvault.ErrTLSRequired},
		{"no TLS, no key", root, CustomerKey{}, wormvault.ErrTLSRequired},
	}
	for _, r := range refusals {
		if got, err := readCustomer(s, r.caller, r.key, "k65536", 0, 0); !errors.Is(err, r.want) || got != nil {
			t.Errorf("download, %s: %d bytes, %v; want %v", r.name, len(got), err, r.want)
		}
		if _, err := s.StatArchive(ctx, r.caller, ReadRequest{Vault: "enc", Key: "k65536", CustomerKey: r.key}); !errors.Is(err, r.want) {
			t.Errorf("stat, %s: %v; want %v", r.name, err, r.want)
		}
	}
	if _, err := s.GetArchive(ctx, overTLS, "enc", "k1", ""); !errors.Is(err, wormvault.ErrInvalidArgument) || !strings.Contains(err.Error(), CustomerKeyMetadata) {
		t.Errorf("GetArchive without the key: %v", err)
	}
	// The range is checked after the key: no size leaks without it.
	if _, err := readCustomer(s, overTLS, other, "k1", 5, 1); !errors.Is(err, wormvault.ErrCustomerKeyMismatch) {
		t.Errorf("out-of-range read with the wrong key: %v", err)
	}
	// Uploads: the key only with mode CUSTOMER, which needs TLS and a key.
	for _, u := range []struct {
		name   string
		caller Caller
		req    UploadRequest
		want   error
	}{
		{"no TLS", root, UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER, CustomerKey: k}, wormvault.ErrTLSRequired},
		{"no TLS, no key", root, UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER}, wormvault.ErrTLSRequired},
		{"no key", overTLS, UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER}, wormvault.ErrInvalidArgument},
		{"key without the mode", overTLS, UploadRequest{CustomerKey: k}, wormvault.ErrInvalidArgument},
		{"key with SERVICE", overTLS, UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE, CustomerKey: k}, wormvault.ErrInvalidArgument},
		{"with a KMS key", overTLS, UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER, KMSKey: "k", CustomerKey: k}, wormvault.ErrInvalidArgument},
	} {
		u.req.Vault, u.req.Key = "enc", "refused"
		if _, err := s.Upload(ctx, u.caller, u.req, strings.NewReader("x")); !errors.Is(err, u.want) {
			t.Errorf("upload, %s: %v; want %v", u.name, err, u.want)
		}
	}
	// A key sent for a version that has none is a mistake.
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "enc", Key: "service"}, strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := readCustomer(s, overTLS, k, "service", 0, 0); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("key for a SERVICE version: %v", err)
	}
	// The scrub checks CUSTOMER shards without the key.
	rep, err := s.Scrub(ctx, 0)
	if err != nil || len(rep.GetUnrecoverable()) > 0 || len(rep.GetFailed()) > 0 {
		t.Fatalf("scrub: %v %v", rep, err)
	}

	s.Close()
	grepDataDir(t, dir, "customer key", raw, []byte(hex.EncodeToString(raw)), []byte(base64.StdEncoding.EncodeToString(raw)), []byte(base64.RawStdEncoding.EncodeToString(raw)), encMarker)
	s = openEncStore(t, dir, 128<<10)
	check(s)
	// A catalog rebuilt from the journal knows the same keys.
	s.Close()
	if _, err := MoveCatalogAside(dir); err != nil {
		t.Fatal(err)
	}
	s = openEncStore(t, dir, 128<<10)
	check(s)
}

// TestCustomerDamagedRecord: a record whose key check passes but whose
// wrapped data key does not unwrap is damage, not a wrong key.
func TestCustomerDamagedRecord(t *testing.T) {
	ctx := context.Background()
	s := openEncStore(t, t.TempDir(), 128<<10)
	defer s.Close()
	s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{})
	k, _ := testCustomerKey(t, 4)
	a := uploadCustomer(t, s, k, "k", encData(9, 1000))
	err := s.catalog.Update(ctx, func(tx *catalog.Txn) error {
		rec, err := tx.Version("enc", "k", a.Record.GetVersionId())
		if err != nil {
			return err
		}
		rec.Encryption.WrappedKey[len(rec.Encryption.WrappedKey)-1] ^= 1
		return tx.PutVersion(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readCustomer(s, overTLS, k, "k", 0, 0); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("damaged wrapped key: %v, want ErrDataLoss", err)
	}
}

// TestForgedObjectTamper, for each encryption mode: shard damage beyond
// parity's reach, two packages swapped in an otherwise consistent object
// (every bitrot hash recomputed, as an attacker with the drives could), a
// stream cut at a package boundary: each is ErrDataLoss, and no byte of a
// forged package comes out.
func TestForgedObjectTamper(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openEncStore(t, dir, 128<<10)
	defer s.Close()
	s.CreateVault(ctx, root, "enc", wormvault.DefaultRetention{})
	if _, err := s.CreateKMSKey(ctx, root, "tamper-key", ""); err != nil {
		t.Fatal(err)
	}
	k, _ := testCustomerKey(t, 5)
	const P, H = sse.PackageSize, sse.HeaderSize
	for _, mode := range []struct {
		name string
		req  UploadRequest
		key  CustomerKey // for reads
	}{
		{"SERVICE", UploadRequest{}, CustomerKey{}},
		{"KMS", UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, KMSKey: "tamper-key"}, CustomerKey{}},
		{"CUSTOMER", UploadRequest{Encryption: recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER, CustomerKey: k}, k},
	} {
		put := func(t *testing.T, key string, data []byte) *recordv1.Version {
			t.Helper()
			req := mode.req
			req.Vault, req.Key = "enc", mode.name+"/"+key
			a, err := s.Upload(ctx, overTLS, req, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			return a.Record
		}
		read := func(key string, off, n int64) ([]byte, error) {
			return readCustomer(s, overTLS, mode.key, mode.name+"/"+key, off, n)
		}
		t.Run(mode.name, func(t *testing.T) {
			rec := put(t, "flipped", encData(11, 1<<20))
			flipShardBytes(t, dir, rec.GetObjectId(), s.cfg.ParityShards+1)
			if got, err := read("flipped", 0, 0); !errors.Is(err, wormvault.ErrDataLoss) {
				t.Fatalf("tampered shards: %d bytes, %v; want ErrDataLoss", len(got), err)
			}
			data := encData(12, 3*P)
			for _, tc := range []struct {
				name  string
				forge func(stored []byte) []byte
			}{
				{"swap packages 0 and 1", func(b []byte) []byte {
					out := bytes.Clone(b)
					p0, p1 := out[H:H+P+sse.TagSize], out[H+P+sse.TagSize:H+2*(P+sse.TagSize)]
					tmp := bytes.Clone(p0)
					copy(p0, p1)
					copy(p1, tmp)
					return out
				}},
				{"drop the last package", func(b []byte) []byte { return b[:H+2*(P+sse.TagSize)] }},
			} {
				key := strings.ReplaceAll(tc.name, " ", "-")
				rec := put(t, key, data)
				rewriteStoredObject(t, s, rec, tc.forge(readStoredObject(t, s, rec)))
				for _, r := range [][2]int64{{0, 0}, {0, P}, {P - 10, 20}, {P, 10}} {
					got, err := read(key, r[0], r[1])
					if !errors.Is(err, wormvault.ErrDataLoss) {
						t.Errorf("%s, range %v: %d bytes, %v; want ErrDataLoss", tc.name, r, len(got), err)
					}
					if !bytes.Equal(got, data[r[0]:r[0]+int64(len(got))]) {
						t.Errorf("%s, range %v: returned bytes that are not the archive's", tc.name, r)
					}
				}
			}
		})
	}
}

// readStoredObject returns the stored (encrypted) bytes of a sharded version.
func readStoredObject(t *testing.T, s *Store, rec *recordv1.Version) []byte {
	t.Helper()
	obj, err := s.set.Open(context.Background(), rec.GetObjectId())
	if err != nil {
		t.Fatal(err)
	}
	rc, err := obj.NewReader(context.Background(), 0, obj.Size())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rewriteStoredObject replaces a version's shards with a consistent
// erasure object holding forged, as an attacker with the drives could:
// every bitrot hash matches, only the encryption can tell.
func rewriteStoredObject(t *testing.T, s *Store, rec *recordv1.Version, forged []byte) {
	t.Helper()
	ctx := context.Background()
	obj, err := s.set.Open(ctx, rec.GetObjectId())
	if err != nil {
		t.Fatal(err)
	}
	meta := obj.Meta()
	if err := s.set.Delete(ctx, rec.GetObjectId()); err != nil {
		t.Fatal(err)
	}
	w, err := s.set.Create(ctx, rec.GetObjectId())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(forged); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, meta); err != nil {
		t.Fatal(err)
	}
}

// grepDataDir fails if any file under dir holds one of the needles.
func grepDataDir(t *testing.T, dir, what string, needles ...[]byte) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, x := range needles {
			if bytes.Contains(b, x) {
				t.Errorf("%s holds the %s (%d bytes)", p, what, len(x))
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d files: %v", n, err)
	}
}
