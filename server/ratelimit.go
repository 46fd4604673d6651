package server

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/wormvault/wormvault"
)

// authLimiter slows down credential guessing: every failed authentication
// spends a token from the bucket of the key id tried and from the bucket of
// the remote address, and a caller whose bucket is empty is refused before
// its credential is even checked. Successful authentications cost nothing.
type authLimiter struct {
	every time.Duration // one failure forgiven per this long
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// maxAuthBuckets bounds memory under a flood of distinct key ids or
// addresses; past it the table starts over (a flood resets, it never grows).
const maxAuthBuckets = 100_000

func newAuthLimiter(every time.Duration, burst int) *authLimiter {
	return &authLimiter{every: every, burst: burst, buckets: map[string]*rate.Limiter{}}
}

func (l *authLimiter) bucket(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxAuthBuckets {
			l.buckets = map[string]*rate.Limiter{}
		}
		b = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.buckets[key] = b
	}
	return b
}

// check refuses when any of keys has no failures left, with how long to
// wait.
func (l *authLimiter) check(keys ...string) error {
	if l == nil {
		return nil
	}
	now := time.Now()
	for _, k := range keys {
		if k == "" {
			continue
		}
		b := l.bucket(k)
		if b.TokensAt(now) < 1 {
			wait := time.Duration((1 - b.TokensAt(now)) * float64(l.every))
			return &retryError{after: wait, err: fmt.Errorf("%w: too many failed authentications from this address or for this key; retry in %s", wormvault.ErrResourceExhausted, wait.Round(time.Second))}
		}
	}
	return nil
}

// failed records a failed authentication against every key.
func (l *authLimiter) failed(keys ...string) {
	if l == nil {
		return
	}
	for _, k := range keys {
		if k != "" {
			l.bucket(k).Allow()
		}
	}
}

// retryError carries a retry delay to the status mapping (google.rpc.RetryInfo).
type retryError struct {
	after time.Duration
	err   error
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }
