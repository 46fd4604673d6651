package server

// Archive bytes over plain HTTP. A google.api.http rule cannot bind a
// client stream, nor a server stream of anything but google.api.HttpBody,
// so UploadArchive and DownloadArchive have no REST rule. These two routes
// map onto them instead, still in process through grpc.Server.ServeHTTP
// with the original request's remote address, TLS state and headers, so
// through the same interceptors and handlers as every other call:
//
//	PUT /v1/vaults/{vault}/archives/{key}            the body is the bytes  → UploadArchive
//	GET /v1/vaults/{vault}/archives/{key}?alt=media  the bytes are the body → DownloadArchive
//
// Both stream: an upload is cut into 1 MiB chunks as its body arrives, a
// download is written as its chunks come, so neither is bounded by memory
// (browsers cannot stream a request through gRPC-Web or Connect, but can
// PUT a File).

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

const (
	uploadMethod   = "/wormvault.v1.ArchiveService/UploadArchive"
	downloadMethod = "/wormvault.v1.ArchiveService/DownloadArchive"
	// httpUploadChunk is how many bytes of a PUT body one UploadArchive
	// chunk carries.
	httpUploadChunk = 1 << 20
	// maxResponseFrame bounds one gRPC response message read back from
	// the handler: a download chunk and its framing.
	maxResponseFrame = MaxChunkSize + 64<<10
	// MetadataHeaderPrefix starts the request headers that become an
	// upload's user metadata over HTTP, as S3's x-amz-meta-.
	MetadataHeaderPrefix = "X-Wormvault-Meta-"
	// mediaContentSecurityPolicy is sent with archive bytes instead of the
	// console's policy: whatever was stored (HTML, SVG, scripts) must
	// never run as a page of this origin.
	mediaContentSecurityPolicy = "default-src 'none'; sandbox; frame-ancestors 'none'"
)

// errCallOver stops an upload's body pump once the call has ended.
var errCallOver = errors.New("server: http upload: the call has ended")

// mediaRoutes sends PUT and GET ?alt=media of an archive to the bytes
// routes, everything else to next (vanguard).
func (s *Server) mediaRoutes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, key, ok := archivePath(keySlashes(r.URL.EscapedPath())); ok {
			switch {
			case r.Method == http.MethodPut:
				s.serveUpload(w, r, v, key)
				return
			case r.Method == http.MethodGet && r.URL.Query().Get("alt") == "media":
				s.serveDownload(w, r, v, key)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// archivePath splits /v1/vaults/{vault}/archives/{key}, given as the
// client escaped it and as vanguard sees it (keySlashes, so both tell a key
// from a custom method alike): a vault segment "ap%2FNAME" is the access
// point NAME,
// and a key's escaped characters are its own. A last segment holding a
// literal ':' is a custom method (":retention"), as vanguard reads it, not
// a key; a key ending in ':' is written "%3A".
func archivePath(escaped string) (vault, key string, ok bool) {
	rest, ok := strings.CutPrefix(escaped, "/v1/vaults/")
	if !ok {
		return "", "", false
	}
	v, k, ok := strings.Cut(rest, "/archives/")
	if !ok || v == "" || strings.Contains(v, "/") || k == "" {
		return "", "", false
	}
	if strings.Contains(k[strings.LastIndexByte(k, '/')+1:], ":") {
		return "", "", false
	}
	vault, err := url.PathUnescape(v)
	if err != nil {
		return "", "", false
	}
	if key, err = url.PathUnescape(k); err != nil {
		return "", "", false
	}
	return vault, key, true
}

// serveUpload streams a PUT body into UploadArchive.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request, vaultName, key string) {
	hdr, err := uploadHeader(r, vaultName, key)
	if err != nil {
		s.writeHTTPError(w, r, err)
		return
	}
	first, err := proto.Marshal(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: hdr}})
	if err != nil {
		s.writeHTTPError(w, r, fmt.Errorf("server: http upload: %w", err))
		return
	}
	body, bodyW := io.Pipe()
	client := &stoppableBody{r: r.Body}
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		bodyW.CloseWithError(pumpUpload(bodyW, first, client))
	}()
	resp := &grpcResponse{}
	s.grpc.ServeHTTP(resp, gated(grpcRequest(r, uploadMethod, body)))
	// The call is over, perhaps refused before the body was read: stop the
	// pump, which may wait on the pipe or on a slow client. Closing the
	// pipe wakes the former, a read deadline in the past the latter. A body
	// not read to its end also ends the connection: net/http would read
	// the rest before the next request, from a client that may never send
	// it (the deadline cuts that short too), and the deadline ends its
	// watch on the connection with an error that cancels the context of
	// every later request on it.
	body.CloseWithError(errCallOver)
	if !client.stop() {
		// Over HTTP/2 the deadline is the stream's own, and Connection:
		// close would end every other stream on the connection.
		if r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
	<-pumped
	st := s.callStatus(r, resp)
	if st.Code() != codes.OK {
		writeHTTPStatus(w, st)
		return
	}
	out := &wormvaultv1.UploadArchiveResponse{}
	if len(resp.msgs) != 1 {
		s.writeHTTPError(w, r, fmt.Errorf("server: http upload: %d response messages", len(resp.msgs)))
		return
	}
	if err := proto.Unmarshal(resp.msgs[0], out); err != nil {
		s.writeHTTPError(w, r, fmt.Errorf("server: http upload: response: %w", err))
		return
	}
	s.writeHTTPJSON(w, r, out)
}

// pumpUpload writes the UploadArchive stream to w: the header message,
// then body in chunks. Only a clean end of the body (io.EOF) ends the
// stream cleanly; a body cut short (io.ErrUnexpectedEOF from net/http) is
// an error, so the upload aborts and stores nothing.
func pumpUpload(w io.Writer, header []byte, body io.Reader) error {
	if err := writeFrame(w, header); err != nil {
		return err
	}
	buf := make([]byte, httpUploadChunk)
	for {
		n, err := fill(body, buf)
		if n > 0 {
			msg, merr := proto.Marshal(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: buf[:n]}})
			if merr != nil {
				return merr
			}
			if werr := writeFrame(w, msg); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("server: http upload: reading the body: %w", err)
		}
	}
}

// stoppableBody is the client's request body as an upload's pump reads
// it. Once stopped it reads no more, and stop reports whether the body was
// read to its end.
type stoppableBody struct {
	r  io.Reader
	mu sync.Mutex
	// stopped: no read starts any more; eof: a read returned io.EOF.
	stopped, eof bool
}

func (b *stoppableBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	stopped := b.stopped
	b.mu.Unlock()
	if stopped {
		return 0, errCallOver
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.mu.Lock()
		b.eof = true
		b.mu.Unlock()
	}
	return n, err
}

// stop ends the reads and reports whether the body was read to its end.
func (b *stoppableBody) stop() (complete bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	return b.eof
}

// fill reads into buf until it is full or r fails; unlike io.ReadFull it
// returns r's error as is, so a body cut short is not mistaken for its end.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// uploadHeader builds the upload's header from the request: vault and key
// from the path, content_type from Content-Type, metadata from
// X-Wormvault-Meta-* headers, and the rest from query parameters named as
// the header's JSON fields.
func uploadHeader(r *http.Request, vaultName, key string) (*wormvaultv1.ArchiveHeader, error) {
	h := &wormvaultv1.ArchiveHeader{Vault: vaultName, Key: key, ContentType: r.Header.Get("Content-Type")}
	for name, vals := range r.Header {
		if meta, ok := strings.CutPrefix(name, MetadataHeaderPrefix); ok && meta != "" {
			if h.Metadata == nil {
				h.Metadata = map[string]string{}
			}
			h.Metadata[strings.ToLower(meta)] = strings.Join(vals, ",")
		}
	}
	for name, vals := range r.URL.Query() {
		if len(vals) != 1 {
			return nil, wormvault.InvalidArgument(name, "give the query parameter once")
		}
		v := vals[0]
		switch name {
		case "legal_hold":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, wormvault.InvalidArgument(name, "want true or false, got %q", v)
			}
			h.LegalHold = b
		case "retention.mode":
			m, ok := enumValue(wormvaultv1.RetentionMode_value, "RETENTION_MODE_", v)
			if !ok {
				return nil, wormvault.InvalidArgument(name, "want GOVERNANCE or COMPLIANCE, got %q", v)
			}
			retentionOf(h).Mode = wormvaultv1.RetentionMode(m)
		case "retention.retain_until_time":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, wormvault.InvalidArgument(name, "want an RFC 3339 time such as 2033-01-01T00:00:00Z, got %q", v)
			}
			retentionOf(h).RetainUntilTime = timestamppb.New(t)
		case "expected_sha256":
			d, err := decodeDigest(v)
			if err != nil {
				return nil, wormvault.InvalidArgument(name, "want 64 hex digits or base64 of 32 bytes")
			}
			h.ExpectedSha256 = d
		case "encryption.mode":
			m, ok := enumValue(wormvaultv1.EncryptionMode_value, "ENCRYPTION_MODE_", v)
			if !ok {
				return nil, wormvault.InvalidArgument(name, "want NONE, SERVICE, KMS or CUSTOMER, got %q", v)
			}
			encryptionOf(h).Mode = wormvaultv1.EncryptionMode(m)
		case "encryption.kms_key":
			encryptionOf(h).KmsKey = v
		default:
			return nil, wormvault.InvalidArgument(name, "unknown query parameter: known are legal_hold, retention.mode, "+
				"retention.retain_until_time, expected_sha256, encryption.mode, encryption.kms_key")
		}
	}
	return h, nil
}

func retentionOf(h *wormvaultv1.ArchiveHeader) *wormvaultv1.Retention {
	if h.Retention == nil {
		h.Retention = &wormvaultv1.Retention{}
	}
	return h.Retention
}

func encryptionOf(h *wormvaultv1.ArchiveHeader) *wormvaultv1.EncryptionInfo {
	if h.Encryption == nil {
		h.Encryption = &wormvaultv1.EncryptionInfo{}
	}
	return h.Encryption
}

// enumValue looks an enum value up by its full name or without its prefix,
// in any case ("compliance", "RETENTION_MODE_COMPLIANCE").
func enumValue(values map[string]int32, prefix, v string) (int32, bool) {
	v = strings.ToUpper(v)
	if !strings.HasPrefix(v, prefix) {
		v = prefix + v
	}
	n, ok := values[v]
	return n, ok && n != 0
}

// decodeDigest reads a SHA-256 written in hex (as sha256sum prints it) or
// base64 (as protobuf JSON writes bytes).
func decodeDigest(v string) ([]byte, error) {
	if len(v) == 64 {
		if d, err := hex.DecodeString(v); err == nil {
			return d, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(v); err == nil && len(d) == 32 {
			return d, nil
		}
	}
	return nil, errors.New("not a SHA-256")
}

// serveDownload streams DownloadArchive's bytes as the response body.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, vaultName, key string) {
	req := &wormvaultv1.DownloadArchiveRequest{Vault: vaultName, Key: key}
	for name, vals := range r.URL.Query() {
		if len(vals) != 1 {
			s.writeHTTPError(w, r, wormvault.InvalidArgument(name, "give the query parameter once"))
			return
		}
		var err error
		switch name {
		case "alt":
		case "version_id":
			req.VersionId = vals[0]
		case "offset":
			req.Offset, err = strconv.ParseInt(vals[0], 10, 64)
		case "length":
			req.Length, err = strconv.ParseInt(vals[0], 10, 64)
		default:
			err = errors.New("unknown query parameter: known are alt=media, version_id, offset, length")
		}
		if err != nil {
			s.writeHTTPError(w, r, wormvault.InvalidArgument(name, "%v", err))
			return
		}
	}
	// A Range header selects the bytes as offset and length do; a range
	// this route does not serve (a suffix, several ranges) is ignored and
	// the whole archive sent, as RFC 9110 allows.
	// With If-Range the client resumes a download of what it fetched
	// before: the range applies only if the version served still has that
	// ETag (its SHA-256), otherwise the whole archive is sent, so a newer
	// version's bytes are never spliced onto an older one's. A weak ETag
	// or a date is not a strong enough validator: the whole archive too.
	ranged := false
	if h := r.Header.Get("Range"); h != "" && req.Offset == 0 && req.Length == 0 {
		off, length, ok := parseByteRange(h)
		if v := r.Header.Get("If-Range"); ok && v != "" {
			req.IfRangeSha256, ok = strongETag(v)
		}
		if ok {
			req.Offset, req.Length, ranged = off, length, true
		}
	}
	msg, err := proto.Marshal(req)
	if err != nil {
		s.writeHTTPError(w, r, fmt.Errorf("server: http download: %w", err))
		return
	}
	var frame bytes.Buffer
	writeFrame(&frame, msg)
	started := false
	resp := &grpcResponse{onMessage: func(b []byte) error {
		var m wormvaultv1.DownloadArchiveResponse
		if err := proto.Unmarshal(b, &m); err != nil {
			return err
		}
		switch d := m.GetData().(type) {
		case *wormvaultv1.DownloadArchiveResponse_Archive:
			if started {
				return errors.New("server: http download: a second archive message")
			}
			started = true
			archiveHeaders(w.Header(), d.Archive, req)
			// An empty archive has no byte to range over, and a version
			// whose ETag is not the If-Range's was read whole.
			validated := len(req.GetIfRangeSha256()) == 0 || bytes.Equal(req.GetIfRangeSha256(), d.Archive.GetSha256())
			if !validated {
				req.Offset, req.Length = 0, 0
				archiveHeaders(w.Header(), d.Archive, req)
			}
			if n := readLength(d.Archive, req); ranged && validated && n > 0 {
				first := req.GetOffset()
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, first+n-1, d.Archive.GetSizeBytes()))
				w.WriteHeader(http.StatusPartialContent)
				return nil
			}
			w.WriteHeader(http.StatusOK)
		case *wormvaultv1.DownloadArchiveResponse_Chunk:
			if !started {
				return errors.New("server: http download: a chunk before the archive")
			}
			_, err := w.Write(d.Chunk)
			return err
		}
		return nil
	}}
	s.grpc.ServeHTTP(resp, grpcRequest(r, downloadMethod, io.NopCloser(&frame)))
	st := s.callStatus(r, resp)
	switch {
	case !started:
		if st.Code() == codes.OK {
			st = s.internalStatus(r, errors.New("server: http download: the call ended before the archive's metadata"))
		}
		if ranged && badField(st) == "offset" {
			// The range starts at or beyond the archive's end.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			b, _ := protojson.Marshal(st.Proto())
			w.Write(b)
			return
		}
		writeHTTPStatus(w, st)
	case st.Code() != codes.OK || resp.err != nil:
		// The status line and some bytes are out: cut the response, so
		// the client sees a short body (Content-Length was sent), never a
		// complete-looking one.
		s.log.WarnContext(r.Context(), "http download cut short", "vault", vaultName, "key", key, "code", st.Code().String(), "err", resp.err)
		panic(http.ErrAbortHandler)
	}
}

// archiveHeaders describes the archive's bytes in response headers.
func archiveHeaders(h http.Header, a *wormvaultv1.Archive, req *wormvaultv1.DownloadArchiveRequest) {
	ct := a.GetContentType()
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	if n := readLength(a, req); n >= 0 {
		h.Set("Content-Length", strconv.FormatInt(n, 10))
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("X-Wormvault-Version-Id", a.GetVersionId())
	if len(a.GetSha256()) > 0 {
		h.Set("X-Wormvault-Sha256", hex.EncodeToString(a.GetSha256()))
		h.Set("ETag", `"`+hex.EncodeToString(a.GetSha256())+`"`)
	}
	if t := a.GetCreateTime(); t != nil {
		h.Set("Last-Modified", t.AsTime().UTC().Format(http.TimeFormat))
	}
	// A download, never a page: see mediaContentSecurityPolicy.
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(a.GetKey())}))
	h.Set("Content-Security-Policy", mediaContentSecurityPolicy)
	h.Set("Cache-Control", "private, no-store")
}

// readLength is how many bytes a download of a as req asks returns.
func readLength(a *wormvaultv1.Archive, req *wormvaultv1.DownloadArchiveRequest) int64 {
	n := a.GetSizeBytes() - req.GetOffset()
	if l := req.GetLength(); l > 0 && l < n {
		n = l
	}
	return n
}

// parseByteRange reads a Range header of one byte range with a first
// byte, "bytes=FIRST-LAST" or "bytes=FIRST-", as an offset and a length
// (0: to the end). Any other form is not ok: a suffix ("bytes=-N"), several
// ranges, another unit, or a last byte before the first.
func parseByteRange(h string) (off, length int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	firstS, lastS, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found || firstS == "" {
		return 0, 0, false
	}
	first, err := strconv.ParseInt(firstS, 10, 64)
	if err != nil || first < 0 {
		return 0, 0, false
	}
	if lastS == "" {
		return first, 0, true
	}
	last, err := strconv.ParseInt(lastS, 10, 64)
	if err != nil || last < first || last == math.MaxInt64 {
		return 0, 0, false
	}
	return first, last - first + 1, true
}

// strongETag reads an If-Range value that is one of our strong ETags, the
// quoted hex SHA-256 of an archive; ok is false for anything else (a weak
// ETag, a date).
func strongETag(v string) (sha []byte, ok bool) {
	q, found := strings.CutPrefix(strings.TrimSpace(v), `"`)
	if !found {
		return nil, false
	}
	h, found := strings.CutSuffix(q, `"`)
	if !found || len(h) != 64 {
		return nil, false
	}
	sha, err := hex.DecodeString(h)
	return sha, err == nil
}

// badField is the field a BadRequest detail of st names, or "".
func badField(st *status.Status) string {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0].GetField()
		}
	}
	return ""
}

// grpcRequest is r turned into a gRPC call of method with body as its
// request stream. It keeps r's context, remote address, TLS state and
// headers (the bearer key, MFA and SSE-C metadata, the user agent), so the
// interceptors see the HTTP client as the peer.
func grpcRequest(r *http.Request, method string, body io.ReadCloser) *http.Request {
	in := r.Clone(r.Context())
	in.Method = http.MethodPost
	in.URL = &url.URL{Path: method}
	in.RequestURI = ""
	in.Proto, in.ProtoMajor, in.ProtoMinor = "HTTP/2", 2, 0
	in.Body, in.ContentLength, in.TransferEncoding, in.Trailer = body, -1, nil, nil
	for _, h := range []string{"Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade",
		"Grpc-Encoding", "Grpc-Accept-Encoding", "Range", "If-None-Match", "If-Modified-Since"} {
		in.Header.Del(h)
	}
	in.Header.Set("Content-Type", "application/grpc+proto")
	in.Header.Set("Te", "trailers")
	return in
}

// writeFrame writes msg as one gRPC length-prefixed message.
func writeFrame(w io.Writer, msg []byte) error {
	var prefix [5]byte
	binary.BigEndian.PutUint32(prefix[1:], uint32(len(msg)))
	if _, err := w.Write(prefix[:]); err != nil {
		return err
	}
	_, err := w.Write(msg)
	return err
}

// grpcResponse is the http.ResponseWriter grpc.Server.ServeHTTP answers an
// in-process call into: it parses the length-prefixed messages as they
// are written, and the status the handler leaves in the header map.
type grpcResponse struct {
	header http.Header
	buf    []byte
	// onMessage takes each message; when nil, messages are kept in msgs.
	onMessage func([]byte) error
	msgs      [][]byte
	// err is the first failure to take a message; the call then fails.
	err error
}

func (g *grpcResponse) Header() http.Header {
	if g.header == nil {
		g.header = http.Header{}
	}
	return g.header
}

func (g *grpcResponse) WriteHeader(int) {}

func (g *grpcResponse) Flush() {}

func (g *grpcResponse) Write(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	g.buf = append(g.buf, p...)
	off := 0
	for len(g.buf)-off >= 5 {
		if g.buf[off] != 0 {
			g.err = errors.New("server: in-process call: compressed or unknown message")
			return 0, g.err
		}
		n := int(binary.BigEndian.Uint32(g.buf[off+1 : off+5]))
		if n > maxResponseFrame {
			g.err = fmt.Errorf("server: in-process call: a %d-byte message", n)
			return 0, g.err
		}
		if len(g.buf)-off-5 < n {
			break
		}
		msg := g.buf[off+5 : off+5+n]
		if g.onMessage == nil {
			g.msgs = append(g.msgs, bytes.Clone(msg))
		} else if err := g.onMessage(msg); err != nil {
			g.err = err
			return 0, err
		}
		off += 5 + n
	}
	g.buf = g.buf[:copy(g.buf, g.buf[off:])]
	return len(p), nil
}

// callStatus is the final status of an in-process call; a failure of the
// call's plumbing itself goes through the one error→status map (toStatus),
// logged with its request id and never shown to the client in detail.
func (s *Server) callStatus(r *http.Request, g *grpcResponse) *status.Status {
	st, err := g.status()
	if err != nil {
		return s.internalStatus(r, err)
	}
	return st
}

// internalStatus is the status of a server fault err, via toStatus.
func (s *Server) internalStatus(r *http.Request, err error) *status.Status {
	return status.Convert(toStatus(r.Context(), s.log, err))
}

// status is the call's final status, as the handler left it in the
// header map (grpc-status, grpc-message, grpc-status-details-bin), or an
// error when the call left none or a malformed one.
func (g *grpcResponse) status() (*status.Status, error) {
	h := g.Header()
	c := h.Get("Grpc-Status")
	if c == "" {
		if g.err != nil {
			return nil, fmt.Errorf("server: in-process call: %w", g.err)
		}
		return nil, errors.New("server: in-process call: the call ended without a status")
	}
	if bin := h.Get("Grpc-Status-Details-Bin"); bin != "" {
		if b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(bin, "=")); err == nil {
			var sp spb.Status
			if proto.Unmarshal(b, &sp) == nil {
				return status.FromProto(&sp), nil
			}
		}
	}
	code, err := strconv.Atoi(c)
	if err != nil {
		return nil, fmt.Errorf("server: in-process call: malformed grpc-status %q", c)
	}
	msg := h.Get("Grpc-Message")
	if m, err := url.PathUnescape(msg); err == nil {
		msg = m
	}
	return status.New(codes.Code(code), msg), nil
}

// writeHTTPError answers a request refused before any call was made.
func (s *Server) writeHTTPError(w http.ResponseWriter, r *http.Request, err error) {
	writeHTTPStatus(w, status.Convert(toStatus(r.Context(), s.log, err)))
}

// writeHTTPStatus writes st as vanguard writes a REST error: the
// google.rpc.Status as JSON, under the HTTP code of its gRPC code.
func writeHTTPStatus(w http.ResponseWriter, st *status.Status) {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(st.Proto())
	if err != nil {
		b = []byte(`{"code": 13, "message": "internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpCodeOf(st.Code()))
	w.Write(b)
}

// writeHTTPJSON writes a response message as protobuf JSON, as vanguard's
// REST responses are.
func (s *Server) writeHTTPJSON(w http.ResponseWriter, r *http.Request, m proto.Message) {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		s.writeHTTPError(w, r, fmt.Errorf("server: http: encode the response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// httpCodeOf maps a gRPC code to the HTTP status of a REST response, as
// google.api.http transcoding (and vanguard) does.
func httpCodeOf(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}
