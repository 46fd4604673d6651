package erasure

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
)

func TestHeal(t *testing.T) {
	const B = 4096
	const size = 3*B + 100 // 4 stripes
	g := geometry{k: 4, m: 2, blockSize: B, size: size}
	// flipBlock corrupts block s of shard j.
	flipBlock := func(t *testing.T, ts *testSet, j int, s int64) {
		flipByte(t, ts.shardPath("h", j), g.blockOffset(s)+hashSize+3)
	}
	tests := []struct {
		name    string
		damage  func(t *testing.T, ts *testSet) *testSet
		healed  int
		missing int
		corrupt int
	}{
		{"delete two shards", func(t *testing.T, ts *testSet) *testSet {
			os.Remove(ts.shardPath("h", 0))
			os.Remove(ts.shardPath("h", 5))
			return ts
		}, 2, 2, 0},
		{"corrupt blocks in two shards", func(t *testing.T, ts *testSet) *testSet {
			flipBlock(t, ts, 1, 0)
			flipBlock(t, ts, 1, 3)
			flipBlock(t, ts, 4, 2)
			return ts
		}, 2, 0, 2},
		{"corrupt block hash", func(t *testing.T, ts *testSet) *testSet {
			flipByte(t, ts.shardPath("h", 2), g.blockOffset(1))
			return ts
		}, 1, 0, 1},
		{"truncated shard", func(t *testing.T, ts *testSet) *testSet {
			os.Truncate(ts.shardPath("h", 3), 100)
			return ts
		}, 1, 1, 0},
		{"corrupt trailer", func(t *testing.T, ts *testSet) *testSet {
			p := ts.shardPath("h", 2)
			flipByte(t, p, fileSize(t, p)-40)
			return ts
		}, 1, 1, 0},
		{"two drives replaced", func(t *testing.T, ts *testSet) *testSet {
			os.RemoveAll(ts.dirs[1])
			os.RemoveAll(ts.dirs[4])
			return ts.reopen(t)
		}, 2, 2, 0},
		{"damage in four shards, at most two per stripe", func(t *testing.T, ts *testSet) *testSet {
			flipBlock(t, ts, 0, 0)
			flipBlock(t, ts, 1, 1)
			flipBlock(t, ts, 2, 2)
			flipBlock(t, ts, 3, 3)
			os.Remove(ts.shardPath("h", 5))
			return ts
		}, 5, 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestSet(t, t.TempDir(), 4, 2, B, nil)
			data := randBytes(rand.New(rand.NewPCG(1, 2)), size)
			put(t, ts.Set, "h", data, []byte("meta"))
			pristine := snapshot(t, ts.dirs)

			ts = tt.damage(t, ts)
			got, rebuilt, err := read(ts.Set, "h", 0, -1)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("degraded read: %v", err)
			}
			if !rebuilt && tt.name != "delete two shards" && tt.name != "two drives replaced" {
				// (deleted parity shards need no reconstruction)
				t.Fatalf("degraded read did not reconstruct")
			}

			res, err := ts.Heal(context.Background(), "h")
			if err != nil {
				t.Fatalf("Heal: %v", err)
			}
			if res.Healed != tt.healed || res.MissingShards != tt.missing || res.CorruptShards != tt.corrupt || res.Unrecoverable {
				t.Fatalf("Heal = %+v", res)
			}
			// Healing restores every shard byte for byte.
			if healed := snapshot(t, ts.dirs); !mapsEqual(pristine, healed) {
				t.Fatalf("shard files differ from the pristine write after heal")
			}
			before := totalRebuilt(ts.Set)
			got, rebuilt, err = read(ts.Set, "h", 0, -1)
			if err != nil || !bytes.Equal(got, data) || rebuilt || totalRebuilt(ts.Set) != before {
				t.Fatalf("read after heal: err %v rebuilt %v", err, rebuilt)
			}
			res, err = ts.Heal(context.Background(), "h")
			if err != nil || res.Healed != 0 || res.Shards != 6 || res.BlocksVerified != 24 || res.BytesVerified != 6*g.dataLen()-24*hashSize {
				t.Fatalf("second Heal = %+v, %v", res, err)
			}
		})
	}
}

func totalRebuilt(s *Set) int64 {
	var n int64
	for _, st := range s.Status(context.Background()) {
		n += st.RebuiltBlocks
	}
	return n
}

func TestHealUnrecoverable(t *testing.T) {
	const B = 4096
	ts := newTestSet(t, t.TempDir(), 4, 2, B, nil)
	put(t, ts.Set, "u", randBytes(rand.New(rand.NewPCG(1, 3)), 2*B), nil)
	g := geometry{k: 4, m: 2, blockSize: B, size: 2 * B}
	for _, j := range []int{0, 2, 5} {
		flipByte(t, ts.shardPath("u", j), g.blockOffset(1)+40)
	}
	os.Remove(ts.shardPath("u", 1)) // healable on its own, but not now
	before := snapshot(t, ts.dirs)
	res, err := ts.Heal(context.Background(), "u")
	if !errors.Is(err, wormvault.ErrDataLoss) || !res.Unrecoverable {
		t.Fatalf("Heal = %+v, %v", res, err)
	}
	if after := snapshot(t, ts.dirs); !mapsEqual(before, after) {
		t.Fatal("an unrecoverable heal changed the shards")
	}
	if _, err := ts.Heal(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Heal of a missing object: %v", err)
	}
}

func TestOnDegraded(t *testing.T) {
	const B = 4096
	ts := newTestSet(t, t.TempDir(), 2, 1, B, nil)
	var queue []string
	ts.cfg.OnDegraded = func(id string) { queue = append(queue, id) }
	data := randBytes(rand.New(rand.NewPCG(2, 3)), 3*B)
	put(t, ts.Set, "d", data, nil)
	if _, rebuilt, err := read(ts.Set, "d", 0, -1); err != nil || rebuilt || len(queue) != 0 {
		t.Fatalf("healthy read: %v rebuilt=%v queue=%v", err, rebuilt, queue)
	}
	flipByte(t, ts.shardPath("d", 1), 50)
	// A range that does not touch the damaged block needs no reconstruction.
	if _, rebuilt, err := read(ts.Set, "d", B, B); err != nil || rebuilt || len(queue) != 0 {
		t.Fatalf("read of intact stripe: %v rebuilt=%v queue=%v", err, rebuilt, queue)
	}
	got, rebuilt, err := read(ts.Set, "d", 0, -1)
	if err != nil || !bytes.Equal(got, data) || !rebuilt || !slices.Equal(queue, []string{"d"}) {
		t.Fatalf("degraded read: %v rebuilt=%v queue=%v", err, rebuilt, queue)
	}
	st := ts.Status(context.Background())
	d := placementOffset("d", 3)
	if st[(1+d)%3].CorruptBlocks != 1 || st[(1+d)%3].RebuiltBlocks != 1 {
		t.Fatalf("Status = %+v", st)
	}
	// Heal does not queue the object it heals.
	queue = nil
	if _, err := ts.Heal(context.Background(), "d"); err != nil || len(queue) != 0 {
		t.Fatalf("Heal: %v, queue %v", err, queue)
	}
}

func TestScrub(t *testing.T) {
	const B = 4096
	ts := newTestSet(t, t.TempDir(), 3, 2, B, nil)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	objects := map[string][]byte{}
	for _, id := range []string{"a", "b", "c", "d", "e", "lost"} {
		objects[id] = randBytes(rng, 1+rng.IntN(4*B))
		put(t, ts.Set, id, objects[id], nil)
	}
	flipByte(t, ts.shardPath("a", 0), 40)
	flipByte(t, ts.shardPath("b", 4), 40)
	flipByte(t, ts.shardPath("b", 1), 40)
	os.Remove(ts.shardPath("c", 2))
	for _, j := range []int{0, 1, 3} { // three of five: stripe 0 of "lost" is gone
		flipByte(t, ts.shardPath("lost", j), 40)
	}

	rep, err := ts.Scrub(ctx, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Archives != 6 || rep.CorruptBlocks != 6 || rep.MissingShards != 1 || rep.HealedShards != 4 ||
		!slices.Equal(rep.Unrecoverable, []string{"lost"}) || len(rep.Failed) != 0 || rep.BytesVerified == 0 {
		t.Fatalf("first scrub = %+v", rep)
	}
	rep, err = ts.Scrub(ctx, slices.Values([]string{"a", "b", "c", "d", "e", "gone"}), 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Archives != 5 || rep.CorruptBlocks != 0 || rep.HealedShards != 0 || len(rep.Unrecoverable) != 0 {
		t.Fatalf("second scrub = %+v", rep)
	}
	for id, data := range objects {
		if id == "lost" {
			continue
		}
		if got, rebuilt, err := read(ts.Set, id, 0, -1); err != nil || !bytes.Equal(got, data) || rebuilt {
			t.Fatalf("%s after scrub: %v rebuilt=%v", id, err, rebuilt)
		}
	}

	// Rate limiting: ~5*(5*4096+...) shard bytes at 100 KB/s take > 100ms.
	start := time.Now()
	rep, err = ts.Scrub(ctx, slices.Values([]string{"a", "b"}), 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Duration(float64(rep.BytesVerified) / 100_000 * float64(time.Second)); time.Since(start) < want*8/10 {
		t.Fatalf("scrub of %d bytes took %v, want >= %v", rep.BytesVerified, time.Since(start), want)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ts.Scrub(cctx, nil, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scrub: %v", err)
	}
}
