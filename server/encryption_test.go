package server_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

// serverMarker is a 32-byte plaintext that must never reach the disk.
var serverMarker = []byte("SERVER-SIDE-PLAINTEXT-MARKER-32B")

func markedBytes(seed uint64, n int) []byte {
	b := randomBytes(seed, n)
	for off := 0; off+len(serverMarker) <= n; off += 8192 {
		copy(b[off:], serverMarker)
	}
	return b
}

// TestEncryptionAtRest: archives of every size (inline and sharded) are
// reported as SERVICE-encrypted, read back bit-exact, whole and in ranges
// across 64 KiB package boundaries, before and after a restart; nothing
// under the data directory holds their plaintext.
func TestEncryptionAtRest(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("enc")
	const K = 64 << 10
	sizes := []int{0, 1, K - 1, K, K + 1, 10 << 20}
	data := map[string][]byte{}
	for i, size := range sizes {
		key := "k" + string(rune('a'+i))
		data[key] = markedBytes(uint64(100+i), size)
		a := c.put("enc", key, data[key])
		if a.GetEncryption().GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE || a.GetSizeBytes() != int64(size) {
			t.Fatalf("size %d: encryption %v size %d", size, a.GetEncryption(), a.GetSizeBytes())
		}
	}
	check := func() {
		t.Helper()
		for key, want := range data {
			if got := c.get("enc", key, ""); !bytes.Equal(got, want) {
				t.Fatalf("%s: downloaded %d bytes that differ from the %d uploaded", key, len(got), len(want))
			}
			for _, r := range [][2]int64{{K - 5, 10}, {K, K}, {2*K - 1, 3*K + 2}, {int64(len(want)) - 1, 1}} {
				off, n := r[0], r[1]
				if off < 0 || off+n > int64(len(want)) {
					continue
				}
				var buf bytes.Buffer
				if _, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "enc", Key: key, Offset: off, Length: n}, &buf); err != nil {
					t.Fatalf("%s [%d,+%d): %v", key, off, n, err)
				}
				if !bytes.Equal(buf.Bytes(), want[off:off+n]) {
					t.Fatalf("%s [%d,+%d): wrong bytes", key, off, n)
				}
			}
		}
		got, err := c.archives.GetArchive(c.ctx(), &wormvaultv1.GetArchiveRequest{Vault: "enc", Key: "ka"})
		if err != nil || got.GetArchive().GetEncryption().GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE {
			t.Fatalf("GetArchive: %v %v", got, err)
		}
	}
	check()
	grep := func() {
		t.Helper()
		n := 0
		filepath.WalkDir(s.DataDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			n++
			if bytes.Contains(b, serverMarker) {
				t.Errorf("%s holds plaintext", p)
			}
			return nil
		})
		if n == 0 {
			t.Fatal("no files under the data dir")
		}
	}
	grep()
	s.Restart()
	c = dial(t, s)
	check()
	s.Stop()
	grep()
}

func TestEncryptionModeHeader(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("enc")
	// NONE needs serve --allow-unencrypted; KMS needs a key (kms_test.go),
	// CUSTOMER a key over TLS.
	for _, m := range []wormvaultv1.EncryptionMode{wormvaultv1.EncryptionMode_ENCRYPTION_MODE_NONE, 42} {
		_, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "enc", Key: "k", Encryption: &wormvaultv1.EncryptionInfo{Mode: m}}, strings.NewReader("data"), 1024)
		wantField(t, err, "header.encryption.mode")
	}
	a, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "enc", Key: "k", Encryption: &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE}}, strings.NewReader("data"), 1024)
	if err != nil || a.GetEncryption().GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE {
		t.Fatalf("SERVICE: %v %v", a, err)
	}
}

// TestEncryptedShardTamper: shard damage beyond parity's reach is DATA_LOSS.
func TestEncryptedShardTamper(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("enc")
	a := c.put("enc", "k", markedBytes(5, 2<<20))
	var files []string
	for _, p := range shardPaths(t, s.DataDir) {
		if strings.Contains(p, a.GetVersionId()) {
			files = append(files, p)
		}
	}
	parity := s.Config().Vault.ParityShards
	if len(files) <= parity {
		t.Fatalf("%d shard files of %s", len(files), a.GetVersionId())
	}
	for _, p := range files[:parity+1] {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(b) / 2; i < len(b)/2+64; i++ {
			b[i] ^= 0x5a
		}
		os.WriteFile(p, b, 0o600)
	}
	_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "enc", Key: "k"}, io.Discard)
	wantStatus(t, err, codes.DataLoss, "")
}

// TestMasterKeyPermissions: a master key others may read stops the server.
func TestMasterKeyPermissions(t *testing.T) {
	s := servertest.Start(t)
	dir := s.DataDir
	s.Stop()
	path := filepath.Join(dir, "master.key")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key: %v %v", fi, err)
	}
	os.Chmod(path, 0o644)
	cfg := s.Config()
	cfg.Listen = "127.0.0.1:0"
	if srv, err := server.New(context.Background(), cfg); err == nil {
		srv.Shutdown()
		t.Fatal("started with a world-readable master key")
	} else if !strings.Contains(err.Error(), "permissions") {
		t.Fatalf("got %v", err)
	}
}
