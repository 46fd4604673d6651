package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

// withLimits starts a server whose Limits are lim.
func withLimits(t *testing.T, lim server.Limits, more ...servertest.Option) (*servertest.Server, *conn) {
	t.Helper()
	opts := append([]servertest.Option{servertest.WithConfig(func(c *server.Config) { c.Limits = lim })}, more...)
	s := servertest.Start(t, opts...)
	c := dial(t, s)
	c.createVault("limits")
	return s, c
}

// retryDelay returns the RetryInfo delay of err, or 0.
func retryDelay(err error) time.Duration {
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if r, ok := d.(*errdetails.RetryInfo); ok {
			return r.GetRetryDelay().AsDuration()
		}
	}
	return 0
}

// openUpload starts an upload of limits/key and sends its header, leaving
// the stream open; cancel abandons it (nothing is stored).
func openUpload(t *testing.T, c *conn, key string) (wormvaultv1.ArchiveService_UploadArchiveClient, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(c.ctx())
	st, err := c.archives.UploadArchive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: &wormvaultv1.ArchiveHeader{Vault: "limits", Key: key}}}); err != nil {
		t.Fatal(err)
	}
	return st, cancel
}

// waitInFlight waits until the server counts the calls and uploads given.
func waitInFlight(t *testing.T, s *servertest.Server, calls, uploads int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, u := s.InFlight()
		if c == calls && u == uploads {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("in flight: %d calls, %d uploads; want %d, %d", c, u, calls, uploads)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tryUpload uploads data to limits/key in chunks of chunkSize and returns
// the server's answer, also when the server ends the stream before the
// last chunk.
func tryUpload(c *conn, key string, data []byte, chunkSize int) error {
	ctx, cancel := context.WithCancel(c.ctx())
	defer cancel()
	st, err := c.archives.UploadArchive(ctx)
	if err != nil {
		return err
	}
	msgs := []*wormvaultv1.UploadArchiveRequest{{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: &wormvaultv1.ArchiveHeader{Vault: "limits", Key: key}}}}
	for len(data) > 0 {
		n := min(len(data), chunkSize)
		msgs = append(msgs, &wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: data[:n]}})
		data = data[n:]
	}
	for _, m := range msgs {
		if st.Send(m) != nil {
			break // the server ended the stream: CloseAndRecv says why
		}
	}
	_, err = st.CloseAndRecv()
	return err
}

func wantRetryable(t *testing.T, err error, reason string) {
	t.Helper()
	wantStatus(t, err, codes.ResourceExhausted, reason)
	if d := retryDelay(err); d <= 0 {
		t.Fatalf("no retry delay in %v", err)
	}
}

// TestLimitsConcurrency fills the server's in-flight and upload slots with
// open uploads and checks that one more call is refused with
// RESOURCE_EXHAUSTED and a retry delay, that it stored nothing, that health
// checks still answer, and that the slot is usable again once freed.
func TestLimitsConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  server.Limits
		// probe is the call made while the slots are full.
		probe func(c *conn) error
	}{
		{"in-flight calls", server.Limits{MaxInFlight: 2}, func(c *conn) error {
			_, err := c.vaults.ListVaults(c.ctx(), &wormvaultv1.ListVaultsRequest{})
			return err
		}},
		{"uploads", server.Limits{MaxConcurrentUploads: 2}, func(c *conn) error {
			return tryUpload(c, "refused", []byte("x"), 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := withLimits(t, tc.lim)
			st1, cancel1 := openUpload(t, c, "held-1")
			_, cancel2 := openUpload(t, c, "held-2")
			defer cancel2()
			waitInFlight(t, s, 2, 2)

			wantRetryable(t, tc.probe(c), "TOO_MANY_REQUESTS")
			hc := healthpb.NewHealthClient(c.cc)
			if _, err := hc.Check(c.ctx(), &healthpb.HealthCheckRequest{}); err != nil {
				t.Fatalf("health check while full: %v", err)
			}

			// Finishing one upload frees its slot; the refused call now works.
			st1.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: []byte("held")}})
			if _, err := st1.CloseAndRecv(); err != nil {
				t.Fatal(err)
			}
			cancel1()
			waitInFlight(t, s, 1, 1)
			if err := tc.probe(c); err != nil {
				t.Fatalf("after a slot freed: %v", err)
			}
			cancel2()
			waitInFlight(t, s, 0, 0)
			// Stored: held-1, and one version of the probe when it is an
			// upload (its refused attempt stored nothing); not the
			// abandoned held-2.
			want := map[string]int{"held-1": 1}
			if tc.lim.MaxConcurrentUploads > 0 {
				want["refused"] = 1
			}
			if got := versionsByKey(t, c, "limits"); !maps.Equal(got, want) {
				t.Fatalf("versions by key %v, want %v", got, want)
			}
		})
	}
}

// versionsByKey counts the versions of each key of vault.
func versionsByKey(t *testing.T, c *conn, vault string) map[string]int {
	t.Helper()
	l, err := c.archives.ListArchives(c.ctx(), &wormvaultv1.ListArchivesRequest{Vault: vault, AllVersions: true, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range l.GetArchives() {
		out[a.GetKey()]++
	}
	return out
}

// TestLimitsUploadRate checks the per-principal upload limits: over either
// rate a new upload is refused with RESOURCE_EXHAUSTED, RATE_LIMITED and a
// retry delay before a byte is stored, while another principal uploads
// freely and the server keeps serving.
func TestLimitsUploadRate(t *testing.T) {
	const otherPolicy = `{"statements":[{"sid":"upload","effect":"ALLOW","principals":["other"],
		"actions":["wormvault:UploadArchive"],"resources":["vaults/limits/archives/*"]}]}`
	for _, tc := range []struct {
		name string
		lim  server.Limits
		// allowed uploads of size bytes pass before the next is refused.
		allowed, size int
		minDelay      time.Duration
	}{
		// 64 KiB at 1 KiB/s with a 4 KiB burst: the upload runs to the end
		// (never cut off) and leaves a minute of debt.
		{"bytes per second", server.Limits{UploadBytesPerSecond: 1 << 10, UploadBurstBytes: 4 << 10}, 1, 64 << 10, 30 * time.Second},
		{"uploads per second", server.Limits{UploadsPerSecond: 0.001, UploadBurst: 2}, 2, 10, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, root := withLimits(t, tc.lim)
			other := newPrincipal(t, root, "other", otherPolicy)
			for i := range tc.allowed {
				root.put("limits", "ok-"+strconv.Itoa(i), randomBytes(uint64(i), tc.size))
			}
			before := snapshot(t, root, s.DataDir)
			err := tryUpload(root, "refused", randomBytes(9, tc.size), 1<<20)
			wantRetryable(t, err, "RATE_LIMITED")
			if d := retryDelay(err); d < tc.minDelay {
				t.Fatalf("retry delay %s, want at least %s", d, tc.minDelay)
			}
			if after := snapshot(t, root, s.DataDir); after != before {
				t.Fatalf("a refused upload changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			// Rates are per principal, and other calls are not rate limited.
			other.put("limits", "other", randomBytes(10, tc.size))
			if _, err := root.vaults.ListVaults(root.ctx(), &wormvaultv1.ListVaultsRequest{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLimitsHeaderSize sends request metadata over MaxHeaderBytes (but under
// the transport's hard cap): RESOURCE_EXHAUSTED, REQUEST_TOO_LARGE, and an
// upload refused that way stores nothing.
func TestLimitsHeaderSize(t *testing.T) {
	s, c := withLimits(t, server.Limits{MaxHeaderBytes: 1 << 10})
	big := func(ctx context.Context) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "x-padding", strings.Repeat("p", 2<<10))
	}
	_, err := c.vaults.ListVaults(big(c.ctx()), &wormvaultv1.ListVaultsRequest{})
	wantStatus(t, err, codes.ResourceExhausted, "REQUEST_TOO_LARGE")

	before := snapshot(t, c, s.DataDir)
	st, err := c.archives.UploadArchive(big(c.ctx()))
	if err != nil {
		t.Fatal(err)
	}
	st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: &wormvaultv1.ArchiveHeader{Vault: "limits", Key: "k"}}})
	st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: []byte("data")}})
	_, err = st.CloseAndRecv()
	wantStatus(t, err, codes.ResourceExhausted, "REQUEST_TOO_LARGE")
	if after := snapshot(t, c, s.DataDir); after != before {
		t.Fatalf("a refused upload changed the store:\n%s", after)
	}
	if _, err := c.vaults.ListVaults(c.ctx(), &wormvaultv1.ListVaultsRequest{}); err != nil {
		t.Fatal(err)
	}
}

// TestLimitsHugeHeaderNotAllocated speaks raw HTTP/2 to the server, as a
// client that ignores the advertised header list size would, and sends
// requests with huge headers: 32 MiB as 4 KiB fields (the server stops
// keeping fields at its cap) and one 12 MiB field (refused from its length
// prefix; under gRPC's own 16 MiB default it would be read in). The server
// must refuse each without allocating anything like its size, and keep
// serving.
func TestLimitsHugeHeaderNotAllocated(t *testing.T) {
	s, c := withLimits(t, server.Limits{MaxHeaderBytes: 1 << 10})
	for _, tc := range []struct {
		name             string
		fieldSize, count int
	}{
		{"many fields", 4 << 10, 8 << 10},
		{"one field", 12 << 20, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var block bytes.Buffer
			enc := hpack.NewEncoder(&block)
			for _, f := range [][2]string{
				{":method", "POST"}, {":scheme", "http"}, {":path", "/wormvault.v1.VaultService/ListVaults"},
				{":authority", s.Addr}, {"content-type", "application/grpc"}, {"te", "trailers"},
				{"authorization", "Bearer " + s.Token},
			} {
				enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
			}
			value := strings.Repeat("v", tc.fieldSize-40)
			for i := range tc.count {
				enc.WriteField(hpack.HeaderField{Name: "x-pad-" + strconv.Itoa(i), Value: value, Sensitive: true})
			}
			value = ""
			total := tc.fieldSize * tc.count

			nc, err := net.Dial("tcp", s.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(time.Minute))
			if _, err := io.WriteString(nc, http2.ClientPreface); err != nil {
				t.Fatal(err)
			}
			fr := http2.NewFramer(nc, nc)
			if err := fr.WriteSettings(); err != nil {
				t.Fatal(err)
			}

			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			sendHeaderBlock(fr, 1, block.Bytes())
			reply := awaitRefusal(t, fr, 1)
			runtime.ReadMemStats(&m1)

			if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 8<<20 {
				t.Fatalf("refusing a %d MiB header allocated %d MiB", total>>20, grew>>20)
			}
			t.Logf("refused with %s; %d KiB allocated meanwhile", reply, (m1.TotalAlloc-m0.TotalAlloc)>>10)
			if _, err := c.vaults.ListVaults(c.ctx(), &wormvaultv1.ListVaultsRequest{}); err != nil {
				t.Fatalf("server after a huge header: %v", err)
			}
		})
	}
}

// sendHeaderBlock writes block as HEADERS and CONTINUATION frames of the
// default maximum frame size. Write errors end it: the server may close the
// connection before the block ends.
func sendHeaderBlock(fr *http2.Framer, stream uint32, block []byte) {
	const frameSize = 16 << 10
	first := block[:min(len(block), frameSize)]
	block = block[len(first):]
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: first, EndHeaders: len(block) == 0, EndStream: true}); err != nil {
		return
	}
	for len(block) > 0 {
		frag := block[:min(len(block), frameSize)]
		block = block[len(frag):]
		if err := fr.WriteContinuation(stream, len(block) == 0, frag); err != nil {
			return
		}
	}
}

// awaitRefusal reads frames until the server resets the stream, sends
// GOAWAY or closes the connection; an answer with response headers fails.
func awaitRefusal(t *testing.T, fr *http2.Framer, stream uint32) string {
	t.Helper()
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("no answer from the server: %v", err)
			}
			return "connection closed (" + err.Error() + ")"
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == stream {
				return "RST_STREAM " + f.ErrCode.String()
			}
		case *http2.GoAwayFrame:
			return "GOAWAY " + f.ErrCode.String()
		case *http2.HeadersFrame:
			if f.StreamID == stream {
				t.Fatalf("the server answered a request over its header cap")
			}
		}
	}
}

// TestLimitsOversizedMessage sends an upload chunk over the receive size:
// gRPC itself answers RESOURCE_EXHAUSTED and nothing is stored.
func TestLimitsOversizedMessage(t *testing.T) {
	s, c := withLimits(t, server.DefaultLimits())
	before := snapshot(t, c, s.DataDir)
	err := tryUpload(c, "huge-chunk", make([]byte, server.MaxChunkSize+128<<10), server.MaxChunkSize+128<<10)
	wantStatus(t, err, codes.ResourceExhausted, "")
	if after := snapshot(t, c, s.DataDir); after != before {
		t.Fatalf("a refused upload changed the store:\n%s", after)
	}
	c.put("limits", "fine", []byte("fine"))
}

// TestUploadWithoutWriteQuorumIsUnavailable takes two of six drives away
// (4+2 writes need 5): an upload fails at once with UNAVAILABLE,
// NO_WRITE_QUORUM, naming no drive, and stores nothing; reads go on; once
// the drives are back, uploads succeed again.
func TestUploadWithoutWriteQuorumIsUnavailable(t *testing.T) {
	s, c := withLimits(t, server.DefaultLimits(), servertest.WithConfig(func(c *server.Config) { c.Vault.InlineThreshold = 0 }))
	old := c.put("limits", "before", randomBytes(1, 100<<10))
	drives := filepath.Join(s.DataDir, "drives")
	for _, d := range []string{"d2", "d5"} {
		if err := os.Rename(filepath.Join(drives, d), filepath.Join(drives, d+".away")); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, c, s.DataDir)
	err := tryUpload(c, "during", randomBytes(2, 100<<10), 1<<20)
	wantStatus(t, err, codes.Unavailable, "NO_WRITE_QUORUM")
	if msg := status.Convert(err).Message(); strings.Contains(msg, s.DataDir) {
		t.Fatalf("status names server paths: %q", msg)
	}
	if after := snapshot(t, c, s.DataDir); after != before {
		t.Fatalf("a refused upload changed the store:\n%s", after)
	}
	if got := c.get("limits", "before", old.GetVersionId()); !bytes.Equal(got, randomBytes(1, 100<<10)) {
		t.Fatal("read with two drives away returned other bytes")
	}
	for _, d := range []string{"d2", "d5"} {
		if err := os.Rename(filepath.Join(drives, d+".away"), filepath.Join(drives, d)); err != nil {
			t.Fatal(err)
		}
	}
	c.put("limits", "after", randomBytes(3, 100<<10))
}

func TestLimitsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  server.Limits
		ok   bool
	}{
		{"defaults", server.DefaultLimits(), true},
		{"all off", server.Limits{}, true},
		{"rates", server.Limits{UploadBytesPerSecond: 1 << 20, UploadBurstBytes: 8 << 20, UploadsPerSecond: 0.5, UploadBurst: 3}, true},
		{"negative in-flight", server.Limits{MaxInFlight: -1}, false},
		{"negative uploads", server.Limits{MaxConcurrentUploads: -1}, false},
		{"negative header", server.Limits{MaxHeaderBytes: -1}, false},
		{"huge header", server.Limits{MaxHeaderBytes: 1 << 30}, false},
		{"negative rate", server.Limits{UploadBytesPerSecond: -1}, false},
		{"negative burst", server.Limits{UploadBurstBytes: -1}, false},
		{"negative uploads/s", server.Limits{UploadsPerSecond: -1}, false},
		{"infinite uploads/s", server.Limits{UploadsPerSecond: math.Inf(1)}, false},
		{"NaN uploads/s", server.Limits{UploadsPerSecond: math.NaN()}, false},
		{"negative upload burst", server.Limits{UploadBurst: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := server.DefaultConfig()
			cfg.Limits = tc.lim
			if err := cfg.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
