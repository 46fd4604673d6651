package journal

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// BenchmarkAppendParallel16 appends small entries from 16 goroutines to a
// journal over 6 drives (write quorum 3, as for 4+2), every append durable
// (fsynced) on a quorum: the group commit is what makes this fast.
func BenchmarkAppendParallel16(b *testing.B) {
	root := b.TempDir()
	dirs := make([]string, 6)
	for i := range dirs {
		dirs[i] = filepath.Join(root, fmt.Sprint("d", i), "journal")
	}
	j, err := Open(dirs, 3)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	const workers = 16
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < b.N; i += workers {
				if _, err := j.Append(ctx, meta(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
}
