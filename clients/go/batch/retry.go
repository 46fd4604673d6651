package batch

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Backoff between attempts: exponential from retryBase, capped at retryMax,
// with jitter; a server's RetryInfo delay is honoured up to retryInfoMax.
const (
	retryBase    = 200 * time.Millisecond
	retryMax     = 10 * time.Second
	retryInfoMax = time.Minute
)

// transient reports whether err is worth another attempt and, when the
// server said how long to wait (google.rpc.RetryInfo), that delay.
//
// Unavailable, Aborted and DeadlineExceeded mean the attempt did not take
// effect or might not have; ResourceExhausted is retried only when the
// server sends RetryInfo, since without it the quota may be permanent (a
// full vault, say). Everything else, and a cancelled context, is
// permanent.
func transient(err error) (retry bool, wait time.Duration) {
	if err == nil || errors.Is(err, context.Canceled) {
		return false, 0
	}
	st, ok := status.FromError(err)
	if !ok {
		return false, 0
	}
	switch st.Code() {
	case codes.Unavailable, codes.Aborted, codes.DeadlineExceeded:
		return true, 0
	case codes.ResourceExhausted:
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				return true, min(max(ri.GetRetryDelay().AsDuration(), 0), retryInfoMax)
			}
		}
	}
	return false, 0
}

// backoff is the wait before attempt number attempt+1 (attempt counts
// from 0): exponential, capped, with "equal jitter" so that parallel
// workers that failed together do not retry together.
func backoff(attempt int) time.Duration {
	d := min(retryBase<<min(attempt, 16), retryMax)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends.
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
