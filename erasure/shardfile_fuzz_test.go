package erasure

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/wormvault/wormvault"
)

// FuzzShardFile is the bitrot guarantee under hostile bytes. The committed
// golden object (4+2 shards, 64-byte blocks, 150 bytes) is placed on six
// drives with up to three of its shard files replaced by fuzzed bytes —
// mutations of real shard files, or anything at all. Then it is opened and
// read, whole and over a fuzzed range. Properties:
//   - nothing panics, and no read ever returns a byte that differs from the
//     original at its offset (failed reads return only verified stripes);
//   - with at most m = 2 files changed, the read succeeds and is exact
//     (unless a shard index is on two drives: see below);
//   - failures are the documented ones: ErrNotFound / ErrDataLoss at Open,
//     ErrDataLoss while reading.
//
// which picks the shards a, b and c replace (base 6 digits; an empty slice
// leaves its shard alone), and from 216 on also a shard file to delete, as
// on a lost drive; off and length pick the range.
func FuzzShardFile(f *testing.F) {
	n := goldenK + goldenM
	orig := make([][]byte, n)
	for j := range orig {
		b, err := os.ReadFile(goldenPath(j))
		if err != nil {
			f.Fatal(err)
		}
		orig[j] = b
	}
	want := goldenData()
	golden, _, err := decodeTrailer(orig[0])
	if err != nil {
		f.Fatal(err)
	}
	ts := newTestSet(f, f.TempDir(), goldenK, goldenM, goldenBlockSize, nil)
	for j := range n {
		if err := os.MkdirAll(ts.locals[j].bucketDir(goldenID), 0o750); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(orig[0], []byte(nil), []byte(nil), uint8(0), uint16(0), uint16(150))

	f.Fuzz(func(t *testing.T, a, b, c []byte, which uint8, off, length uint16) {
		files := make([][]byte, n)
		copy(files, orig)
		w := int(which)
		for _, repl := range [][]byte{a, b, c} {
			if j := w % n; len(repl) > 0 {
				files[j] = repl
			}
			w /= n
		}
		lost := -1
		if which >= 216 {
			lost = int(which-216) % n
		}
		changed := 0
		for j := range n {
			if j == lost {
				changed++
				if err := os.Remove(ts.shardPath(goldenID, j)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					t.Fatal(err)
				}
				continue
			}
			if !bytes.Equal(files[j], orig[j]) {
				changed++
			}
			if err := os.WriteFile(ts.shardPath(goldenID, j), files[j], 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// The trailer decoder meets the same bytes: whatever it accepts
		// re-encodes to them (the FuzzShardTrailer property). Count the
		// copies of each shard index of the golden write on the drives.
		copies := make([]int, n)
		duplicate := false
		for j := range n {
			if j == lost {
				continue
			}
			if tr, tl, err := decodeTrailer(files[j]); err == nil {
				if re := tr.appendTo(nil); !bytes.Equal(re, files[j][len(files[j])-tl:]) {
					t.Fatalf("shard %d: trailer re-encodes differently", j)
				}
				if tr.sameObject(&golden) {
					copies[tr.index]++
					duplicate = duplicate || copies[tr.index] > 1
				}
			}
		}

		lo := int64(off) % int64(len(want)+1)
		ln := int64(length) % (int64(len(want)) - lo + 1)
		for _, r := range []struct{ off, length int64 }{{0, -1}, {lo, ln}} {
			expect := want[r.off:]
			if r.length >= 0 {
				expect = expect[:r.length]
			}
			got, _, err := read(ts.Set, goldenID, r.off, r.length)
			if !bytes.HasPrefix(expect, got) {
				t.Fatalf("range [%d,+%d) with %d shards changed: read %q, want a prefix of %q (err %v)", r.off, r.length, changed, got, expect, err)
			}
			if err == nil {
				if len(got) != len(expect) {
					t.Fatalf("range [%d,+%d): read %d bytes without error, want %d", r.off, r.length, len(got), len(expect))
				}
				continue
			}
			// A shard index held by two drives is read from one of them
			// only (Open keeps one location per index, its home drive's
			// when that holds it), so a corrupt copy at home can hide an
			// intact one elsewhere: the read may then fail with fewer
			// than m files changed. Never with wrong bytes.
			if changed <= goldenM && !duplicate {
				t.Fatalf("range [%d,+%d) with only %d shard files changed: %v", r.off, r.length, changed, err)
			}
			if !errors.Is(err, wormvault.ErrDataLoss) && !errors.Is(err, ErrNotFound) {
				t.Fatalf("read error %v is neither ErrDataLoss nor ErrNotFound", err)
			}
		}
	})
}
