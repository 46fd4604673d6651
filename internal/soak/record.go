package soak

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/wormvault/wormvault"
)

// archive is one acknowledged upload as the client sent it. It never
// changes once acknowledged, so workers share it freely.
type archive struct {
	vault, key, versionID string
	size                  int64
	sha256                [32]byte
	mode                  wormvault.RetentionMode
}

// owned is an archive its uploading worker changes (and only it): what it
// has asked of the version since.
type owned struct {
	*archive
	// retainUntil is the latest retain-until asked for (GOVERNANCE ones
	// are extended): never lower than what the server holds.
	retainUntil time.Time
	// hold: the soak's legal hold was placed and not released;
	// holdUncertain: a hold change went unanswered, so either may be true.
	hold, holdUncertain bool
}

// maxSamples bounds the error messages kept for the report.
const maxSamples = 20

// recorder collects every outcome and every acknowledged upload. It is
// shared by the workers.
type recorder struct {
	start time.Time

	mu       sync.Mutex
	acked    []*archive
	ackBytes int64
	kinds    [numKinds]kindStats
	samples  []string // unexpected errors, the first maxSamples
	nUnexp   int
	corrupt  int
}

type kindStats struct {
	ok        int
	latencies []time.Duration // of successful operations
	bytes     int64           // moved by successful uploads and downloads
	errs      map[errKey]int
}

type errKey struct {
	code     codes.Code
	reason   string
	expected bool
}

func newRecorder() *recorder {
	r := &recorder{start: time.Now()}
	for i := range r.kinds {
		r.kinds[i].errs = map[errKey]int{}
	}
	return r
}

// ack records an acknowledged upload.
func (r *recorder) ack(a *archive) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acked = append(r.acked, a)
	r.ackBytes += a.size
}

// pick returns a random acknowledged upload, or nil.
func (r *recorder) pick(rng *rand.Rand) *archive {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.acked) == 0 {
		return nil
	}
	return r.acked[rng.IntN(len(r.acked))]
}

// observe records one operation's outcome and verdict.
func (r *recorder) observe(o outcome, v verdict, began, ended time.Time, bytes int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := &r.kinds[o.kind]
	if o.corrupt {
		r.corrupt++
	}
	switch v {
	case ok:
		k.ok++
		k.bytes += bytes
		k.latencies = append(k.latencies, ended.Sub(began))
		return
	case expectedErr:
		k.errs[errKey{o.code, o.reason, true}]++
		return
	}
	k.errs[errKey{o.code, o.reason, false}]++
	r.nUnexp++
	if len(r.samples) < maxSamples {
		what := fmt.Sprintf("%v", err)
		switch {
		case err == nil && o.kind == opDeniedDelete:
			what = "succeeded: WORM VIOLATION, a COMPLIANCE-protected version was deleted"
		case err == nil:
			what = "succeeded where it must not have"
		}
		r.samples = append(r.samples, fmt.Sprintf("%7.2fs %s (took %s): %s",
			began.Sub(r.start).Seconds(), o.kind, ended.Sub(began).Round(time.Millisecond), what))
	}
}

// unexpectedf records an unexpected failure that is no operation's outcome.
func (r *recorder) unexpectedf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nUnexp++
	if len(r.samples) < maxSamples {
		r.samples = append(r.samples, fmt.Sprintf(format, args...))
	}
}

// snapshot returns the acknowledged uploads.
func (r *recorder) snapshot() []*archive {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.acked)
}

// percentile returns the p-th percentile (0..1) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
