package erasure

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/minio/sha256-simd"
)

// Format constants. Changing any of them changes the bytes on disk: bump
// formatVersion and keep a decoder for every version ever written.
const (
	formatVersion = 1

	// hashSHA256 names the bitrot hash in front of every shard block.
	hashSHA256 = 1
	// codeRSVandermonde names the erasure code: Reed-Solomon over GF(2^8)
	// with the polynomial 0x11d, systematic Vandermonde matrix (the
	// klauspost/reedsolomon default; Backblaze-compatible).
	codeRSVandermonde = 1

	hashSize     = sha256.Size // bytes of bitrot hash in front of each block
	footerSize   = 16          // trailer length (8) + footer magic (8)
	trailerFixed = 58 + hashSize
	idOffset     = 54
)

var (
	trailerMagic = [8]byte{'W', 'V', 'S', 'H', 'A', 'R', 'D', 0}
	footerMagic  = [8]byte{'W', 'V', 'S', 'H', 'E', 'N', 'D', 0}
)

// maxTrailerSize bounds the trailer a decoder accepts.
const maxTrailerSize = trailerFixed + MaxIDLen + MaxMetaSize

// geometry is how an object's bytes map onto shard blocks.
type geometry struct {
	k, m      int
	blockSize int   // object bytes per stripe
	size      int64 // object bytes
}

func (g geometry) n() int { return g.k + g.m }

// shardSize is the shard block size of a full stripe: ceil(blockSize/k).
func (g geometry) shardSize() int { return (g.blockSize + g.k - 1) / g.k }

// stride is the on-disk size of one full block: hash + shard block.
func (g geometry) stride() int { return hashSize + g.shardSize() }

// stripes is the number of stripes: ceil(size/blockSize).
func (g geometry) stripes() int64 {
	return (g.size + int64(g.blockSize) - 1) / int64(g.blockSize)
}

// stripeLen is the number of object bytes in stripe s.
func (g geometry) stripeLen(s int64) int {
	return int(min(g.size-s*int64(g.blockSize), int64(g.blockSize)))
}

// stripeShardSize is the shard block size of stripe s: ceil(stripeLen/k).
// Only the last stripe may be shorter than shardSize.
func (g geometry) stripeShardSize(s int64) int {
	return (g.stripeLen(s) + g.k - 1) / g.k
}

// blockOffset is where block s starts in a shard file. Every block before
// the last is full, so this is a multiplication.
func (g geometry) blockOffset(s int64) int64 { return s * int64(g.stride()) }

// dataLen is the length of the block region of every shard file.
func (g geometry) dataLen() int64 {
	full := g.size / int64(g.blockSize)
	n := full * int64(g.stride())
	if r := g.size % int64(g.blockSize); r > 0 {
		n += int64(hashSize) + (r+int64(g.k)-1)/int64(g.k)
	}
	return n
}

// validate checks what both Config and a decoded trailer must satisfy.
func (g geometry) validate() error {
	switch {
	case g.k < 1:
		return fmt.Errorf("data shards %d: want at least 1", g.k)
	case g.m < 1 || g.m > g.k:
		return fmt.Errorf("parity shards %d: want 1..data shards (%d)", g.m, g.k)
	case g.k+g.m > MaxShards:
		return fmt.Errorf("%d+%d shards: want at most %d in all", g.k, g.m, MaxShards)
	case g.blockSize < 1 || g.blockSize > MaxBlockSize:
		return fmt.Errorf("block size %d: want 1..%d", g.blockSize, MaxBlockSize)
	case g.size < 0 || g.size > MaxObjectSize:
		return fmt.Errorf("object size %d out of range 0..%d", g.size, int64(MaxObjectSize))
	}
	return nil
}

// trailer is the self-description at the end of every shard file.
type trailer struct {
	geometry
	index    int      // shard index, 0..k+m-1; 0..k-1 are data shards
	offset   int      // placement offset: shard i was placed on drive (i+offset) mod (k+m)
	commitID [16]byte // random, the same in every shard of one write
	created  int64    // Unix nanoseconds at commit
	id       string
	meta     []byte
}

// size is the encoded length of the trailer without the footer.
func (t *trailer) encodedLen() int { return trailerFixed + len(t.id) + len(t.meta) }

// appendTo appends the trailer and the footer to b.
func (t *trailer) appendTo(b []byte) []byte {
	start := len(b)
	le := binary.LittleEndian
	b = append(b, trailerMagic[:]...)
	b = le.AppendUint16(b, formatVersion)
	b = append(b, hashSHA256, codeRSVandermonde, byte(t.k), byte(t.m), byte(t.index), byte(t.offset))
	b = le.AppendUint32(b, uint32(t.blockSize))
	b = le.AppendUint64(b, uint64(t.size))
	b = append(b, t.commitID[:]...)
	b = le.AppendUint64(b, uint64(t.created))
	b = le.AppendUint16(b, uint16(len(t.id)))
	b = append(b, t.id...)
	b = le.AppendUint32(b, uint32(len(t.meta)))
	b = append(b, t.meta...)
	sum := sha256.Sum256(b[start:])
	b = append(b, sum[:]...)
	b = le.AppendUint64(b, uint64(len(b)-start))
	return append(b, footerMagic[:]...)
}

// trailerLen reads the trailer length from the footer, the last footerSize
// bytes of tail.
func trailerLen(tail []byte) (int, error) {
	if len(tail) < footerSize {
		return 0, fmt.Errorf("%w: %d bytes, shorter than the footer", ErrCorrupt, len(tail))
	}
	f := tail[len(tail)-footerSize:]
	if !bytes.Equal(f[8:], footerMagic[:]) {
		return 0, fmt.Errorf("%w: bad footer magic %x", ErrCorrupt, f[8:])
	}
	n := binary.LittleEndian.Uint64(f)
	if n < trailerFixed || n > maxTrailerSize {
		return 0, fmt.Errorf("%w: trailer length %d out of range", ErrCorrupt, n)
	}
	return int(n), nil
}

// decodeTrailer decodes the trailer at the end of tail, which must end where
// the shard file ends. It returns the trailer and the number of bytes it
// takes at the end of the file (trailer + footer).
func decodeTrailer(tail []byte) (trailer, int, error) {
	var t trailer
	n, err := trailerLen(tail)
	if err != nil {
		return t, 0, err
	}
	if len(tail) < n+footerSize {
		return t, 0, fmt.Errorf("%w: trailer of %d bytes does not fit in %d", ErrCorrupt, n, len(tail)-footerSize)
	}
	b := tail[len(tail)-footerSize-n : len(tail)-footerSize]
	le := binary.LittleEndian
	if !bytes.Equal(b[:8], trailerMagic[:]) {
		return t, 0, fmt.Errorf("%w: bad trailer magic %x", ErrCorrupt, b[:8])
	}
	if v := le.Uint16(b[8:]); v != formatVersion {
		return t, 0, fmt.Errorf("%w: format version %d", ErrUnsupported, v)
	}
	idLen := int(le.Uint16(b[52:]))
	if idOffset+idLen+4 > n-hashSize {
		return t, 0, fmt.Errorf("%w: id length %d overruns the trailer", ErrCorrupt, idLen)
	}
	metaLen := int(le.Uint32(b[idOffset+idLen:]))
	if trailerFixed+idLen+metaLen != n {
		return t, 0, fmt.Errorf("%w: id length %d + meta length %d do not add up to trailer length %d", ErrCorrupt, idLen, metaLen, n)
	}
	body := b[:n-hashSize]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], b[n-hashSize:]) {
		return t, 0, fmt.Errorf("%w: trailer checksum mismatch", ErrCorrupt)
	}
	if b[10] != hashSHA256 {
		return t, 0, fmt.Errorf("%w: hash algorithm %d", ErrUnsupported, b[10])
	}
	if b[11] != codeRSVandermonde {
		return t, 0, fmt.Errorf("%w: erasure code %d", ErrUnsupported, b[11])
	}
	size := le.Uint64(b[20:])
	if size > math.MaxInt64 {
		return t, 0, fmt.Errorf("%w: object size %d out of range", ErrCorrupt, size)
	}
	t.k, t.m, t.index, t.offset = int(b[12]), int(b[13]), int(b[14]), int(b[15])
	t.blockSize = int(le.Uint32(b[16:]))
	t.size = int64(size)
	copy(t.commitID[:], b[28:44])
	t.created = int64(le.Uint64(b[44:]))
	t.id = string(b[idOffset : idOffset+idLen])
	t.meta = bytes.Clone(b[idOffset+idLen+4 : idOffset+idLen+4+metaLen])
	if err := t.geometry.validate(); err != nil {
		return t, 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if t.index >= t.n() || t.offset >= t.n() {
		return t, 0, fmt.Errorf("%w: shard index %d / placement offset %d out of range for %d shards", ErrCorrupt, t.index, t.offset, t.n())
	}
	if err := ValidateID(t.id); err != nil {
		return t, 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return t, n + footerSize, nil
}

// sameObject reports whether two trailers describe the same write.
func (t *trailer) sameObject(u *trailer) bool {
	return t.commitID == u.commitID && t.geometry == u.geometry && t.offset == u.offset &&
		t.created == u.created && t.id == u.id && bytes.Equal(t.meta, u.meta)
}
