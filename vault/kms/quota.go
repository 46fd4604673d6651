package kms

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/wormvault/wormvault"
)

// Quota is each key's request quota: a token bucket per key name that
// refills at the configured rate and holds at most one second's worth
// (at least one request). Every data key generated or unwrapped costs one
// token. A nil *Quota allows everything.
type Quota struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewQuota returns a quota of perSecond requests per second per key; zero
// or less means no quota (nil).
func NewQuota(perSecond float64) *Quota {
	if perSecond <= 0 {
		return nil
	}
	burst := 1
	if perSecond >= 1 {
		burst = int(math.Min(perSecond, math.MaxInt32))
	}
	return &Quota{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*rate.Limiter{}}
}

// Take spends one request of key's quota at now, or returns a
// *QuotaError (wrapping wormvault.ErrKMSQuotaExceeded) saying how long
// until one is available. Buckets exist only for keys that are used, so
// they are bounded by the number of keys.
func (q *Quota) Take(key string, now time.Time) error {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	b, ok := q.buckets[key]
	if !ok {
		b = rate.NewLimiter(q.limit, q.burst)
		q.buckets[key] = b
	}
	q.mu.Unlock()
	if b.AllowN(now, 1) {
		return nil
	}
	wait := time.Duration((1 - b.TokensAt(now)) / float64(q.limit) * float64(time.Second))
	if wait < time.Millisecond {
		wait = time.Millisecond
	}
	return &QuotaError{Key: key, Delay: wait}
}

// QuotaError is a refusal by the quota: RetryDelay says when to try again.
type QuotaError struct {
	Key   string
	Delay time.Duration
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("%v: KMS key %q is over its request quota; retry in %s", wormvault.ErrKMSQuotaExceeded, e.Key, e.Delay.Round(time.Millisecond))
}

// Unwrap makes errors.Is(err, wormvault.ErrKMSQuotaExceeded) true.
func (e *QuotaError) Unwrap() error { return wormvault.ErrKMSQuotaExceeded }

// RetryDelay is how long until the key has a request to spend.
func (e *QuotaError) RetryDelay() time.Duration { return e.Delay }
