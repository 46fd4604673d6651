package erasure

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/reedsolomon"
	"github.com/minio/sha256-simd"
)

// Benchmarks pair our code with an in-process ceiling on the same data:
//
//	BenchmarkCeilingEncode       reedsolomon.Encode + sha256-simd of every shard, all cores, no copies
//	BenchmarkEncode              our streaming Writer into drives that discard (in-process)
//	BenchmarkCeilingWrite        the pre-encoded shard files written in parallel (same writeback hints), fsync + rename + dir fsync
//	BenchmarkWrite               our Writer into LocalDrives in b.TempDir(), fsync and rename included
//	BenchmarkCeilingReconstruct  sha256 verify of k shards + ReconstructData, m data shards missing
//	BenchmarkReconstruct         our Reader over LocalDrives with m data shards deleted
//	BenchmarkRead                our Reader, healthy
var benchGeoms = []struct{ k, m int }{{4, 2}, {8, 4}, {12, 4}}

const (
	benchBlock = 1 << 20
	benchSize  = 64 << 20
)

func benchData() []byte {
	return randBytes(rand.New(rand.NewPCG(1, 1)), benchSize)
}

func BenchmarkCeilingEncode(b *testing.B) {
	data := benchData()
	for _, gm := range benchGeoms {
		b.Run(fmt.Sprintf("%d+%d", gm.k, gm.m), func(b *testing.B) {
			g := geometry{k: gm.k, m: gm.m, blockSize: benchBlock}
			enc, err := reedsolomon.New(gm.k, gm.m, reedsolomon.WithAutoGoroutines(g.shardSize()))
			if err != nil {
				b.Fatal(err)
			}
			// The data pre-split into stripes of k+m shards (no copy in the loop).
			S := g.shardSize()
			stripes := make([][][]byte, benchSize/benchBlock)
			for s := range stripes {
				buf := make([]byte, g.n()*S)
				copy(buf, data[s*benchBlock:(s+1)*benchBlock])
				stripes[s] = make([][]byte, g.n())
				for j := range stripes[s] {
					stripes[s][j] = buf[j*S : (j+1)*S]
				}
			}
			b.SetBytes(benchSize)
			b.ResetTimer()
			for range b.N {
				for _, shards := range stripes {
					if err := enc.Encode(shards); err != nil {
						b.Fatal(err)
					}
					hashParallel(shards)
				}
			}
		})
	}
}

// hashParallel hashes the shards on all cores.
func hashParallel(shards [][]byte) {
	var wg sync.WaitGroup
	p := runtime.GOMAXPROCS(0)
	for w := range p {
		wg.Go(func() {
			for j := w; j < len(shards); j += p {
				_ = sha256.Sum256(shards[j])
			}
		})
	}
	wg.Wait()
}

// discardDrive accepts shard writes and drops them: it measures the
// in-process pipeline without the disk.
type discardDrive struct{}

func (discardDrive) Name() string { return "discard" }
func (discardDrive) Create(context.Context, string) (ShardWriter, error) {
	return discardWriter{}, nil
}
func (discardDrive) Open(context.Context, string) (ShardReader, error) { return nil, fs.ErrNotExist }
func (discardDrive) Remove(context.Context, string) error              { return nil }
func (discardDrive) List(context.Context, uint8) ([]ShardEntry, error) { return nil, nil }
func (discardDrive) CleanTemp(context.Context) error                   { return nil }
func (discardDrive) Usage(context.Context) (DriveUsage, error)         { return DriveUsage{}, nil }

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) Sync() error                 { return nil }
func (discardWriter) Commit(bool) error           { return nil }
func (discardWriter) Abort() error                { return nil }

func benchWrite(b *testing.B, s *Set, data []byte, after func(id string)) {
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("bench-%d", i)
		w, err := s.Create(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		for p := data; len(p) > 0; p = p[benchBlock:] {
			if _, err := w.Write(p[:benchBlock]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Commit(ctx, nil); err != nil {
			b.Fatal(err)
		}
		if after != nil {
			b.StopTimer()
			after(id)
			b.StartTimer()
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	data := benchData()
	for _, gm := range benchGeoms {
		b.Run(fmt.Sprintf("%d+%d", gm.k, gm.m), func(b *testing.B) {
			drives := make([]Drive, gm.k+gm.m)
			for i := range drives {
				drives[i] = discardDrive{}
			}
			s, err := NewSet(drives, Config{DataShards: gm.k, ParityShards: gm.m, BlockSize: benchBlock})
			if err != nil {
				b.Fatal(err)
			}
			benchWrite(b, s, data, nil)
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	data := benchData()
	for _, gm := range benchGeoms {
		b.Run(fmt.Sprintf("%d+%d", gm.k, gm.m), func(b *testing.B) {
			ts := newTestSet(b, b.TempDir(), gm.k, gm.m, benchBlock, nil)
			benchWrite(b, ts.Set, data, func(id string) { ts.Delete(context.Background(), id) })
		})
	}
}

func BenchmarkCeilingWrite(b *testing.B) {
	data := benchData()
	for _, gm := range benchGeoms {
		b.Run(fmt.Sprintf("%d+%d", gm.k, gm.m), func(b *testing.B) {
			g := geometry{k: gm.k, m: gm.m, blockSize: benchBlock, size: benchSize}
			enc, err := reedsolomon.New(gm.k, gm.m)
			if err != nil {
				b.Fatal(err)
			}
			// Every shard file's block region, encoded and hashed up front.
			S := g.shardSize()
			files := make([][]byte, g.n())
			shards := make([][]byte, g.n())
			for s := range benchSize / benchBlock {
				buf := make([]byte, g.n()*S)
				copy(buf, data[s*benchBlock:(s+1)*benchBlock])
				for j := range shards {
					shards[j] = buf[j*S : (j+1)*S]
				}
				enc.Encode(shards)
				for j, sh := range shards {
					sum := sha256.Sum256(sh)
					files[j] = append(append(files[j], sum[:]...), sh...)
				}
			}
			dirs := make([]string, g.n())
			for j := range dirs {
				dirs[j] = b.TempDir()
			}
			b.SetBytes(benchSize)
			b.ResetTimer()
			for i := range b.N {
				var wg sync.WaitGroup
				for j, dir := range dirs {
					wg.Go(func() {
						tmp, final := fmt.Sprintf("%s/t%d", dir, i), fmt.Sprintf("%s/f%d", dir, i)
						f, err := os.Create(tmp)
						if err != nil {
							panic(err)
						}
						var hinted int64
						for off := 0; off < len(files[j]); {
							n := min(len(files[j])-off, hashSize+S)
							f.Write(files[j][off : off+n])
							off += n
							if int64(off)-hinted >= writebackChunk {
								startWriteback(f, hinted, int64(off)-hinted)
								hinted = int64(off)
							}
						}
						f.Sync()
						f.Close()
						os.Rename(tmp, final)
						syncDir(dir)
					})
				}
				wg.Wait()
				b.StopTimer()
				for _, dir := range dirs {
					os.Remove(fmt.Sprintf("%s/f%d", dir, i))
				}
				b.StartTimer()
			}
		})
	}
}

func BenchmarkCeilingReconstruct(b *testing.B) {
	data := benchData()
	for _, gm := range benchGeoms {
		b.Run(fmt.Sprintf("%d+%d", gm.k, gm.m), func(b *testing.B) {
			g := geometry{k: gm.k, m: gm.m, blockSize: benchBlock}
			enc, err := reedsolomon.New(gm.k, gm.m, reedsolomon.WithAutoGoroutines(g.shardSize()))
			if err != nil {
				b.Fatal(err)
			}
			S := g.shardSize()
			type stripe struct {
				shards [][]byte
				spare  [][]byte
			}
			stripes := make([]stripe, benchSize/benchBlock)
			for s := range stripes {
				buf := make([]byte, g.n()*S)
				copy(buf, data[s*benchBlock:(s+1)*benchBlock])
				st := stripe{shards: make([][]byte, g.n()), spare: make([][]byte, gm.m)}
				for j := range st.shards {
					st.shards[j] = buf[j*S : (j+1)*S]
				}
				enc.Encode(st.shards)
				for j := range st.spare {
					st.spare[j] = make([]byte, S)
				}
				stripes[s] = st
			}
			work := make([][]byte, g.n())
			b.SetBytes(benchSize)
			b.ResetTimer()
			for range b.N {
				for _, st := range stripes {
					copy(work, st.shards)
					for j := range gm.m { // lose the first m data shards
						work[j] = st.spare[j][:0]
					}
					hashParallel(work[gm.m:])
					if err := enc.ReconstructData(work); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func benchRead(b *testing.B, lose bool) {
	data := benchData()
	ctx := context.Background()
	for _, gm := range benchGeoms {
		b.Run(fmt.Sprintf("%d+%d", gm.k, gm.m), func(b *testing.B) {
			ts := newTestSet(b, b.TempDir(), gm.k, gm.m, benchBlock, nil)
			put(b, ts.Set, "r", data, nil)
			if lose {
				for j := range gm.m {
					os.Remove(ts.shardPath("r", j))
				}
			}
			b.SetBytes(benchSize)
			b.ResetTimer()
			for range b.N {
				o, err := ts.Open(ctx, "r")
				if err != nil {
					b.Fatal(err)
				}
				r, err := o.NewReader(ctx, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != benchSize {
					b.Fatal(n, err)
				}
				if r.(*Reader).Reconstructed() != lose {
					b.Fatal("unexpected reconstruction state")
				}
				r.Close()
			}
		})
	}
}

func BenchmarkReconstruct(b *testing.B) { benchRead(b, true) }
func BenchmarkRead(b *testing.B)        { benchRead(b, false) }
