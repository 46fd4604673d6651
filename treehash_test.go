package wormvault

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// referenceTreeHash is the Glacier algorithm written plainly, level by level.
func referenceTreeHash(data []byte) []byte {
	if len(data) == 0 {
		s := sha256.Sum256(nil)
		return s[:]
	}
	var level [][]byte
	for off := 0; off < len(data); off += TreeChunkSize {
		end := min(off+TreeChunkSize, len(data))
		s := sha256.Sum256(data[off:end])
		level = append(level, s[:])
	}
	for len(level) > 1 {
		var next [][]byte
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			s := sha256.Sum256(append(append([]byte{}, level[i]...), level[i+1]...))
			next = append(next, s[:])
		}
		level = next
	}
	return level[0]
}

func TestTreeHash(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const M = TreeChunkSize
	for _, size := range []int{0, 1, M - 1, M, M + 1, 2 * M, 3*M + 7, 5 * M, 7 * M, 8 * M, 9*M - 1} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		th := NewTreeHash()
		// Feed in uneven pieces to exercise chunk boundaries.
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(300_000))
			th.Write(rest[:n])
			rest = rest[n:]
		}
		if got, want := th.Sum(), referenceTreeHash(data); !bytes.Equal(got, want) {
			t.Errorf("size %d: tree hash %x, want %x", size, got, want)
		}
	}
}
