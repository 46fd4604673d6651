package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// prngReader yields n deterministic pseudo-random bytes without holding them.
type prngReader struct {
	r *rand.ChaCha8
	n int64
}

func newPRNGReader(seed byte, n int64) *prngReader {
	var s [32]byte
	s[0] = seed
	return &prngReader{r: rand.NewChaCha8(s), n: n}
}

func (p *prngReader) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.n {
		b = b[:p.n]
	}
	p.r.Read(b)
	p.n -= int64(len(b))
	return len(b), nil
}

// TestRoundTripOneGiB streams 1 GiB through the real server and back,
// comparing digests; memory holds neither copy.
func TestRoundTripOneGiB(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB round trip skipped in -short mode")
	}
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("big")
	const size = 1 << 30
	want := sha256.New()
	a, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: "big", Key: "one-gib"}, io.TeeReader(newPRNGReader(1, size), want), 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	if a.GetSizeBytes() != size || !bytes.Equal(a.GetSha256(), want.Sum(nil)) {
		t.Fatalf("upload reported size %d sha %x", a.GetSizeBytes(), a.GetSha256())
	}
	got := sha256.New()
	n := &countingWriter{w: got}
	if _, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "big", Key: "one-gib"}, n); err != nil {
		t.Fatal(err)
	}
	if n.n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("downloaded %d bytes with sha %x, want %d bytes with %x", n.n, got.Sum(nil), int64(size), want.Sum(nil))
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

// TestSHA256MatchesSha256sum checks the reported digest against the
// coreutils tool users verify with.
func TestSHA256MatchesSha256sum(t *testing.T) {
	tool, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum not installed")
	}
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("digests")
	data := randomBytes(99, 3<<20+17)
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, path).Output()
	if err != nil {
		t.Fatal(err)
	}
	a := c.put("digests", "file", data)
	if hex.EncodeToString(a.GetSha256()) != strings.Fields(string(out))[0] {
		t.Fatalf("server sha256 %x, sha256sum says %s", a.GetSha256(), out)
	}
}
