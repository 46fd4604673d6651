package erasure

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/minio/sha256-simd"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus in testdata")

func TestGeometry(t *testing.T) {
	tests := []struct {
		g                 geometry
		shard, stripes    int64
		lastLen, lastSize int
		dataLen           int64
	}{
		{geometry{k: 4, m: 2, blockSize: 64, size: 0}, 16, 0, 0, 0, 0},
		{geometry{k: 4, m: 2, blockSize: 64, size: 1}, 16, 1, 1, 1, 33},
		{geometry{k: 4, m: 2, blockSize: 64, size: 64}, 16, 1, 64, 16, 48},
		{geometry{k: 4, m: 2, blockSize: 64, size: 65}, 16, 2, 1, 1, 48 + 33},
		{geometry{k: 4, m: 2, blockSize: 64, size: 150}, 16, 3, 22, 6, 2*48 + 38},
		{geometry{k: 3, m: 1, blockSize: 100, size: 250}, 34, 3, 50, 17, 2*66 + 49},
		{geometry{k: 12, m: 4, blockSize: 1 << 20, size: 5}, 87382, 1, 5, 1, 33},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d+%d/%d/%d", tt.g.k, tt.g.m, tt.g.blockSize, tt.g.size), func(t *testing.T) {
			if got := int64(tt.g.shardSize()); got != tt.shard {
				t.Errorf("shardSize = %d, want %d", got, tt.shard)
			}
			if got := tt.g.stripes(); got != tt.stripes {
				t.Errorf("stripes = %d, want %d", got, tt.stripes)
			}
			if tt.stripes > 0 {
				last := tt.stripes - 1
				if got := tt.g.stripeLen(last); got != tt.lastLen {
					t.Errorf("stripeLen(last) = %d, want %d", got, tt.lastLen)
				}
				if got := tt.g.stripeShardSize(last); got != tt.lastSize {
					t.Errorf("stripeShardSize(last) = %d, want %d", got, tt.lastSize)
				}
			}
			if got := tt.g.dataLen(); got != tt.dataLen {
				t.Errorf("dataLen = %d, want %d", got, tt.dataLen)
			}
		})
	}
}

func sampleTrailer() trailer {
	return trailer{
		geometry: geometry{k: 4, m: 2, blockSize: 1 << 20, size: 123456789},
		index:    5, offset: 3,
		commitID: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		created:  time.Date(2025, 6, 1, 12, 0, 0, 42, time.UTC).UnixNano(),
		id:       "0190a5c2-7b1e-7cc3-9a1e-2f3b4c5d6e7f",
		meta:     []byte("caller meta"),
	}
}

func TestTrailerRoundTrip(t *testing.T) {
	for _, meta := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte{0xff}, MaxMetaSize)} {
		tr := sampleTrailer()
		tr.meta = meta
		b := tr.appendTo([]byte("block bytes before the trailer"))
		got, n, err := decodeTrailer(b)
		if err != nil {
			t.Fatalf("meta %d bytes: %v", len(meta), err)
		}
		if n != tr.encodedLen()+footerSize || !got.sameObject(&tr) || got.index != tr.index {
			t.Fatalf("round trip: got %+v n=%d", got.geometry, n)
		}
	}
}

func TestTrailerDecodeErrors(t *testing.T) {
	tr := sampleTrailer()
	good := tr.appendTo(nil)
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// reseal recomputes the checksum after a field change, so the field
	// check itself is what fails.
	reseal := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		body := b[:len(b)-footerSize-hashSize]
		sum := sha256.Sum256(body)
		copy(b[len(body):], sum[:])
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"footer only", good[len(good)-footerSize:], ErrCorrupt},
		{"truncated", good[5:], ErrCorrupt},
		{"bad footer magic", mut(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrCorrupt},
		{"bad trailer magic", mut(func(b []byte) []byte { b[0] ^= 1; return b }), ErrCorrupt},
		{"huge length", mut(func(b []byte) []byte { b[len(b)-10] = 0xff; return b }), ErrCorrupt},
		{"checksum", mut(func(b []byte) []byte { b[30] ^= 1; return b }), ErrCorrupt},
		{"meta byte", mut(func(b []byte) []byte { b[len(b)-footerSize-hashSize-1] ^= 1; return b }), ErrCorrupt},
		{"version 2", reseal(func(b []byte) { b[8] = 2 }), ErrUnsupported},
		{"hash 2", reseal(func(b []byte) { b[10] = 2 }), ErrUnsupported},
		{"code 2", reseal(func(b []byte) { b[11] = 2 }), ErrUnsupported},
		{"k 0", reseal(func(b []byte) { b[12] = 0 }), ErrCorrupt},
		{"m 0", reseal(func(b []byte) { b[13] = 0 }), ErrCorrupt},
		{"m > k", reseal(func(b []byte) { b[13] = 5 }), ErrCorrupt},
		{"index out of range", reseal(func(b []byte) { b[14] = 6 }), ErrCorrupt},
		{"offset out of range", reseal(func(b []byte) { b[15] = 6 }), ErrCorrupt},
		{"block size 0", reseal(func(b []byte) { copy(b[16:20], []byte{0, 0, 0, 0}) }), ErrCorrupt},
		{"negative size", reseal(func(b []byte) { b[27] = 0x80 }), ErrCorrupt},
		{"bad id", reseal(func(b []byte) { b[idOffset] = '/' }), ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeTrailer(tt.b)
			if !errors.Is(err, tt.want) {
				t.Fatalf("decodeTrailer = %v, want %v", err, tt.want)
			}
		})
	}
}

// The golden object: fixed geometry, input, id, meta, commit id and time.
const (
	goldenID        = "golden-object-0001"
	goldenK         = 4
	goldenM         = 2
	goldenBlockSize = 64
)

var (
	goldenMeta     = []byte(`{"vault":"photos","key":"2025/01/cat.jpg","version":1}`)
	goldenCommitID = [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	goldenCreated  = time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
)

func goldenData() []byte {
	// 150 bytes: two full stripes of 64 and a short one of 22.
	s := "WORM archives must read back bit-exact in twenty years. "
	return []byte((s + s + s)[:150])
}

func goldenPath(j int) string {
	return filepath.Join("testdata", "golden", fmt.Sprintf("v1-shard-%d.bin", j))
}

func TestGoldenWrite(t *testing.T) {
	ts := newTestSet(t, t.TempDir(), goldenK, goldenM, goldenBlockSize, nil)
	ts.now = func() time.Time { return goldenCreated }
	ts.newCommitID = func() ([16]byte, error) { return goldenCommitID, nil }
	put(t, ts.Set, goldenID, goldenData(), goldenMeta)
	for j := range goldenK + goldenM {
		got, err := os.ReadFile(ts.shardPath(goldenID, j))
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			os.MkdirAll(filepath.Dir(goldenPath(j)), 0o755)
			if err := os.WriteFile(goldenPath(j), got, 0o644); err != nil {
				t.Fatal(err)
			}
			writeSeed(t, fmt.Sprintf("golden-shard-%d", j), got)
			continue
		}
		want, err := os.ReadFile(goldenPath(j))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("shard %d differs from %s: the on-disk format changed; bump formatVersion and keep a reader for v1", j, goldenPath(j))
		}
	}
	if *update {
		tr := sampleTrailer()
		writeSeed(t, "sample-trailer", tr.appendTo(nil))
		tr.meta = nil
		writeSeed(t, "empty-meta", tr.appendTo(nil))
		writeSeed(t, "truncated", tr.appendTo(nil)[7:])
		writeSeed(t, "empty", nil)
	}
}

func writeSeed(t *testing.T, name string, b []byte) {
	dir := filepath.Join("testdata", "fuzz", "FuzzShardTrailer")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenRead reads the committed v1 shard set back: as placed, from
// rotated ("wrong") drives, and with m shards lost.
func TestGoldenRead(t *testing.T) {
	n := goldenK + goldenM
	for _, tc := range []struct {
		name   string
		rotate int
		lose   []int
	}{
		{"as placed", 0, nil},
		{"wrong drives", 1, nil},
		{"two lost", 0, []int{0, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestSet(t, t.TempDir(), goldenK, goldenM, 1<<20, nil)
			off := placementOffset(goldenID, n)
			for j := range n {
				b, err := os.ReadFile(goldenPath(j))
				if err != nil {
					t.Fatal(err)
				}
				tr, _, err := decodeTrailer(b)
				if err != nil {
					t.Fatal(err)
				}
				want := trailer{geometry: geometry{k: 4, m: 2, blockSize: 64, size: 150}, index: j, offset: off,
					commitID: goldenCommitID, created: goldenCreated.UnixNano(), id: goldenID, meta: goldenMeta}
				if !tr.sameObject(&want) || tr.index != j {
					t.Fatalf("shard %d trailer = %+v", j, tr)
				}
				if slices.Contains(tc.lose, j) {
					continue
				}
				d := ts.locals[(j+off+tc.rotate)%n]
				os.MkdirAll(d.bucketDir(goldenID), 0o750)
				if err := os.WriteFile(d.path(goldenID), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			o, err := ts.Open(context.Background(), goldenID)
			if err != nil {
				t.Fatal(err)
			}
			if o.Size() != 150 || !bytes.Equal(o.Meta(), goldenMeta) || !o.Info().Created.Equal(goldenCreated) {
				t.Fatalf("object = %+v meta %q", o.Info(), o.Meta())
			}
			got, _, err := read(ts.Set, goldenID, 0, -1)
			if err != nil || !bytes.Equal(got, goldenData()) {
				t.Fatalf("read = %q, %v", got, err)
			}
		})
	}
}

// FuzzShardTrailer feeds arbitrary shard tails to the trailer decoder: it
// must never panic, and whatever it accepts must re-encode to the same bytes.
func FuzzShardTrailer(f *testing.F) {
	tr := sampleTrailer()
	f.Add(tr.appendTo(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, n, err := decodeTrailer(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrUnsupported", err)
			}
			return
		}
		if re := got.appendTo(nil); !bytes.Equal(re, b[len(b)-n:]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", re, b[len(b)-n:])
		}
	})
}
