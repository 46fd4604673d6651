package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestConcurrent runs writers, readers, heals and deletes of different
// objects at once on one Set (run it with -race).
func TestConcurrent(t *testing.T) {
	const B = 8192
	ts := newTestSet(t, t.TempDir(), 4, 2, B, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			for i := range 5 {
				id := fmt.Sprintf("g%d-%d", g, i)
				data := randBytes(rng, rng.IntN(6*B))
				w, err := ts.Create(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				w.Write(data)
				if _, err := w.Commit(ctx, []byte(id)); err != nil {
					errs <- err
					return
				}
				os.Remove(ts.shardPath(id, rng.IntN(6)))
				if got, _, err := read(ts.Set, id, 0, -1); err != nil || !bytes.Equal(got, data) {
					errs <- fmt.Errorf("%s: read: %v", id, err)
					return
				}
				if _, err := ts.Heal(ctx, id); err != nil {
					errs <- fmt.Errorf("%s: heal: %v", id, err)
					return
				}
				if i%2 == 0 {
					if err := ts.Delete(ctx, id); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			ts.Walk(ctx, func(string, time.Time) error { return nil })
			ts.Status(ctx)
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestNoGoroutineLeak: failed, aborted, cancelled and committed writes and
// closed readers leave no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	ctx := context.Background()
	ts := newTestSet(t, t.TempDir(), 3, 2, 4096, func(i int, d Drive) Drive {
		fd := newFaultDrive(d)
		if i < 2 {
			fd.failWrite = 10000
		}
		return fd
	})
	before := runtime.NumGoroutine()
	data := make([]byte, 50000)
	for range 5 {
		// Two drives fail mid-write: below quorum (4 of 5).
		w, err := ts.Create(ctx, "leak")
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Write(data)
		if err == nil {
			_, err = w.Commit(ctx, nil)
		}
		if !errors.Is(err, ErrWriteQuorum) {
			t.Fatalf("want ErrWriteQuorum, got %v", err)
		}
		w.Abort()

		cctx, cancel := context.WithCancel(ctx)
		w, _ = ts.Create(cctx, "leak")
		w.Write(data[:100])
		cancel()
		w.Write(data)
		w.Abort()

		w, _ = ts.Create(ctx, "leak")
		w.Write(data[:100])
		w.Abort()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
	if f := files(t, ts.dirs...); len(f) != 0 {
		t.Fatalf("files left: %v", f)
	}
}
