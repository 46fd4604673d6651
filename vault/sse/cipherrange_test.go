package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/wormvault/wormvault"
)

// TestCiphertextRange: the range CiphertextRange names is exactly what a
// RangeReader reads besides the header, for ranges inside, across and at the
// edges of packages.
func TestCiphertextRange(t *testing.T) {
	key := randomKey(t)
	for _, size := range []int64{0, 1, P - 1, P, P + 1, 3*P + 500} {
		ct := encrypt(t, key, pattern(int(size)))
		ranges := [][2]int64{{0, 0}, {0, size}, {size, 0}, {0, min(1, size)}, {size / 2, 0}}
		if size > P {
			ranges = append(ranges, [2]int64{P - 1, 2}, [2]int64{P, min(P, size-P)}, [2]int64{P, size - P}, [2]int64{size - 1, 1}, [2]int64{1, size - 2}, [2]int64{P, 0})
		}
		for _, rg := range ranges {
			off, length := rg[0], rg[1]
			t.Run(fmt.Sprintf("%d/%d+%d", size, off, length), func(t *testing.T) {
				start, end, err := CiphertextRange(size, off, length)
				if err != nil {
					t.Fatal(err)
				}
				ra := &recordingReaderAt{r: bytes.NewReader(ct)}
				r, err := NewReader(ra, int64(len(ct)), key)
				if err != nil {
					t.Fatal(err)
				}
				rr, err := r.NewRangeReader(off, length)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadAll(rr); err != nil {
					t.Fatal(err)
				}
				lo, hi := int64(-1), int64(-1)
				for _, c := range ra.calls {
					o, n := parseCall(t, c)
					if o == 0 && n == HeaderSize {
						continue
					}
					if lo < 0 {
						lo = o
					}
					if o != max(hi, lo) {
						t.Errorf("read %s is not contiguous with the previous ones", c)
					}
					hi = o + n
				}
				if lo < 0 { // an empty range in a non-empty stream reads no package
					if length != 0 || size == 0 {
						t.Errorf("no package read for [%d, +%d)", off, length)
					}
					if end-start > sealedSize {
						t.Errorf("empty range maps to [%d, %d), more than one package", start, end)
					}
					return
				}
				if lo != start || hi != end {
					t.Errorf("CiphertextRange = [%d, %d), the reader read [%d, %d)", start, end, lo, hi)
				}
			})
		}
	}
	for _, bad := range [][3]int64{{10, -1, 1}, {10, 0, -1}, {10, 11, 0}, {10, 5, 6}, {-1, 0, 0}} {
		if _, _, err := CiphertextRange(bad[0], bad[1], bad[2]); !errors.Is(err, wormvault.ErrInvalidArgument) {
			t.Errorf("CiphertextRange%v: err = %v, want ErrInvalidArgument", bad, err)
		}
	}
}

func parseCall(t *testing.T, c string) (off, n int64) {
	t.Helper()
	a, b, _ := strings.Cut(c, "+")
	off, err1 := strconv.ParseInt(a, 10, 64)
	n, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad call record %q", c)
	}
	return off, n
}
