package kms

import (
	"errors"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
)

func TestQuota(t *testing.T) {
	for _, tc := range []struct {
		name      string
		perSecond float64
		burst     int
	}{
		{"1000/s", 1000, 1000},
		{"2/s", 2, 2},
		{"one per 100s", 0.01, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQuota(tc.perSecond)
			for i := range tc.burst {
				if err := q.Take("a", t0); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			err := q.Take("a", t0)
			var qe *QuotaError
			if !errors.As(err, &qe) || !errors.Is(err, wormvault.ErrKMSQuotaExceeded) || !errors.Is(err, wormvault.ErrResourceExhausted) {
				t.Fatalf("over the burst: %v", err)
			}
			want := time.Duration(float64(time.Second) / tc.perSecond)
			if d := qe.RetryDelay(); d <= 0 || d > want+time.Millisecond {
				t.Fatalf("retry delay %s, want about %s", d, want)
			}
			if err := q.Take("b", t0); err != nil {
				t.Fatalf("another key shares the quota: %v", err)
			}
			if err := q.Take("a", t0.Add(qe.RetryDelay())); err != nil {
				t.Fatalf("after the retry delay: %v", err)
			}
		})
	}
}

func TestNoQuota(t *testing.T) {
	for _, r := range []float64{0, -1} {
		q := NewQuota(r)
		for range 10000 {
			if err := q.Take("a", t0); err != nil {
				t.Fatal(err)
			}
		}
	}
}
