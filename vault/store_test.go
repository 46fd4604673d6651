package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/vault/catalog"
)

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	cfg := DefaultConfig(dir)
	cfg.BlockSize = 64 << 10
	// These tests are about shard files: store even tiny archives as shards.
	cfg.InlineThreshold = 0
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var root = Caller{Principal: RootPrincipal, Root: true}

func objects(t *testing.T, s *Store) []string {
	t.Helper()
	var ids []string
	if err := s.set.Walk(context.Background(), func(id string, _ time.Time) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}

// writeOrphan writes durable shards that no catalog record owns: what a
// crash between the shard commit and the catalog commit leaves.
func writeOrphan(t *testing.T, s *Store) string {
	t.Helper()
	id, _ := wormvault.NewVersionID()
	w, err := s.set.Create(context.Background(), string(id))
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("never committed to the catalog"))
	if _, err := w.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return string(id)
}

func TestStartupSweepRemovesOrphans(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	if _, err := s.CreateVault(ctx, root, "sweep", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	kept, err := s.Upload(ctx, root, UploadRequest{Vault: "sweep", Key: "kept"}, strings.NewReader("kept"))
	if err != nil {
		t.Fatal(err)
	}
	orphan := writeOrphan(t, s)
	if got := len(objects(t, s)); got != 2 {
		t.Fatalf("%d objects before restart, want 2", got)
	}
	s.Close()

	s = openStore(t, dir)
	defer s.Close()
	ids := objects(t, s)
	if len(ids) != 1 || ids[0] != kept.Record.GetObjectId() {
		t.Fatalf("after the startup sweep the drives hold %v, want only %s (orphan %s removed)", ids, kept.Record.GetObjectId(), orphan)
	}
	_, rc, err := s.Download(ctx, root, "sweep", "kept", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "kept" {
		t.Fatalf("kept archive reads %q", b)
	}
}

func TestBackgroundSweepSparesInflightAndYoung(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	young := writeOrphan(t, s)
	// With a grace period, a young orphan stays (its upload may still be
	// about to commit).
	if n, err := s.SweepOrphans(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("sweep with grace removed %d (%v), want 0", n, err)
	}
	// An in-flight upload is never swept, whatever its age.
	s.beginWrite(young)
	if n, err := s.SweepOrphans(ctx, 0); err != nil || n != 0 {
		t.Fatalf("sweep removed an in-flight object: %d %v", n, err)
	}
	s.endWrite(young)
	if n, err := s.SweepOrphans(ctx, 0); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want the orphan", n, err)
	}
}

func TestNewCatalogOverExistingDrivesDoesNotSweep(t *testing.T) {
	// If meta/ is lost, the drives' objects are not orphans: the startup
	// sweep must not destroy them.
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	s.CreateVault(ctx, root, "lost", wormvault.DefaultRetention{})
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "lost", Key: "k"}, strings.NewReader("precious")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := removeAll(dir + "/meta"); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	defer s.Close()
	if got := len(objects(t, s)); got != 1 {
		t.Fatalf("a fresh catalog swept the drives: %d objects left, want 1", got)
	}
}

func TestUploadChecksumMismatchStoresNothing(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	s.CreateVault(ctx, root, "sums", wormvault.DefaultRetention{})
	_, err := s.Upload(ctx, root, UploadRequest{Vault: "sums", Key: "k", ExpectedSHA256: bytes.Repeat([]byte{1}, 32)}, strings.NewReader("data"))
	if !errors.Is(err, wormvault.ErrChecksumMismatch) {
		t.Fatalf("got %v, want checksum mismatch", err)
	}
	if ids := objects(t, s); len(ids) != 0 {
		t.Fatalf("a refused upload left objects %v", ids)
	}
	if _, err := s.GetArchive(ctx, root, "sums", "k", ""); !errors.Is(err, wormvault.ErrArchiveNotFound) {
		t.Fatalf("refused upload visible: %v", err)
	}
}

// failingReader fails after n bytes, like a client that disconnects.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestUploadBrokenStreamStoresNothing(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	s.CreateVault(ctx, root, "broken", wormvault.DefaultRetention{})
	if _, err := s.Upload(ctx, root, UploadRequest{Vault: "broken", Key: "k"}, &failingReader{n: 300 << 10}); err == nil {
		t.Fatal("an upload whose stream broke succeeded")
	}
	if ids := objects(t, s); len(ids) != 0 {
		t.Fatalf("a broken upload left objects %v", ids)
	}
}

func removeAll(p string) error { return os.RemoveAll(p) }

// TestInlineThreshold: archives up to the threshold are stored inline (no
// shard files) and read back bit-exact, ranged too; one byte more goes to
// shards. Deleting an inline version removes its bytes.
func TestInlineThreshold(t *testing.T) {
	cfg := DefaultConfig(t.TempDir())
	cfg.InlineThreshold = 1000
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	s.CreateVault(ctx, root, "inline", wormvault.DefaultRetention{})
	for _, tc := range []struct {
		size   int
		inline bool
	}{{0, true}, {1, true}, {1000, true}, {1001, false}} {
		data := bytes.Repeat([]byte{byte(tc.size)}, tc.size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		key := fmt.Sprintf("k%d", tc.size)
		a, err := s.Upload(ctx, root, UploadRequest{Vault: "inline", Key: key}, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if a.Record.GetInline() != tc.inline || (a.Record.GetObjectId() == "") != tc.inline {
			t.Fatalf("size %d: inline=%v object=%q, want inline=%v", tc.size, a.Record.GetInline(), a.Record.GetObjectId(), tc.inline)
		}
		_, rc, err := s.Download(ctx, root, "inline", key, "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes (%v)", tc.size, len(got), err)
		}
		if tc.size > 10 {
			_, rc, err := s.Download(ctx, root, "inline", key, "", 3, 5)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, data[3:8]) {
				t.Fatalf("size %d: ranged read %x, want %x", tc.size, got, data[3:8])
			}
		}
	}
	if n := len(objects(t, s)); n != 1 {
		t.Fatalf("%d shard objects, want 1 (only the archive over the threshold)", n)
	}
	a, _ := s.GetArchive(ctx, root, "inline", "k1000", "")
	if _, err := s.DeleteArchive(ctx, root, "inline", "k1000", a.Record.GetVersionId(), false); err != nil {
		t.Fatal(err)
	}
	err = s.catalog.View(func(tx *catalog.Txn) error {
		_, err := tx.Blob(a.Record.GetVersionId())
		return err
	})
	if err == nil {
		t.Fatal("the inline bytes of a deleted version remain")
	}
}

// TestDownloadIfRange: a range applies only to the version whose SHA-256
// the caller names; another version is read whole, so a resumed download
// never splices two versions.
func TestDownloadIfRange(t *testing.T) {
	s := openStore(t, t.TempDir())
	ctx := context.Background()
	if _, err := s.CreateVault(ctx, root, "ranges", wormvault.DefaultRetention{}); err != nil {
		t.Fatal(err)
	}
	a, err := s.Upload(ctx, root, UploadRequest{Vault: "ranges", Key: "k"}, strings.NewReader("0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(ifRange []byte) (string, error) {
		_, rc, err := s.DownloadArchive(ctx, root, ReadRequest{Vault: "ranges", Key: "k", Offset: 3, Length: 4, IfRangeSHA256: ifRange})
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	for _, tc := range []struct {
		name    string
		ifRange []byte
		want    string
	}{
		{"no validator", nil, "3456"},
		{"matching", a.Record.GetSha256(), "3456"},
		{"another version's", make([]byte, 32), "0123456789"},
	} {
		if got, err := read(tc.ifRange); err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := read([]byte("short")); !errors.Is(err, wormvault.ErrInvalidArgument) {
		t.Errorf("a 5-byte validator: %v, want INVALID_ARGUMENT", err)
	}
}
