package server_test

// Customer-provided keys (SSE-C) through the real server over TLS: round
// trips of every size and ranges across packages, the refusals (no TLS,
// no key, wrong key, bad digest), tampered shards, and no trace of the
// key or the plaintext under the data directory.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

const (
	ssecKeyMD = "x-wormvault-sse-c-key"
	ssecSumMD = "x-wormvault-sse-c-key-sha256"
)

var customerMode = &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER}

// customerKey returns a 32-byte key unlike any other test's.
func customerKey(fill byte) []byte {
	k := bytes.Repeat([]byte{fill}, 32)
	k[0], k[15], k[31] = 0x5E, 0xC0, fill^0xFF
	return k
}

// withKey adds the SSE-C metadata for key to ctx; a nil key adds none.
func withKey(ctx context.Context, key []byte) context.Context {
	if key == nil {
		return ctx
	}
	sum := sha256.Sum256(key)
	return metadata.AppendToOutgoingContext(ctx, ssecKeyMD, base64.StdEncoding.EncodeToString(key), ssecSumMD, base64.StdEncoding.EncodeToString(sum[:]))
}

// putCtx uploads data after h with ctx's metadata.
func putCtx(ctx context.Context, c *conn, h *wormvaultv1.ArchiveHeader, data []byte) (*wormvaultv1.Archive, error) {
	st, err := c.archives.UploadArchive(ctx)
	if err != nil {
		return nil, err
	}
	if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: h}}); err != nil {
		_, err = st.CloseAndRecv()
		return nil, err
	}
	for off := 0; off < len(data); off += 1 << 20 {
		end := min(off+1<<20, len(data))
		if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: data[off:end]}}); err != nil {
			break // CloseAndRecv says why
		}
	}
	resp, err := st.CloseAndRecv()
	return resp.GetArchive(), err
}

// getCtx downloads req with ctx's metadata; it returns what arrived: the
// metadata message (if any), the bytes of every chunk, and the error.
func getCtx(ctx context.Context, c *conn, req *wormvaultv1.DownloadArchiveRequest) (*wormvaultv1.Archive, []byte, error) {
	st, err := c.archives.DownloadArchive(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	var (
		a   *wormvaultv1.Archive
		buf bytes.Buffer
	)
	for {
		m, err := st.Recv()
		if err == io.EOF {
			return a, buf.Bytes(), nil
		}
		if err != nil {
			return a, buf.Bytes(), err
		}
		if m.GetArchive() != nil {
			a = m.GetArchive()
		}
		buf.Write(m.GetChunk())
	}
}

// startTLS starts a TLS server and returns it with a root client.
func startTLS(t *testing.T, opts ...servertest.Option) (*servertest.Server, *conn, *testCA) {
	t.Helper()
	ca := newTestCA(t, "ssec-ca")
	s := servertest.Start(t, append([]servertest.Option{servertest.WithTLS(ca.serverFiles(t))}, opts...)...)
	return s, dialTLS(t, s, &tls.Config{RootCAs: ca.pool()}, s.Token), ca
}

// TestSSECRoundTrip: every size reads back bit-exact with its key, whole
// and in ranges across 64 KiB package boundaries, GetArchive reports the
// mode, and no file under the data directory holds the plaintext or the
// key (raw, base64 or hex), Badger's files included.
func TestSSECRoundTrip(t *testing.T) {
	s, c, _ := startTLS(t)
	c.createVault("ssec")
	key := customerKey(1)
	const K = 64 << 10
	sizes := []int{0, 1, K - 1, K, K + 1, 10 << 20}
	data := map[string][]byte{}
	for i, size := range sizes {
		name := "k" + string(rune('a'+i))
		data[name] = markedBytes(uint64(500+i), size)
		a, err := putCtx(withKey(c.ctx(), key), c, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: name, Encryption: customerMode}, data[name])
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if a.GetEncryption().GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER || a.GetSizeBytes() != int64(size) {
			t.Fatalf("size %d: encryption %v size %d", size, a.GetEncryption(), a.GetSizeBytes())
		}
	}
	for name, want := range data {
		_, got, err := getCtx(withKey(c.ctx(), key), c, &wormvaultv1.DownloadArchiveRequest{Vault: "ssec", Key: name})
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes (%v), want the %d uploaded", name, len(got), err, len(want))
		}
		for _, r := range [][2]int64{{K - 5, 10}, {K, K}, {2*K - 1, 3*K + 2}, {int64(len(want)) - 1, 1}} {
			off, n := r[0], r[1]
			if off < 0 || off+n > int64(len(want)) {
				continue
			}
			_, got, err := getCtx(withKey(c.ctx(), key), c, &wormvaultv1.DownloadArchiveRequest{Vault: "ssec", Key: name, Offset: off, Length: n})
			if err != nil || !bytes.Equal(got, want[off:off+n]) {
				t.Fatalf("%s [%d,+%d): %d bytes (%v)", name, off, n, len(got), err)
			}
		}
		g, err := c.archives.GetArchive(withKey(c.ctx(), key), &wormvaultv1.GetArchiveRequest{Vault: "ssec", Key: name})
		if err != nil || g.GetArchive().GetEncryption().GetMode() != wormvaultv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER {
			t.Fatalf("GetArchive %s: %v %v", name, g, err)
		}
	}
	// Listing needs no key, as in S3.
	l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: "ssec"})
	if err != nil || len(l.GetArchives()) != len(sizes) {
		t.Fatalf("ListArchives: %v %v", l, err)
	}
	s.Stop()
	b64, raw64 := base64.StdEncoding.EncodeToString(key), base64.RawStdEncoding.EncodeToString(key)
	grepTree(t, s.DataDir, map[string][]byte{
		"plaintext": serverMarker, "key": key, "key (base64)": []byte(b64), "key (unpadded base64)": []byte(raw64),
		"key (hex)": []byte(hex.EncodeToString(key)), "key (HEX)": []byte(strings.ToUpper(hex.EncodeToString(key))),
	})
}

// grepTree fails if any file under dir holds one of the needles.
func grepTree(t *testing.T, dir string, needles map[string][]byte) {
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
		for what, x := range needles {
			if bytes.Contains(b, x) {
				t.Errorf("%s holds the %s", p, what)
			}
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d files under %s: %v", n, dir, err)
	}
}

// TestSSECRefusals: a wrong key is PERMISSION_DENIED before any message
// of the download; a missing key, a key without its digest or with a
// wrong one, and a key for a version that has none are INVALID_ARGUMENT
// naming the metadata; policies see request.encryption "CUSTOMER".
func TestSSECRefusals(t *testing.T) {
	_, c, _ := startTLS(t)
	c.createVault("ssec")
	key, other := customerKey(2), customerKey(3)
	data := markedBytes(7, 3<<20)
	if _, err := putCtx(withKey(c.ctx(), key), c, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: "k", Encryption: customerMode}, data); err != nil {
		t.Fatal(err)
	}
	c.put("ssec", "service", []byte("no customer key"))

	for _, tc := range []struct {
		name   string
		ctx    context.Context
		code   codes.Code
		reason string
		field  string
	}{
		{"wrong key", withKey(c.ctx(), other), codes.PermissionDenied, "SSE_C_KEY_MISMATCH", ""},
		{"no key", c.ctx(), codes.InvalidArgument, "", ssecKeyMD},
		{"key without digest", metadata.AppendToOutgoingContext(c.ctx(), ssecKeyMD, base64.StdEncoding.EncodeToString(key)), codes.InvalidArgument, "", ssecSumMD},
		{"wrong digest", metadata.AppendToOutgoingContext(c.ctx(), ssecKeyMD, base64.StdEncoding.EncodeToString(key), ssecSumMD, base64.StdEncoding.EncodeToString(make([]byte, 32))), codes.InvalidArgument, "", ssecSumMD},
		{"short key", withKey(c.ctx(), key[:16]), codes.InvalidArgument, "", ssecKeyMD},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, got, err := getCtx(tc.ctx, c, &wormvaultv1.DownloadArchiveRequest{Vault: "ssec", Key: "k"})
			md := wantStatus(t, err, tc.code, tc.reason)
			if tc.field != "" && md["field"] != tc.field {
				t.Fatalf("download names field %q, want %q", md["field"], tc.field)
			}
			if a != nil || len(got) > 0 {
				t.Fatalf("a refused download sent metadata %v and %d bytes", a, len(got))
			}
			if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(key)) {
				t.Fatalf("the error quotes the key: %v", err)
			}
			_, err = c.archives.GetArchive(tc.ctx, &wormvaultv1.GetArchiveRequest{Vault: "ssec", Key: "k"})
			if md := wantStatus(t, err, tc.code, tc.reason); tc.field != "" && md["field"] != tc.field {
				t.Fatalf("GetArchive names field %q, want %q", md["field"], tc.field)
			}
		})
	}
	// A key for a version without one is a mistake too.
	_, _, err := getCtx(withKey(c.ctx(), key), c, &wormvaultv1.DownloadArchiveRequest{Vault: "ssec", Key: "service"})
	wantField(t, err, ssecKeyMD)
	// Uploads: CUSTOMER needs the key; the key needs CUSTOMER.
	_, err = putCtx(c.ctx(), c, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: "no-key", Encryption: customerMode}, []byte("x"))
	wantField(t, err, ssecKeyMD)
	_, err = putCtx(withKey(c.ctx(), key), c, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: "no-mode"}, []byte("x"))
	wantField(t, err, "header.encryption.mode")
	// A vault cannot default to CUSTOMER.
	_, err = c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "ssec-default", DefaultEncryption: customerMode})
	wantStatus(t, err, codes.InvalidArgument, "")

	// request.encryption is "CUSTOMER" for policies.
	mustOK(t, c.setAccessPolicy("ssec", `{"statements":[{"sid":"require-ssec","effect":"DENY","principals":["*"],"actions":["wormvault:UploadArchive"],"resources":["*"],"condition":"request.encryption != \"CUSTOMER\""}]}`), "policy")
	_, err = putCtx(c.ctx(), c, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: "svc"}, []byte("x"))
	wantStatus(t, err, codes.PermissionDenied, "POLICY_DENIED")
	if _, err := putCtx(withKey(c.ctx(), key), c, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: "ok", Encryption: customerMode}, []byte("x")); err != nil {
		t.Fatalf("a CUSTOMER upload under a policy that requires it: %v", err)
	}
}

// TestSSECNeedsTLS: on a connection without TLS, a CUSTOMER upload is
// FAILED_PRECONDITION with or without the key, so is a download or
// GetArchive of a CUSTOMER version, and so is any call that sends a key.
func TestSSECNeedsTLS(t *testing.T) {
	s, c, _ := startTLS(t)
	c.createVault("ssec")
	key := customerKey(4)
	data := markedBytes(9, 100<<10)
	if _, err := putCtx(withKey(c.ctx(), key), c, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: "k", Encryption: customerMode}, data); err != nil {
		t.Fatal(err)
	}
	token := s.Token
	s.Stop()
	// The same data served in clear on loopback.
	plain := servertest.Start(t, servertest.WithDataDir(s.DataDir))
	p := dial(t, plain)
	p.token = token
	for _, k := range [][]byte{nil, key} {
		_, err := putCtx(withKey(p.ctx(), k), p, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: "new", Encryption: customerMode}, []byte("x"))
		wantStatus(t, err, codes.FailedPrecondition, "TLS_REQUIRED")
		a, got, err := getCtx(withKey(p.ctx(), k), p, &wormvaultv1.DownloadArchiveRequest{Vault: "ssec", Key: "k"})
		wantStatus(t, err, codes.FailedPrecondition, "TLS_REQUIRED")
		if a != nil || len(got) > 0 {
			t.Fatalf("a download refused for want of TLS sent %v and %d bytes", a, len(got))
		}
		_, err = p.archives.GetArchive(withKey(p.ctx(), k), &wormvaultv1.GetArchiveRequest{Vault: "ssec", Key: "k"})
		wantStatus(t, err, codes.FailedPrecondition, "TLS_REQUIRED")
	}
	_, err := p.vaults.GetVault(withKey(p.ctx(), key), &wormvaultv1.GetVaultRequest{Name: "ssec"})
	wantStatus(t, err, codes.FailedPrecondition, "TLS_REQUIRED")
	// Versions without a customer key are served as before.
	if _, err := p.vaults.GetVault(p.ctx(), &wormvaultv1.GetVaultRequest{Name: "ssec"}); err != nil {
		t.Fatal(err)
	}
}

// TestSSECTamper: shard damage beyond parity's reach, truncated shards,
// and shards of another version of the same size and key put in place
// (consistent erasure objects, wrong packages) are each DATA_LOSS, and no
// byte that is not the archive's comes out.
func TestSSECTamper(t *testing.T) {
	s, c, _ := startTLS(t)
	c.createVault("ssec")
	key := customerKey(5)
	data := map[string][]byte{}
	ids := map[string]string{}
	for i, name := range []string{"flip", "truncate", "victim", "donor"} {
		data[name] = markedBytes(uint64(600+i), 2<<20)
		a, err := putCtx(withKey(c.ctx(), key), c, &wormvaultv1.ArchiveHeader{Vault: "ssec", Key: name, Encryption: customerMode}, data[name])
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = a.GetVersionId()
	}
	parity := s.Config().Vault.ParityShards
	s.Stop()
	files := func(name string) []string {
		var out []string
		for _, p := range shardPaths(t, s.DataDir) {
			if strings.Contains(p, ids[name]) {
				out = append(out, p)
			}
		}
		if len(out) <= parity {
			t.Fatalf("%d shard files of %s", len(out), name)
		}
		return out
	}
	for _, p := range files("flip")[:parity+1] {
		b, _ := os.ReadFile(p)
		for i := len(b) / 3; i < len(b)/3+64; i++ {
			b[i] ^= 0x5a
		}
		os.WriteFile(p, b, 0o600)
	}
	for _, p := range files("truncate") {
		fi, _ := os.Stat(p)
		os.Truncate(p, fi.Size()/2)
	}
	// The donor's shards, renamed to the victim's: same size, same key.
	donor := files("donor")
	for i, p := range files("victim") {
		b, err := os.ReadFile(donor[i])
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, b, 0o600)
	}
	s.Restart() // same address: c reconnects
	for _, name := range []string{"flip", "truncate", "victim"} {
		for _, r := range [][2]int64{{0, 0}, {64 << 10, 10}, {1 << 20, 128 << 10}} {
			_, got, err := getCtx(withKey(c.ctx(), key), c, &wormvaultv1.DownloadArchiveRequest{Vault: "ssec", Key: name, Offset: r[0], Length: r[1]})
			wantStatus(t, err, codes.DataLoss, "")
			if !bytes.Equal(got, data[name][r[0]:r[0]+int64(len(got))]) {
				t.Fatalf("%s %v: returned %d bytes that are not the archive's", name, r, len(got))
			}
		}
	}
}
