package client

import (
	"context"
	"crypto/tls"
	"iter"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// Defaults of a Client.
const (
	// DefaultRetries is how many times an idempotent call is retried on
	// Unavailable unless WithRetry says otherwise.
	DefaultRetries = 3
	// ChunkSize is the size of the chunks Upload sends.
	ChunkSize = 1 << 20
	// maxRecvMsgSize leaves room for the server's download chunks (up to
	// 4 MiB of payload plus framing).
	maxRecvMsgSize = 16 << 20
	backoffBase    = 100 * time.Millisecond
	backoffMax     = 3 * time.Second
)

// Client talks to one wormvault server. It is safe for concurrent use.
type Client struct {
	conn     *grpc.ClientConn
	vaults   wormvaultv1.VaultServiceClient
	archives wormvaultv1.ArchiveServiceClient
	admin    wormvaultv1.AdminServiceClient
	locks    wormvaultv1.LockServiceClient
	identity wormvaultv1.IdentityServiceClient
	audits   wormvaultv1.AuditServiceClient
	retries  int
	pageSize int32
}

type options struct {
	token    string
	mfa      string
	tls      *tls.Config
	insecure bool
	retries  int
	pageSize int32
}

// Option configures Dial.
type Option func(*options)

// WithToken authenticates every call with the access key "keyid.secret",
// sent as the metadata "authorization: Bearer keyid.secret".
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithTLS dials with TLS using cfg.
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) { o.tls = cfg; o.insecure = false }
}

// WithInsecure dials without transport security. It is the default when
// WithTLS is not given; the token then travels in clear, which is only
// acceptable on loopback.
func WithInsecure() Option {
	return func(o *options) { o.tls = nil; o.insecure = true }
}

// WithRetry sets how many times an idempotent call is retried when the
// server is Unavailable; 0 disables retries. Default DefaultRetries.
func WithRetry(n int) Option {
	return func(o *options) { o.retries = max(n, 0) }
}

// WithPageSize sets the page size the List iterators ask for; 0 leaves it to
// the server (100).
func WithPageSize(n int32) Option { return func(o *options) { o.pageSize = n } }

// Dial returns a Client for the server at addr ("host:port"). The connection
// is made lazily, on the first call; ctx bounds only the setup.
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	o := options{retries: DefaultRetries}
	for _, opt := range opts {
		opt(&o)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if addr == "" {
		return nil, errorf("dial: empty server address")
	}
	creds := insecure.NewCredentials()
	if o.tls != nil {
		creds = credentials.NewTLS(o.tls)
	}
	dopts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsgSize)),
	}
	if o.token != "" {
		if strings.IndexFunc(o.token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return nil, errorf("dial: token must not contain spaces or control characters")
		}
		dopts = append(dopts, grpc.WithPerRPCCredentials(bearer{token: o.token}))
	}
	if o.mfa != "" {
		if err := checkMFA(o.mfa); err != nil {
			return nil, errorf("dial: %w", err)
		}
		dopts = append(dopts,
			grpc.WithChainUnaryInterceptor(mfaUnary(o.mfa)),
			grpc.WithChainStreamInterceptor(mfaStream(o.mfa)))
	}
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, errorf("dial %s: %w", addr, err)
	}
	return &Client{
		conn:     conn,
		vaults:   wormvaultv1.NewVaultServiceClient(conn),
		archives: wormvaultv1.NewArchiveServiceClient(conn),
		admin:    wormvaultv1.NewAdminServiceClient(conn),
		locks:    wormvaultv1.NewLockServiceClient(conn),
		identity: wormvaultv1.NewIdentityServiceClient(conn),
		audits:   wormvaultv1.NewAuditServiceClient(conn),
		retries:  o.retries,
		pageSize: o.pageSize,
	}, nil
}

// Close releases the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Vaults returns the raw VaultService stub.
func (c *Client) Vaults() wormvaultv1.VaultServiceClient { return c.vaults }

// Archives returns the raw ArchiveService stub.
func (c *Client) Archives() wormvaultv1.ArchiveServiceClient { return c.archives }

// Admin returns the raw AdminService stub.
func (c *Client) Admin() wormvaultv1.AdminServiceClient { return c.admin }

// Locks returns the raw LockService stub.
func (c *Client) Locks() wormvaultv1.LockServiceClient { return c.locks }

// Identity returns the raw IdentityService stub.
func (c *Client) Identity() wormvaultv1.IdentityServiceClient { return c.identity }

// Audits returns the raw AuditService stub.
func (c *Client) Audits() wormvaultv1.AuditServiceClient { return c.audits }

// bearer sends the access key with every call. It does not demand transport
// security so that it works on a plaintext loopback connection.
type bearer struct{ token string }

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return false }

// retry calls fn until it succeeds, fails with something other than
// Unavailable, or the retries are spent. Use it for idempotent calls only.
func retry[T any](ctx context.Context, c *Client, fn func(context.Context) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := fn(ctx)
		if err == nil || attempt >= c.retries || !isUnavailable(err) {
			return v, convertError(err)
		}
		if werr := sleep(ctx, backoff(attempt)); werr != nil {
			return v, convertError(err)
		}
	}
}

// backoff returns the wait before retry number attempt+1: exponential with
// jitter, capped.
func backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt, 10)
	d = min(d, backoffMax)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pages turns a paged List RPC into an iterator. fetch returns one page and
// the next page token; each page is fetched with retries.
func pages[T any](ctx context.Context, c *Client, fetch func(ctx context.Context, token string) ([]T, string, error)) iter.Seq2[T, error] {
	type page struct {
		items []T
		next  string
	}
	return func(yield func(T, error) bool) {
		token := ""
		for {
			p, err := retry(ctx, c, func(ctx context.Context) (page, error) {
				items, next, err := fetch(ctx, token)
				return page{items, next}, err
			})
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.items {
				if !yield(it, nil) {
					return
				}
			}
			if p.next == "" || p.next == token {
				return
			}
			token = p.next
		}
	}
}
