package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// fake is a scripted server for the SDK's own behaviour: retries, paging,
// checksum verification, credentials. The real server is exercised by the
// end-to-end tests in client_test.go.
type fake struct {
	wormvaultv1.UnimplementedVaultServiceServer
	wormvaultv1.UnimplementedArchiveServiceServer

	mu          sync.Mutex
	unavailable int // calls to fail with Unavailable before answering
	calls       int
	lastAuth    string
	vaultNames  []string
	data        []byte
	corrupt     bool // lie about the sha256 (upload) or flip a byte (download)
	uploaded    [][]byte
}

func (f *fake) fail(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("authorization")) > 0 {
		f.lastAuth = md.Get("authorization")[0]
	}
	if f.unavailable > 0 {
		f.unavailable--
		return status.Error(codes.Unavailable, "try again")
	}
	return nil
}

func (f *fake) GetVault(ctx context.Context, req *wormvaultv1.GetVaultRequest) (*wormvaultv1.GetVaultResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.GetVaultResponse{Vault: &wormvaultv1.Vault{Name: req.GetName()}}, nil
}

func (f *fake) CreateVault(ctx context.Context, req *wormvaultv1.CreateVaultRequest) (*wormvaultv1.CreateVaultResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	return &wormvaultv1.CreateVaultResponse{Vault: &wormvaultv1.Vault{Name: req.GetName()}}, nil
}

func (f *fake) ListVaults(ctx context.Context, req *wormvaultv1.ListVaultsRequest) (*wormvaultv1.ListVaultsResponse, error) {
	if err := f.fail(ctx); err != nil {
		return nil, err
	}
	start := 0
	if req.GetPageToken() != "" {
		start, _ = strconv.Atoi(req.GetPageToken())
	}
	end := min(start+int(req.GetPageSize()), len(f.vaultNames))
	resp := &wormvaultv1.ListVaultsResponse{}
	for _, n := range f.vaultNames[start:end] {
		resp.Vaults = append(resp.Vaults, &wormvaultv1.Vault{Name: n})
	}
	if end < len(f.vaultNames) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

func (f *fake) UploadArchive(stream grpc.ClientStreamingServer[wormvaultv1.UploadArchiveRequest, wormvaultv1.UploadArchiveResponse]) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	if err := f.fail(stream.Context()); err != nil {
		return err // before reading the data: the client is still sending
	}
	var buf bytes.Buffer
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		buf.Write(msg.GetChunk())
	}
	sum := sha256.Sum256(buf.Bytes())
	if f.corrupt {
		sum[0] ^= 1
	}
	f.mu.Lock()
	f.uploaded = append(f.uploaded, buf.Bytes())
	f.mu.Unlock()
	return stream.SendAndClose(&wormvaultv1.UploadArchiveResponse{Archive: &wormvaultv1.Archive{
		SizeBytes: int64(buf.Len()), Sha256: sum[:], VersionId: "v1",
	}})
}

func (f *fake) DownloadArchive(req *wormvaultv1.DownloadArchiveRequest, stream grpc.ServerStreamingServer[wormvaultv1.DownloadArchiveResponse]) error {
	if err := f.fail(stream.Context()); err != nil {
		return err
	}
	sum := sha256.Sum256(f.data)
	a := &wormvaultv1.Archive{Vault: req.GetVault(), Key: req.GetKey(), SizeBytes: int64(len(f.data)), Sha256: sum[:]}
	if err := stream.Send(&wormvaultv1.DownloadArchiveResponse{Data: &wormvaultv1.DownloadArchiveResponse_Archive{Archive: a}}); err != nil {
		return err
	}
	data := bytes.Clone(f.data)
	if f.corrupt && len(data) > 0 {
		data[len(data)/2] ^= 1
	}
	data = data[req.GetOffset():]
	if req.GetLength() > 0 {
		data = data[:req.GetLength()]
	}
	for len(data) > 0 {
		n := min(len(data), 300_000)
		if err := stream.Send(&wormvaultv1.DownloadArchiveResponse{Data: &wormvaultv1.DownloadArchiveResponse_Chunk{Chunk: data[:n]}}); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func startFake(t *testing.T, f *fake, opts ...Option) *Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	wormvaultv1.RegisterVaultServiceServer(srv, f)
	wormvaultv1.RegisterArchiveServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	c, err := Dial(t.Context(), lis.Addr().String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRetryIdempotent(t *testing.T) {
	tests := []struct {
		unavailable, retries int
		wantErr              bool
		wantCalls            int
	}{
		{0, 3, false, 1},
		{2, 3, false, 3},
		{3, 3, false, 4},
		{4, 3, true, 4},
		{1, 0, true, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-of-%d", tt.unavailable, tt.retries), func(t *testing.T) {
			f := &fake{unavailable: tt.unavailable}
			c := startFake(t, f, WithRetry(tt.retries))
			v, err := c.GetVault(t.Context(), "v1")
			if (err != nil) != tt.wantErr {
				t.Fatalf("GetVault err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && v.GetName() != "v1" {
				t.Errorf("name = %q", v.GetName())
			}
			if err != nil && status.Code(err) != codes.Unavailable {
				t.Errorf("code = %v, want Unavailable", status.Code(err))
			}
			if f.calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", f.calls, tt.wantCalls)
			}
		})
	}
}

func TestNoRetryForCreate(t *testing.T) {
	f := &fake{unavailable: 1}
	c := startFake(t, f, WithRetry(3))
	if _, err := c.CreateVault(t.Context(), "v1"); status.Code(err) != codes.Unavailable {
		t.Fatalf("CreateVault err = %v, want Unavailable", err)
	}
	if f.calls != 1 {
		t.Errorf("calls = %d, want 1", f.calls)
	}
}

func TestTokenSentOnPlaintext(t *testing.T) {
	f := &fake{}
	c := startFake(t, f, WithToken("AK1.s3cret"))
	if _, err := c.GetVault(t.Context(), "v1"); err != nil {
		t.Fatal(err)
	}
	if f.lastAuth != "Bearer AK1.s3cret" {
		t.Errorf("authorization = %q", f.lastAuth)
	}
	if _, err := Dial(t.Context(), "127.0.0.1:1", WithToken("bad token\n")); err == nil {
		t.Error("Dial accepted a token with whitespace")
	}
}

func TestListVaultsPaging(t *testing.T) {
	for _, total := range []int{0, 1, 3, 4, 10} {
		t.Run(strconv.Itoa(total), func(t *testing.T) {
			f := &fake{}
			for i := range total {
				f.vaultNames = append(f.vaultNames, fmt.Sprintf("vault-%02d", i))
			}
			c := startFake(t, f, WithPageSize(3))
			var got []string
			for v, err := range c.ListVaults(t.Context()) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v.GetName())
			}
			if fmt.Sprint(got) != fmt.Sprint(f.vaultNames) && total > 0 {
				t.Errorf("got %v, want %v", got, f.vaultNames)
			}
			if len(got) != total {
				t.Errorf("got %d vaults, want %d", len(got), total)
			}
			// Breaking early stops fetching.
			calls := f.calls
			for range c.ListVaults(t.Context()) {
				break
			}
			if f.calls-calls != 1 {
				t.Errorf("early break made %d calls, want 1", f.calls-calls)
			}
		})
	}
}

func TestUploadDetectsServerChecksumMismatch(t *testing.T) {
	f := &fake{corrupt: true}
	c := startFake(t, f)
	a, err := c.Upload(t.Context(), "v", "k", bytes.NewReader([]byte("hello")))
	if !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("Upload err = %v, want ErrDataLoss", err)
	}
	if a.GetVersionId() != "v1" {
		t.Errorf("archive not returned with the error: %v", a)
	}
}

func TestUploadRetriesSeeker(t *testing.T) {
	data := make([]byte, 5<<20+7)
	rand.Read(data)
	f := &fake{unavailable: 1}
	c := startFake(t, f, WithRetry(2))
	var progress []int64
	a, err := c.Upload(t.Context(), "v", "k", bytes.NewReader(data), WithProgress(func(n int64) { progress = append(progress, n) }))
	if err != nil {
		t.Fatal(err)
	}
	if a.GetSizeBytes() != int64(len(data)) || len(f.uploaded) != 1 || !bytes.Equal(f.uploaded[0], data) {
		t.Fatalf("server got %d uploads, size %d", len(f.uploaded), a.GetSizeBytes())
	}
	if last := progress[len(progress)-1]; last != int64(len(data)) {
		t.Errorf("last progress = %d, want %d", last, len(data))
	}

	// A plain reader cannot be rewound, so it is not retried.
	f.unavailable = 1
	_, err = c.Upload(t.Context(), "v", "k", io.MultiReader(bytes.NewReader(data)))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("non-seeker upload err = %v, want Unavailable", err)
	}
}

func TestDownload(t *testing.T) {
	data := make([]byte, 1<<20+1)
	rand.Read(data)
	tests := []struct {
		name        string
		corrupt     bool
		unavailable int
		opts        []DownloadOption
		want        []byte
		wantErr     error
	}{
		{"full", false, 0, nil, data, nil},
		{"retried before first byte", false, 2, nil, data, nil},
		{"corrupt", true, 0, nil, nil, wormvault.ErrDataLoss},
		{"range", false, 0, []DownloadOption{WithRange(10, 100)}, data[10:110], nil},
		{"range to end", false, 0, []DownloadOption{WithRange(1000, 0)}, data[1000:], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{data: data, corrupt: tt.corrupt, unavailable: tt.unavailable}
			c := startFake(t, f)
			a, rc, err := c.Download(t.Context(), "v", "k", tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if a.GetSizeBytes() != int64(len(data)) {
				t.Errorf("size = %d", a.GetSizeBytes())
			}
			got, err := io.ReadAll(rc)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadAll err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes, want %d (equal=%v)", len(got), len(tt.want), bytes.Equal(got, tt.want))
			}
		})
	}
}

func TestDownloadCloseEarly(t *testing.T) {
	data := make([]byte, 3<<20)
	f := &fake{data: data}
	c := startFake(t, f)
	_, rc, err := c.Download(t.Context(), "v", "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if _, err := rc.Read(make([]byte, 10)); err == nil {
		t.Error("Read after Close succeeded")
	}
	// The connection is still usable.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := c.GetVault(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
}
