package sse

import (
	"fmt"

	"github.com/wormvault/wormvault"
)

// CiphertextRange returns the bytes [start, end) of the encrypted stream of a
// plainSize-byte plaintext that hold the packages covering plaintext bytes
// [off, off+length): what a ranged read must fetch besides the header
// ([0, HeaderSize)). The range is what a Reader's NewRangeReader(off, length)
// reads, so a client can download just that much of a stream it decrypts. An
// empty range maps to the one package holding off (the last when off is the
// end), which a Reader still authenticates for an empty stream. A range
// outside [0, plainSize] fails with wormvault.ErrInvalidArgument.
func CiphertextRange(plainSize, off, length int64) (start, end int64, err error) {
	if plainSize < 0 || plainSize > MaxPlaintextSize || off < 0 || length < 0 || off > plainSize || length > plainSize-off {
		return 0, 0, fmt.Errorf("sse: range [%d, +%d) outside plaintext of %d bytes: %w", off, length, plainSize, wormvault.ErrInvalidArgument)
	}
	last := packages(plainSize) - 1
	first := min(off/PackageSize, last)
	final := min(max(off+length-1, off)/PackageSize, last)
	start = HeaderSize + first*sealedSize
	end = min(HeaderSize+(final+1)*sealedSize, CiphertextSize(plainSize))
	return start, end, nil
}
