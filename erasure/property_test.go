package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/wormvault/wormvault"
	"pgregory.net/rapid"
)

// propCase is one random object written to a fresh Set.
type propCase struct {
	ts   *testSet
	k, m int
	g    geometry
	data []byte
	rng  *rand.Rand
	dir  string
}

func drawCase(rt *rapid.T, root string, minSize int) *propCase {
	k := rapid.IntRange(1, 6).Draw(rt, "k")
	m := rapid.IntRange(1, min(k, 4)).Draw(rt, "m")
	B := rapid.SampledFrom([]int{4096, 4099, 16384, 65536}).Draw(rt, "blockSize")
	size := rapid.OneOf(
		rapid.SampledFrom([]int{0, 1, B - 1, B, B + 1, 2 * B, 3*B - 1, 3*B + 1}),
		rapid.IntRange(0, 5*B),
	).Filter(func(n int) bool { return n >= minSize }).Draw(rt, "size")
	seed := rapid.Uint64().Draw(rt, "seed")
	dir, err := os.MkdirTemp(root, "case")
	if err != nil {
		rt.Fatalf("%v", err)
	}
	c := &propCase{k: k, m: m, dir: dir, rng: rand.New(rand.NewPCG(seed, 1)),
		g: geometry{k: k, m: m, blockSize: B, size: int64(size)}}
	c.ts = newTestSet(rt, dir, k, m, B, nil)
	c.data = randBytes(c.rng, size)
	put(rt, c.ts.Set, "obj", c.data, []byte("meta"))
	return c
}

// damageShard breaks shard j in one of several ways.
func (c *propCase) damageShard(rt *rapid.T, j int) string {
	path := c.ts.shardPath("obj", j)
	size := fileSize(rt, path)
	kind := rapid.SampledFrom([]string{"delete", "drive", "flip", "truncate", "trailer", "zero"}).Draw(rt, fmt.Sprintf("damage%d", j))
	switch kind {
	case "delete":
		os.Remove(path)
	case "drive":
		os.RemoveAll(filepath.Dir(filepath.Dir(filepath.Dir(path))))
	case "flip":
		// Distinct offsets: flipping one byte twice would restore it.
		flipped := map[int64]bool{}
		for range 1 + c.rng.IntN(3) {
			off := c.rng.Int64N(size)
			if !flipped[off] {
				flipped[off] = true
				flipByte(rt, path, off)
			}
		}
	case "truncate":
		os.Truncate(path, c.rng.Int64N(size))
	case "trailer":
		flipByte(rt, path, size-1-c.rng.Int64N(min(size, 100)))
	case "zero":
		os.WriteFile(path, nil, 0o600)
	}
	return kind
}

// checkRead reads a range and checks the result: on success bit-exact; on
// failure an ErrDataLoss with a correct prefix. It returns the error.
func (c *propCase) checkRead(rt *rapid.T, off, n int64) error {
	got, _, err := read(c.ts.Set, "obj", off, n)
	want := c.data[off : off+n]
	if err != nil {
		if !errors.Is(err, wormvault.ErrDataLoss) {
			rt.Fatalf("read [%d,+%d): %v does not wrap ErrDataLoss", off, n, err)
		}
		if !bytes.HasPrefix(want, got) {
			rt.Fatalf("read [%d,+%d) failed after returning %d wrong bytes", off, n, len(got))
		}
		return err
	}
	if !bytes.Equal(got, want) {
		rt.Fatalf("read [%d,+%d): wrong bytes", off, n)
	}
	return nil
}

func (c *propCase) randRange() (int64, int64) {
	off := c.rng.Int64N(c.g.size + 1)
	return off, c.rng.Int64N(c.g.size - off + 1)
}

// TestPropertyRecoverable: with up to m shards lost or damaged in any way,
// every read is bit-exact, and after a restart Heal restores every shard
// file byte for byte.
func TestPropertyRecoverable(t *testing.T) {
	root := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		c := drawCase(rt, root, 0)
		defer os.RemoveAll(c.dir)
		pristine := snapshot(rt, c.ts.dirs)
		bad := rapid.SliceOfNDistinct(rapid.IntRange(0, c.k+c.m-1), 0, c.m, rapid.ID[int]).Draw(rt, "bad")
		for _, j := range bad {
			c.damageShard(rt, j)
		}
		if err := c.checkRead(rt, 0, c.g.size); err != nil {
			rt.Fatalf("full read with %d damaged shards: %v", len(bad), err)
		}
		for range 3 {
			off, n := c.randRange()
			if err := c.checkRead(rt, off, n); err != nil {
				rt.Fatalf("%v", err)
			}
		}
		c.ts = c.ts.reopen(rt) // recreates removed drive directories
		res, err := c.ts.Heal(context.Background(), "obj")
		if err != nil || res.Healed != len(bad) {
			rt.Fatalf("Heal = %+v, %v", res, err)
		}
		if !mapsEqual(pristine, snapshot(rt, c.ts.dirs)) {
			rt.Fatalf("shards differ from the pristine write after Heal")
		}
	})
}

// TestPropertyDataLoss: with m+1 shards damaged in one stripe, reads that
// need the stripe fail with ErrDataLoss after a correct prefix and before
// any byte of that stripe; reads of other stripes still succeed.
func TestPropertyDataLoss(t *testing.T) {
	root := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		c := drawCase(rt, root, 1)
		defer os.RemoveAll(c.dir)
		g := c.g
		s := rapid.Int64Range(0, g.stripes()-1).Draw(rt, "stripe")
		bad := rapid.SliceOfNDistinct(rapid.IntRange(0, c.k+c.m-1), c.m+1, c.m+1, rapid.ID[int]).Draw(rt, "bad")
		wholeFile := rapid.Bool().Draw(rt, "wholeFile")
		S := g.stripeShardSize(s)
		for _, j := range bad {
			path := c.ts.shardPath("obj", j)
			if wholeFile && rapid.Bool().Draw(rt, fmt.Sprintf("delete%d", j)) {
				os.Remove(path)
				continue
			}
			flipByte(rt, path, g.blockOffset(s)+c.rng.Int64N(int64(hashSize+S)))
		}
		B := int64(g.blockSize)
		L := g.stripeLen(s)
		// Does a full read of stripe s need a damaged data shard?
		needed := slices.ContainsFunc(bad, func(j int) bool { return j < c.k && j*S < L })

		if _, err := c.ts.Open(context.Background(), "obj"); err != nil {
			// Whole shards deleted: fewer than k left. Not found if none is
			// left, data loss if some are.
			left := len(files(rt, c.ts.dirs...))
			if !errors.Is(err, ErrNotFound) || (left > 0) != errors.Is(err, wormvault.ErrDataLoss) {
				rt.Fatalf("Open with %d shard files left: %v", left, err)
			}
			return
		}
		got, _, err := read(c.ts.Set, "obj", 0, g.size)
		switch {
		case err == nil && needed:
			rt.Fatalf("full read succeeded with shards %v damaged in stripe %d", bad, s)
		case err == nil && !bytes.Equal(got, c.data):
			rt.Fatalf("full read: wrong bytes")
		case err != nil:
			if !errors.Is(err, wormvault.ErrDataLoss) {
				rt.Fatalf("full read: %v does not wrap ErrDataLoss", err)
			}
			if !bytes.HasPrefix(c.data, got) || int64(len(got)) > s*B {
				rt.Fatalf("full read returned %d bytes before failing in stripe %d (prefix ok: %v)", len(got), s, bytes.HasPrefix(c.data, got))
			}
		}
		// Ranges: before the stripe must succeed; ranges starting in it
		// return nothing or succeed bit-exact.
		if s > 0 {
			off := c.rng.Int64N(s * B)
			if err := c.checkRead(rt, off, c.rng.Int64N(s*B-off+1)); err != nil {
				rt.Fatalf("range before the damaged stripe: %v", err)
			}
		}
		off := s*B + c.rng.Int64N(int64(L))
		got, _, err = read(c.ts.Set, "obj", off, g.size-off)
		if err != nil && len(got) != 0 {
			rt.Fatalf("range in damaged stripe returned %d bytes before failing", len(got))
		}
		if err == nil && !bytes.Equal(got, c.data[off:]) {
			rt.Fatalf("range in damaged stripe: wrong bytes")
		}
		for range 3 {
			off, n := c.randRange()
			c.checkRead(rt, off, n)
		}
	})
}
