package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server/servertest"
)

// conn is a test client over the generated stubs.
type conn struct {
	t        testing.TB
	cc       *grpc.ClientConn
	token    string
	vaults   wormvaultv1.VaultServiceClient
	archives wormvaultv1.ArchiveServiceClient
	admin    wormvaultv1.AdminServiceClient
}

func dial(t testing.TB, s *servertest.Server) *conn {
	t.Helper()
	cc, err := grpc.NewClient(s.Addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(8<<20)),
		grpc.WithInitialWindowSize(4<<20), grpc.WithInitialConnWindowSize(16<<20),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return &conn{t: t, cc: cc, token: s.Token,
		vaults:   wormvaultv1.NewVaultServiceClient(cc),
		archives: wormvaultv1.NewArchiveServiceClient(cc),
		admin:    wormvaultv1.NewAdminServiceClient(cc),
	}
}

// ctx returns a context carrying the root token.
func (c *conn) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	c.t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
}

func (c *conn) createVault(name string) {
	c.t.Helper()
	if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: name}); err != nil {
		c.t.Fatalf("CreateVault %s: %v", name, err)
	}
}

// upload streams data in chunks of chunkSize after the header.
func (c *conn) upload(h *wormvaultv1.ArchiveHeader, data io.Reader, chunkSize int) (*wormvaultv1.Archive, error) {
	st, err := c.archives.UploadArchive(c.ctx())
	if err != nil {
		return nil, err
	}
	if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: h}}); err != nil {
		return nil, err
	}
	buf := make([]byte, chunkSize)
	for {
		n, rerr := io.ReadFull(data, buf)
		if n > 0 {
			if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: buf[:n]}}); err != nil {
				break // the server ended the stream; CloseAndRecv says why
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	resp, err := st.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp.GetArchive(), nil
}

func (c *conn) put(vault, key string, data []byte) *wormvaultv1.Archive {
	c.t.Helper()
	a, err := c.upload(&wormvaultv1.ArchiveHeader{Vault: vault, Key: key}, bytes.NewReader(data), 1<<20)
	if err != nil {
		c.t.Fatalf("upload %s/%s: %v", vault, key, err)
	}
	return a
}

// download returns the metadata and bytes of a download.
func (c *conn) download(req *wormvaultv1.DownloadArchiveRequest, w io.Writer) (*wormvaultv1.Archive, error) {
	st, err := c.archives.DownloadArchive(c.ctx(), req)
	if err != nil {
		return nil, err
	}
	first, err := st.Recv()
	if err != nil {
		return nil, err
	}
	a := first.GetArchive()
	if a == nil {
		return nil, errors.New("first download message is not the archive metadata")
	}
	for {
		m, err := st.Recv()
		if err == io.EOF {
			return a, nil
		}
		if err != nil {
			return a, err
		}
		if m.GetChunk() == nil {
			return a, errors.New("a later download message is not a chunk")
		}
		w.Write(m.GetChunk())
	}
}

func (c *conn) get(vault, key, version string) []byte {
	c.t.Helper()
	var buf bytes.Buffer
	if _, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: vault, Key: key, VersionId: version}, &buf); err != nil {
		c.t.Fatalf("download %s/%s: %v", vault, key, err)
	}
	return buf.Bytes()
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// wantStatus asserts err's code and, when reason is not empty, its
// ErrorInfo reason; it returns the ErrorInfo's metadata.
func wantStatus(t testing.TB, err error, code codes.Code, reason string) map[string]string {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code {
		t.Fatalf("got %v, want code %v", err, code)
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			if reason != "" && info.GetReason() != reason {
				t.Fatalf("got reason %q (%v), want %q", info.GetReason(), err, reason)
			}
			return info.GetMetadata()
		}
	}
	if reason != "" {
		t.Fatalf("no ErrorInfo in %v, want reason %q", err, reason)
	}
	return nil
}

func wantField(t testing.TB, err error, field string) {
	t.Helper()
	md := wantStatus(t, err, codes.InvalidArgument, "")
	if md["field"] != field {
		t.Fatalf("invalid argument names field %q, want %q (%v)", md["field"], field, err)
	}
}

func TestRoundTrip(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("round-trip")
	const M = 1 << 20
	sizes := []int{0, 1, M - 1, M, M + 1, 3*M + 12345}
	if !testing.Short() {
		sizes = append(sizes, 64*M)
	}
	for i, size := range sizes {
		data := randomBytes(uint64(i+1), size)
		key := "archives/size-" + time.Duration(size).String()
		a := c.put("round-trip", key, data)
		want := sha256.Sum256(data)
		if a.GetSizeBytes() != int64(size) || !bytes.Equal(a.GetSha256(), want[:]) {
			t.Fatalf("size %d: upload reported size %d sha %x, want %x", size, a.GetSizeBytes(), a.GetSha256(), want)
		}
		if got := c.get("round-trip", key, ""); !bytes.Equal(got, data) {
			t.Fatalf("size %d: downloaded %d bytes that differ from the upload", size, len(got))
		}
		if got := c.get("round-trip", key, a.GetVersionId()); !bytes.Equal(got, data) {
			t.Fatalf("size %d: download by version differs", size)
		}
	}
}

func TestRangedDownload(t *testing.T) {
	s := servertest.Start(t)
	c := dial(t, s)
	c.createVault("ranges")
	const M = 1 << 20
	data := randomBytes(7, 5*M+333)
	a := c.put("ranges", "k", data)
	cases := []struct{ off, length int64 }{
		{0, 1}, {1, 1}, {M - 1, 2}, {M, M}, {M - 10, 3*M + 20}, {int64(len(data)) - 1, 1},
		{int64(len(data)) - 1, 0}, {12345, 0}, {0, int64(len(data))}, {4 * M, 10 * M},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		if _, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "ranges", Key: "k", VersionId: a.GetVersionId(), Offset: tc.off, Length: tc.length}, &buf); err != nil {
			t.Fatalf("range %d+%d: %v", tc.off, tc.length, err)
		}
		end := int64(len(data))
		if tc.length > 0 && tc.off+tc.length < end {
			end = tc.off + tc.length
		}
		if !bytes.Equal(buf.Bytes(), data[tc.off:end]) {
			t.Fatalf("range %d+%d: got %d bytes, want %d exact bytes", tc.off, tc.length, buf.Len(), end-tc.off)
		}
	}
	for _, tc := range []struct {
		off, length int64
		field       string
	}{{-1, 0, "offset"}, {int64(len(data)), 0, "offset"}, {int64(len(data)) + 5, 1, "offset"}, {0, -1, "length"}} {
		_, err := c.download(&wormvaultv1.DownloadArchiveRequest{Vault: "ranges", Key: "k", Offset: tc.off, Length: tc.length}, io.Discard)
		wantField(t, err, tc.field)
	}
}
