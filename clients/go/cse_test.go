package client_test

import (
	"bytes"
	"crypto/sha256"
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

	"google.golang.org/protobuf/proto"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
	"github.com/wormvault/wormvault/vault/sse"
)

// Client-side encryption, end to end against the real server.

const pkg = sse.PackageSize

func newClientKey(t *testing.T) *client.ClientKey {
	t.Helper()
	k, err := client.GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// download reads all of vault/key with opts; it returns what was read before
// any error.
func download(t *testing.T, c *client.Client, vault, key string, opts ...client.DownloadOption) (*wormvaultv1.Archive, []byte, error) {
	t.Helper()
	a, rc, err := c.Download(t.Context(), vault, key, opts...)
	if err != nil {
		if rc != nil {
			t.Errorf("Download failed (%v) but returned a reader", err)
		}
		return nil, nil, err
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	return a, got, err
}

func TestE2EClientSideEncryptionRoundTrip(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "cse"); err != nil {
		t.Fatal(err)
	}
	ck := newClientKey(t)
	for _, size := range []int{0, 1, pkg - 1, pkg, pkg + 1, 10 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			plain := randomBytes(t, size)
			sum := sha256.Sum256(plain)
			key := fmt.Sprintf("blob-%d", size)
			// A non-seekable source for the largest size: both reader shapes.
			var src io.Reader = bytes.NewReader(plain)
			if size == 10<<20 {
				src = io.MultiReader(bytes.NewReader(plain[:size/3]), bytes.NewReader(plain[size/3:]))
			}
			a, err := c.Upload(ctx, "cse", key, src, client.WithClientKey(ck),
				client.WithExpectedSHA256(sum[:]), client.WithMetadata(map[string]string{"owner": "finance"}))
			if err != nil {
				t.Fatal(err)
			}
			if want := sse.CiphertextSize(int64(size)); a.GetSizeBytes() != want {
				t.Errorf("stored %d bytes, want the ciphertext size %d", a.GetSizeBytes(), want)
			}
			md := a.GetMetadata()
			if md[client.MetadataCSEAlgorithm] != client.CSEAlgorithm || md[client.MetadataCSEKeyID] != ck.ID() || md[client.MetadataCSEWrappedKey] == "" || md["owner"] != "finance" {
				t.Errorf("metadata = %v", md)
			}
			if !client.IsClientSideEncrypted(a) {
				t.Error("IsClientSideEncrypted = false")
			}
			if n, err := client.PlaintextSize(a); err != nil || n != int64(size) {
				t.Errorf("PlaintextSize = %d, %v; want %d", n, err, size)
			}
			got, gotA, err := readDecrypted(t, c, "cse", key, ck)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("decrypted %d bytes, not the %d uploaded", len(got), size)
			}
			if gotA.GetVersionId() != a.GetVersionId() {
				t.Errorf("downloaded version %s, uploaded %s", gotA.GetVersionId(), a.GetVersionId())
			}
		})
	}
}

func readDecrypted(t *testing.T, c *client.Client, vault, key string, ck *client.ClientKey, opts ...client.DownloadOption) ([]byte, *wormvaultv1.Archive, error) {
	t.Helper()
	a, got, err := download(t, c, vault, key, append(opts, client.DecryptWithClientKey(ck))...)
	return got, a, err
}

func TestE2EClientSideEncryptionRanges(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "cse"); err != nil {
		t.Fatal(err)
	}
	ck := newClientKey(t)
	size := int64(3*pkg + 1000)
	plain := randomBytes(t, int(size))
	a, err := c.Upload(ctx, "cse", "ranged", bytes.NewReader(plain), client.WithClientKey(ck))
	if err != nil {
		t.Fatal(err)
	}
	// A newer version: ranges pinned to the first one must still read it.
	if _, err := c.Upload(ctx, "cse", "ranged", bytes.NewReader(randomBytes(t, 10)), client.WithClientKey(ck)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		off, length int64
	}{
		{"first byte", 0, 1},
		{"first package", 0, pkg},
		{"across the first boundary", pkg - 1, 2},
		{"exactly the second package", pkg, pkg},
		{"across three packages", 100, 2*pkg + 100},
		{"inside the short last package", 3*pkg + 10, 20},
		{"last byte", size - 1, 1},
		{"to the end", pkg + 7, 0},
		{"length past the end is clamped", 2 * pkg, 10 * pkg},
		{"all of it from offset 1", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readDecrypted(t, c, "cse", "ranged", ck, client.WithVersion(a.GetVersionId()), client.WithRange(tt.off, tt.length))
			if err != nil {
				t.Fatal(err)
			}
			end := size
			if tt.length > 0 {
				end = min(tt.off+tt.length, size)
			}
			if !bytes.Equal(got, plain[tt.off:end]) {
				t.Errorf("range [%d, %d): got %d bytes, not the plaintext's", tt.off, end, len(got))
			}
		})
	}
	for _, off := range []int64{size, size + 1, -1} {
		if _, _, err := readDecrypted(t, c, "cse", "ranged", ck, client.WithVersion(a.GetVersionId()), client.WithRange(off, 1)); !errors.Is(err, wormvault.ErrInvalidArgument) {
			t.Errorf("offset %d of %d plaintext bytes: err = %v, want ErrInvalidArgument", off, size, err)
		}
	}

	// The empty archive: its one empty package is still authenticated.
	if _, err := c.Upload(ctx, "cse", "empty", bytes.NewReader(nil), client.WithClientKey(ck)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := readDecrypted(t, c, "cse", "empty", ck, client.WithRange(0, 5)); err != nil || len(got) != 0 {
		t.Errorf("range of the empty archive: %d bytes, %v", len(got), err)
	}
}

func TestE2EClientSideEncryptionServerSeesNoPlaintext(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "secret"); err != nil {
		t.Fatal(err)
	}
	marker := []byte("wormvault-cse-marker-0123456789!")
	if len(marker) != 32 {
		t.Fatalf("marker is %d bytes", len(marker))
	}
	plain := bytes.Repeat(marker, (1<<20)/len(marker))
	plainSum := sha256.Sum256(plain)
	ck := newClientKey(t)
	a, err := c.Upload(ctx, "secret", "doc", bytes.NewReader(plain), client.WithClientKey(ck))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Stat(ctx, "secret", "doc", "")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(st.GetSha256(), plainSum[:]) {
		t.Error("GetArchive's sha256 is the plaintext's")
	}
	// Without the key the server's bytes come back: the ciphertext, which
	// Download has already checked against the recorded sha256.
	_, ct, err := download(t, c, "secret", "doc")
	if err != nil {
		t.Fatal(err)
	}
	if ctSum := sha256.Sum256(ct); !bytes.Equal(st.GetSha256(), ctSum[:]) || int64(len(ct)) != a.GetSizeBytes() {
		t.Errorf("GetArchive's sha256 %x / size %d is not the ciphertext's %x / %d", st.GetSha256(), a.GetSizeBytes(), ctSum, len(ct))
	}
	if bytes.Contains(ct, marker) {
		t.Error("the bytes the server holds contain the plaintext marker")
	}
	// The key's bytes and the plaintext's digest never reach the server
	// either.
	for _, md := range st.GetMetadata() {
		if strings.Contains(md, hex.EncodeToString(plainSum[:])) {
			t.Errorf("metadata holds the plaintext digest: %q", md)
		}
	}

	srv.Stop() // every file closed and flushed before reading them
	files := 0
	err = filepath.WalkDir(srv.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		files++
		found, err := fileContains(path, marker)
		if err != nil {
			return err
		}
		if found {
			t.Errorf("%s holds the plaintext marker", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no files under the data directory")
	}
}

// fileContains scans path for needle in 1 MiB windows that overlap by
// len(needle)-1 bytes, so memory stays small whatever the file size.
func fileContains(path string, needle []byte) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	keep := 0
	for {
		n, err := io.ReadFull(f, buf[keep:])
		if bytes.Contains(buf[:keep+n], needle) {
			return true, nil
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		keep = copy(buf, buf[keep+n-(len(needle)-1):keep+n])
	}
}

func TestE2EClientSideEncryptionKeyChecks(t *testing.T) {
	srv := servertest.Start(t)
	c := dial(t, srv)
	ctx := t.Context()
	if _, err := c.CreateVault(ctx, "cse"); err != nil {
		t.Fatal(err)
	}
	right, wrong := newClientKey(t), newClientKey(t)
	plain := randomBytes(t, 2*pkg+5)
	if _, err := c.Upload(ctx, "cse", "k", bytes.NewReader(plain), client.WithClientKey(right)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(ctx, "cse", "plain", bytes.NewReader(plain)); err != nil {
		t.Fatal(err)
	}

	for _, opts := range [][]client.DownloadOption{nil, {client.WithRange(pkg, 10)}} {
		got, _, err := readDecrypted(t, c, "cse", "k", wrong, opts...)
		if !errors.Is(err, client.ErrClientKeyMismatch) || !errors.Is(err, wormvault.ErrPermissionDenied) || got != nil {
			t.Errorf("wrong key (opts %d): %d bytes, err = %v; want ErrClientKeyMismatch and no bytes", len(opts), len(got), err)
		}
		got, _, err = readDecrypted(t, c, "cse", "plain", right, opts...)
		if !errors.Is(err, client.ErrNotClientSideEncrypted) || got != nil {
			t.Errorf("key for a plain archive (opts %d): %d bytes, err = %v; want ErrNotClientSideEncrypted", len(opts), len(got), err)
		}
	}

	// An expected SHA-256 is checked against the plaintext; a mismatch
	// stores nothing.
	sum := sha256.Sum256(plain)
	if _, err := c.Upload(ctx, "cse", "checked", bytes.NewReader(plain), client.WithClientKey(right), client.WithExpectedSHA256(sum[:])); err != nil {
		t.Errorf("upload with the plaintext's sha256: %v", err)
	}
	bad := sha256.Sum256([]byte("something else"))
	if _, err := c.Upload(ctx, "cse", "refused", bytes.NewReader(plain), client.WithClientKey(right), client.WithExpectedSHA256(bad[:])); !errors.Is(err, wormvault.ErrChecksumMismatch) {
		t.Errorf("upload with a wrong sha256: err = %v, want ErrChecksumMismatch", err)
	}
	if _, err := c.Stat(ctx, "cse", "refused", ""); !errors.Is(err, wormvault.ErrNotFound) {
		t.Errorf("after the refused upload: Stat err = %v, want not found", err)
	}
}

// ciphertextOf uploads plain under ck and returns the archive and the
// ciphertext the server holds (downloaded without the key).
func ciphertextOf(t *testing.T, srv *servertest.Server, ck *client.ClientKey, plain []byte) (*wormvaultv1.Archive, []byte) {
	t.Helper()
	c := dial(t, srv)
	if _, err := c.CreateVault(t.Context(), "tamper"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upload(t.Context(), "tamper", "k", bytes.NewReader(plain), client.WithClientKey(ck)); err != nil {
		t.Fatal(err)
	}
	a, ct, err := download(t, c, "tamper", "k")
	if err != nil {
		t.Fatal(err)
	}
	return a, ct
}

// The server cannot be made to tamper through the API, so tampering is
// tested on ClientKey.Decrypt, the decrypting reader Download uses, fed the
// real ciphertext of a real upload.
func TestClientSideEncryptionTampering(t *testing.T) {
	srv := servertest.Start(t)
	ck := newClientKey(t)
	plain := randomBytes(t, 3*pkg+500)
	a, ct := ciphertextOf(t, srv, ck, plain)

	got, err := io.ReadAll(mustDecrypt(t, ck, a, bytes.NewReader(ct)))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("untouched ciphertext: %d bytes, %v", len(got), err)
	}

	const sealed = pkg + sse.TagSize
	at := func(seq int) int { return sse.HeaderSize + seq*sealed }
	tests := []struct {
		name   string
		mangle func([]byte) []byte
		// size is the ciphertext size the archive claims: the original, or
		// the mangled length when the server would report that.
		claimMangled bool
		// goodPackages is how many leading packages are intact: at most
		// that many packages of plaintext may come out.
		goodPackages int
	}{
		{"flip a byte in package 1", func(b []byte) []byte { b[at(1)+100] ^= 1; return b }, false, 1},
		{"flip a tag byte of the last package", func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }, false, 3},
		{"flip a header byte", func(b []byte) []byte { b[20] ^= 1; return b }, false, 0},
		{"swap packages 0 and 1", func(b []byte) []byte {
			p0 := bytes.Clone(b[at(0):at(1)])
			copy(b[at(0):at(1)], b[at(1):at(2)])
			copy(b[at(1):at(2)], p0)
			return b
		}, false, 0},
		{"drop the last package, size reported", func(b []byte) []byte { return b[:at(3)] }, true, 2},
		{"drop the last package, size unchanged", func(b []byte) []byte { return b[:at(3)] }, false, 3},
		{"cut inside package 2", func(b []byte) []byte { return b[:at(2)+1000] }, false, 2},
		{"append bytes", func(b []byte) []byte { return append(b, 1, 2, 3) }, false, 4},
		{"append bytes, size reported", func(b []byte) []byte { return append(b, make([]byte, sealed)...) }, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.mangle(bytes.Clone(ct))
			claim := proto.Clone(a).(*wormvaultv1.Archive)
			if tt.claimMangled {
				claim.SizeBytes = int64(len(bad))
			}
			var got []byte
			r, err := ck.Decrypt(claim, bytes.NewReader(bad))
			if err == nil {
				got, err = io.ReadAll(r)
			}
			if !errors.Is(err, wormvault.ErrDataLoss) {
				t.Errorf("err = %v, want ErrDataLoss", err)
			}
			if !bytes.HasPrefix(plain, got) {
				t.Errorf("returned %d bytes that are not the plaintext's", len(got))
			}
			if limit := tt.goodPackages * pkg; len(got) > limit {
				t.Errorf("returned %d bytes, more than the %d intact packages hold", len(got), tt.goodPackages)
			}
		})
	}

	// The envelope is bound to its vault and key.
	moved := proto.Clone(a).(*wormvaultv1.Archive)
	moved.Key = "elsewhere"
	if _, err := ck.Decrypt(moved, bytes.NewReader(ct)); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Errorf("envelope under another key name: err = %v, want ErrDataLoss", err)
	}
	// Another archive's ciphertext under this archive's envelope.
	_, other := ciphertextOfAnother(t, srv, ck, plain)
	if r, err := ck.Decrypt(a, bytes.NewReader(other)); err == nil {
		got, err := io.ReadAll(r)
		t.Errorf("another archive's ciphertext decrypted: %d bytes, %v", len(got), err)
	} else if !errors.Is(err, wormvault.ErrDataLoss) {
		t.Errorf("another archive's ciphertext: err = %v, want ErrDataLoss", err)
	}
}

func ciphertextOfAnother(t *testing.T, srv *servertest.Server, ck *client.ClientKey, plain []byte) (*wormvaultv1.Archive, []byte) {
	t.Helper()
	c := dial(t, srv)
	if _, err := c.Upload(t.Context(), "tamper", "other", bytes.NewReader(plain), client.WithClientKey(ck)); err != nil {
		t.Fatal(err)
	}
	a, ct, err := download(t, c, "tamper", "other")
	if err != nil {
		t.Fatal(err)
	}
	return a, ct
}

func mustDecrypt(t *testing.T, ck *client.ClientKey, a *wormvaultv1.Archive, r io.Reader) io.Reader {
	t.Helper()
	d, err := ck.Decrypt(a, r)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestClientKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "client.key")
	k, err := client.CreateClientKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	content, _ := os.ReadFile(path)
	if len(content) != 65 || content[64] != '\n' {
		t.Errorf("key file holds %q, want 64 hex digits and a newline", content)
	}
	if _, err := client.CreateClientKeyFile(path); !errors.Is(err, wormvault.ErrAlreadyExists) {
		t.Errorf("CreateClientKeyFile over an existing key: err = %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
		t.Error("the existing key file changed")
	}
	loaded, err := client.LoadClientKey(path)
	if err != nil || loaded.ID() != k.ID() || len(k.ID()) != 16 {
		t.Fatalf("LoadClientKey: id %q, %v; want %q", loaded.ID(), err, k.ID())
	}

	raw, _ := hex.DecodeString(strings.TrimSpace(string(content)))
	write := func(name string, b []byte, perm os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, perm); err != nil { // umask-proof
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{"raw bytes", write("raw", raw, 0o600), false},
		{"hex with spaces", write("hexsp", []byte("  "+hex.EncodeToString(raw)+"\r\n"), 0o400), false},
		{"group-readable", write("group", content, 0o640), true},
		{"world-writable", write("world", content, 0o602), true},
		{"too short", write("short", raw[:31], 0o600), true},
		{"not hex", write("nothex", bytes.Repeat([]byte("zz"), 32), 0o600), true},
		{"missing", filepath.Join(dir, "nope"), true},
		{"a directory", dir, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.LoadClientKey(tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("LoadClientKey: %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got.ID() != k.ID() {
				t.Errorf("id %s, want %s", got.ID(), k.ID())
			}
			if err != nil && strings.Contains(err.Error(), hex.EncodeToString(raw)) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
	if _, err := client.NewClientKey(raw[:16]); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("NewClientKey of 16 bytes: %v", err)
	}

	// The key never prints.
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("k", "key", k)
	printed := fmt.Sprintf("%v %+v %#v %s %v %#v", k, k, k, k, *k, *k) + logged.String()
	if strings.Contains(printed, hex.EncodeToString(raw)) || strings.Contains(printed, fmt.Sprint(raw)) || !strings.Contains(printed, "REDACTED") {
		t.Errorf("the key prints: %s", printed)
	}
}
