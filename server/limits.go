package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// Limits bounds what the server takes on, so that overload is answered with
// RESOURCE_EXHAUSTED (and, when waiting helps, a google.rpc.RetryInfo delay)
// instead of growing memory. Zero disables a limit; DefaultLimits is what
// `wormvault serve` runs with.
//
// An upload's user metadata over vault.MaxMetadataBytes stays
// INVALID_ARGUMENT: it is wrong whatever the server's load, and names its
// field. A message over the receive size (a chunk over MaxChunkSize plus
// framing) is refused by gRPC itself with RESOURCE_EXHAUSTED.
type Limits struct {
	// MaxConcurrentStreams caps the calls open at once on one client
	// connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). The client
	// queues calls beyond it rather than failing them (default 256; 0:
	// unlimited).
	MaxConcurrentStreams uint32
	// MaxInFlight caps the calls being handled at once, server-wide; one
	// more is refused with RESOURCE_EXHAUSTED, reason TOO_MANY_REQUESTS,
	// and a retry delay. Health checks and reflection are not counted
	// (default 1024; 0: unlimited).
	MaxInFlight int
	// MaxConcurrentUploads caps the uploads in progress, server-wide; each
	// holds up to a chunk (4 MiB) and an erasure stripe in memory. One more
	// is refused like MaxInFlight (default 64; 0: unlimited).
	MaxConcurrentUploads int
	// MaxHeaderBytes caps a call's request metadata, counted as HTTP/2
	// does (name + value + 32 bytes per field); more is refused with
	// RESOURCE_EXHAUSTED, reason REQUEST_TOO_LARGE. The transport itself
	// drops a header list over headerListCap(MaxHeaderBytes) while decoding
	// it, without holding it in memory; gRPC clients then see INTERNAL, as
	// gRPC reports its own header limit (default 16 KiB; 0: no check, and
	// gRPC's default 16 MiB transport cap).
	MaxHeaderBytes int
	// UploadBytesPerSecond is each principal's upload rate. The bytes of an
	// upload are charged as they arrive, and an upload in progress is never
	// cut off; a principal whose bucket is in debt has new uploads refused
	// with RESOURCE_EXHAUSTED, reason RATE_LIMITED, and the time until the
	// debt is paid (0: unlimited).
	UploadBytesPerSecond int64
	// UploadBurstBytes is how many bytes a principal may upload at once
	// before the rate applies (0: one second's worth).
	UploadBurstBytes int64
	// UploadsPerSecond is each principal's rate of new uploads; beyond it,
	// RESOURCE_EXHAUSTED, reason RATE_LIMITED, with a retry delay (0:
	// unlimited).
	UploadsPerSecond float64
	// UploadBurst is how many uploads a principal may start at once before
	// UploadsPerSecond applies (0: one second's worth, at least 1).
	UploadBurst int
}

// DefaultLimits bound memory under load and leave rates unlimited.
func DefaultLimits() Limits {
	return Limits{
		MaxConcurrentStreams: 256,
		MaxInFlight:          1024,
		MaxConcurrentUploads: 64,
		MaxHeaderBytes:       16 << 10,
	}
}

// maxHeaderBytesLimit keeps headerListCap within uint32.
const maxHeaderBytesLimit = 64 << 20

func (l Limits) validate() error {
	switch {
	case l.MaxInFlight < 0, l.MaxConcurrentUploads < 0, l.UploadBurst < 0:
		return errors.New("server: config: Limits.MaxInFlight, MaxConcurrentUploads and UploadBurst must not be negative")
	case l.MaxHeaderBytes < 0 || l.MaxHeaderBytes > maxHeaderBytesLimit:
		return fmt.Errorf("server: config: Limits.MaxHeaderBytes must be 0 to %d", maxHeaderBytesLimit)
	case l.UploadBytesPerSecond < 0 || l.UploadBurstBytes < 0:
		return errors.New("server: config: Limits.UploadBytesPerSecond and UploadBurstBytes must not be negative")
	case l.UploadsPerSecond < 0 || math.IsNaN(l.UploadsPerSecond) || math.IsInf(l.UploadsPerSecond, 0):
		return errors.New("server: config: Limits.UploadsPerSecond must be a finite number, not negative")
	}
	return nil
}

// headerListCap is the transport's hard cap on a request's header list:
// room above MaxHeaderBytes so that a moderately oversized request gets the
// precise RESOURCE_EXHAUSTED, while a huge one is dropped undecoded.
func headerListCap(maxHeaderBytes int) uint32 { return uint32(4*maxHeaderBytes + 4<<10) }

// headerListOption sets the transport's header list cap (gRPC's default
// when MaxHeaderBytes is 0).
func (l Limits) headerListOption() grpc.ServerOption {
	if l.MaxHeaderBytes == 0 {
		return grpc.EmptyServerOption{}
	}
	return grpc.MaxHeaderListSize(headerListCap(l.MaxHeaderBytes))
}

// busyRetry is the retry delay suggested when the server is at MaxInFlight
// or MaxConcurrentUploads: calls are short, a slot frees up soon.
const busyRetry = 250 * time.Millisecond

// maxPrincipalBuckets bounds the rate table; past it the table starts over.
// Principals are authenticated, so it only fills on a very large install.
const maxPrincipalBuckets = 100_000

// limiter enforces Limits in interceptors that run after authentication, so
// that per-principal limits know the principal.
type limiter struct {
	cfg     Limits
	calls   atomic.Int64
	uploads atomic.Int64

	mu         sync.Mutex
	principals map[string]*uploadBuckets
}

// uploadBuckets are one principal's upload rates; nil fields are unlimited.
type uploadBuckets struct {
	bytes *rate.Limiter
	count *rate.Limiter
}

func newLimiter(cfg Limits) *limiter {
	return &limiter{cfg: cfg, principals: map[string]*uploadBuckets{}}
}

// acquire takes a slot of counter under limit (0: unlimited).
func acquire(counter *atomic.Int64, limit int, what string) (release func(), err error) {
	n := counter.Add(1)
	if limit > 0 && n > int64(limit) {
		counter.Add(-1)
		return nil, &retryError{after: busyRetry, err: fmt.Errorf("%w: the server is handling %d %s, its limit; retry shortly", wormvault.ErrTooManyRequests, limit, what)}
	}
	return func() { counter.Add(-1) }, nil
}

// admit checks the request's header size and takes an in-flight slot.
func (l *limiter) admit(ctx context.Context) (release func(), err error) {
	if limit := l.cfg.MaxHeaderBytes; limit > 0 {
		md, _ := metadata.FromIncomingContext(ctx)
		if n := headerBytes(md); n > limit {
			return nil, fmt.Errorf("%w: request metadata is %d bytes, at most %d accepted", wormvault.ErrRequestTooLarge, n, limit)
		}
	}
	return acquire(&l.calls, l.cfg.MaxInFlight, "calls")
}

// headerBytes counts metadata as HTTP/2 counts a header list.
func headerBytes(md metadata.MD) int {
	n := 0
	for k, vs := range md {
		for _, v := range vs {
			n += len(k) + len(v) + 32
		}
	}
	return n
}

func (l *limiter) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if unauthenticated(info.FullMethod) {
		return handler(ctx, req)
	}
	release, err := l.admit(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return handler(ctx, req)
}

func (l *limiter) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if unauthenticated(info.FullMethod) {
		return handler(srv, ss)
	}
	ctx := ss.Context()
	release, err := l.admit(ctx)
	if err != nil {
		return err
	}
	defer release()
	if info.FullMethod != wormvaultv1.ArchiveService_UploadArchive_FullMethodName {
		return handler(srv, ss)
	}
	releaseUpload, err := acquire(&l.uploads, l.cfg.MaxConcurrentUploads, "uploads")
	if err != nil {
		return err
	}
	defer releaseUpload()
	b := l.buckets(callerOf(ctx).Principal)
	if err := b.admit(time.Now()); err != nil {
		return err
	}
	if b.bytes == nil {
		return handler(srv, ss)
	}
	return handler(srv, &chargedStream{ServerStream: ss, bytes: b.bytes})
}

// buckets returns principal's rate buckets, creating them on first use.
func (l *limiter) buckets(principal string) *uploadBuckets {
	if l.cfg.UploadBytesPerSecond == 0 && l.cfg.UploadsPerSecond == 0 {
		return &uploadBuckets{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.principals[principal]
	if !ok {
		if len(l.principals) >= maxPrincipalBuckets {
			l.principals = map[string]*uploadBuckets{}
		}
		b = &uploadBuckets{}
		if r := l.cfg.UploadBytesPerSecond; r > 0 {
			burst := l.cfg.UploadBurstBytes
			if burst == 0 {
				burst = r
			}
			b.bytes = rate.NewLimiter(rate.Limit(r), int(min(burst, math.MaxInt32)))
		}
		if r := l.cfg.UploadsPerSecond; r > 0 {
			burst := l.cfg.UploadBurst
			if burst == 0 {
				burst = max(1, int(math.Ceil(r)))
			}
			b.count = rate.NewLimiter(rate.Limit(r), burst)
		}
		l.principals[principal] = b
	}
	return b
}

// admit refuses a new upload while the principal's bytes are in debt or it
// has no upload left in its bucket. The byte check comes first and spends
// nothing, so a refused upload costs no upload token.
func (b *uploadBuckets) admit(now time.Time) error {
	if b.bytes != nil {
		if tokens := b.bytes.TokensAt(now); tokens < 0 {
			wait := time.Duration(-tokens / float64(b.bytes.Limit()) * float64(time.Second))
			return &retryError{after: wait, err: fmt.Errorf("%w: uploads over %d bytes/s for this principal; retry in %s",
				wormvault.ErrRateLimited, int64(b.bytes.Limit()), wait.Round(time.Millisecond))}
		}
	}
	if b.count != nil {
		r := b.count.ReserveN(now, 1)
		if wait := r.DelayFrom(now); wait > 0 {
			r.CancelAt(now)
			return &retryError{after: wait, err: fmt.Errorf("%w: more than %g uploads/s for this principal; retry in %s",
				wormvault.ErrRateLimited, float64(b.count.Limit()), wait.Round(time.Millisecond))}
		}
	}
	return nil
}

// chargedStream charges the bytes of each upload chunk to the principal's
// bucket as it arrives. It never waits: the upload runs at the speed the
// client sends, and the debt it leaves refuses the principal's next ones.
type chargedStream struct {
	grpc.ServerStream
	bytes *rate.Limiter
}

func (s *chargedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err != nil {
		return err
	}
	if req, ok := m.(*wormvaultv1.UploadArchiveRequest); ok {
		charge(s.bytes, time.Now(), len(req.GetChunk()))
	}
	return nil
}

// charge takes n tokens from l, going into debt if need be. A reservation
// cannot exceed the burst, so large counts are taken in burst-sized parts.
func charge(l *rate.Limiter, now time.Time, n int) {
	burst := l.Burst()
	for n > 0 {
		k := min(n, burst)
		l.ReserveN(now, k)
		n -= k
	}
}

// InFlight reports the calls being handled and the uploads in progress, as
// counted against Limits.MaxInFlight and Limits.MaxConcurrentUploads.
func (s *Server) InFlight() (calls, uploads int) {
	return int(s.limits.calls.Load()), int(s.limits.uploads.Load())
}
