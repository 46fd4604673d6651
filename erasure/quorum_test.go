package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/wormvault/wormvault"
)

// TestWriteQuorumFaults fails drives at every stage of a write: the commit
// succeeds at or above the write quorum (and the object reads back), and
// below it fails with ErrWriteQuorum leaving no file behind.
func TestWriteQuorumFaults(t *testing.T) {
	const B = 4096
	// dataLen is the length of every shard's block region.
	stages := map[string]func(d *faultDrive, dataLen int64){
		"create":    func(d *faultDrive, _ int64) { d.failCreate = true },
		"first":     func(d *faultDrive, _ int64) { d.failWrite = 0 },
		"mid-write": func(d *faultDrive, n int64) { d.failWrite = n / 2 },
		"trailer":   func(d *faultDrive, n int64) { d.failWrite = n },
		"sync":      func(d *faultDrive, _ int64) { d.failSync = true },
		"rename":    func(d *faultDrive, _ int64) { d.failCommit = true },
	}
	tests := []struct {
		k, m, failures int
		ok             bool
	}{
		{2, 2, 0, true}, {2, 2, 1, true}, {2, 2, 2, false}, {2, 2, 4, false},
		{4, 2, 1, true}, {4, 2, 2, false},
		{2, 1, 1, true}, {2, 1, 2, false}, // m == 1: quorum is k
		{1, 1, 1, true},
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, tt := range tests {
		for stage, inject := range stages {
			size := 4*B + 1 + rng.IntN(B)
			dataLen := geometry{k: tt.k, m: tt.m, blockSize: B, size: int64(size)}.dataLen()
			name := fmt.Sprintf("%d+%d/%d-failed/%s", tt.k, tt.m, tt.failures, stage)
			t.Run(name, func(t *testing.T) {
				faulty := map[int]bool{}
				for _, i := range rng.Perm(tt.k + tt.m)[:tt.failures] {
					faulty[i] = true
				}
				ts := newTestSet(t, t.TempDir(), tt.k, tt.m, B, func(i int, d Drive) Drive {
					fd := newFaultDrive(d)
					if faulty[i] {
						inject(fd, dataLen)
					}
					return fd
				})
				data := randBytes(rng, size)
				ctx := context.Background()
				var err error
				w, err := ts.Create(ctx, "q")
				var info ObjectInfo
				if err == nil {
					if _, err = w.Write(data); err == nil {
						info, err = w.Commit(ctx, []byte("m"))
					}
					w.Abort()
				}
				if tt.ok {
					if err != nil {
						t.Fatalf("commit: %v", err)
					}
					if info.Shards != tt.k+tt.m-tt.failures {
						t.Fatalf("Shards = %d", info.Shards)
					}
					got, _, err := read(ts.Set, "q", 0, -1)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("read back: %v", err)
					}
					if n := len(files(t, ts.dirs...)); n != info.Shards {
						t.Fatalf("%d files on disk, want %d", n, info.Shards)
					}
					return
				}
				if !errors.Is(err, ErrWriteQuorum) {
					t.Fatalf("commit below quorum: %v, want ErrWriteQuorum", err)
				}
				if f := files(t, ts.dirs...); len(f) != 0 {
					t.Fatalf("files left after failed commit: %v", f)
				}
				if _, err := ts.Open(ctx, "q"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Open after failed commit: %v", err)
				}
			})
		}
	}
}

// TestReadFaults: drives that fail to open or read count as missing shards.
func TestReadFaults(t *testing.T) {
	var fds []*faultDrive
	ts := newTestSet(t, t.TempDir(), 3, 2, 4096, func(i int, d Drive) Drive {
		fd := newFaultDrive(d)
		fds = append(fds, fd)
		return fd
	})
	data := randBytes(rand.New(rand.NewPCG(1, 1)), 20000)
	put(t, ts.Set, "r", data, nil)
	fds[0].failRead = true
	fds[3].failOpen = true
	got, _, err := read(ts.Set, "r", 0, -1)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with 2 faulty drives: %v", err)
	}
	fds[1].failRead = true
	if _, _, err := read(ts.Set, "r", 0, -1); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("read with 3 faulty drives: %v", err)
	}
	if st := ts.Status(context.Background()); st[0].ReadErrors == 0 {
		t.Fatalf("read errors not counted: %+v", st[0])
	}
}

// TestCrash stops a write at a random operation (create, any block write,
// trailer write, fsync, any rename) as if the process died, then restarts:
// the object either reads back bit-exact or is not there (fewer than k
// shards), and CleanTemp + Delete leave no file.
func TestCrash(t *testing.T) {
	const B = 4096
	rng := rand.New(rand.NewPCG(4, 2))
	root := t.TempDir()
	outcomes := map[string]int{}
	for iter := range 150 {
		k := 1 + rng.IntN(4)
		m := 1 + rng.IntN(k)
		n := k + m
		size := rng.IntN(4 * B)
		stripes := (size + B - 1) / B
		// create + blocks + trailer + sync + commit per drive.
		ops := n * (stripes + 4)
		crash := &crasher{at: 1 + rng.IntN(ops+2)}
		dir := filepath.Join(root, fmt.Sprint(iter))
		ts := newTestSet(t, dir, k, m, B, func(i int, d Drive) Drive {
			fd := newFaultDrive(d)
			fd.crash = crash
			return fd
		})
		data := randBytes(rng, size)
		ctx := context.Background()
		committed := false
		if w, err := ts.Create(ctx, "c"); err == nil {
			if _, err := w.Write(data); err == nil {
				_, err = w.Commit(ctx, nil)
				committed = err == nil
			}
			w.Abort()
		}

		// Restart on the bare directories.
		after := ts.reopen(t)
		got, _, err := read(after.Set, "c", 0, -1)
		switch {
		case err == nil:
			if !bytes.Equal(got, data) {
				t.Fatalf("iter %d (crash at op %d): object reads back wrong bytes", iter, crash.at)
			}
			outcomes["readable"]++
		case errors.Is(err, ErrNotFound):
			if committed {
				t.Fatalf("iter %d: committed object not found after restart: %v", iter, err)
			}
			if errors.Is(err, wormvault.ErrDataLoss) {
				outcomes["partial"]++ // crashed between renames, fewer than k in place
			} else {
				outcomes["absent"]++
			}
		default:
			t.Fatalf("iter %d (crash at op %d): %v", iter, crash.at, err)
		}
		if err := after.CleanTemp(ctx); err != nil {
			t.Fatal(err)
		}
		if err := after.Delete(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		if f := files(t, after.dirs...); len(f) != 0 {
			t.Fatalf("iter %d: files left: %v", iter, f)
		}
		os.RemoveAll(dir)
	}
	if outcomes["readable"] == 0 || outcomes["absent"] == 0 || outcomes["partial"] == 0 {
		t.Fatalf("crash points not spread: %v", outcomes)
	}
	t.Logf("outcomes: %v", outcomes)
}
