package sse

import (
	"crypto/cipher"
	"fmt"
	"io"

	"github.com/wormvault/wormvault"
)

// Reader decrypts an encrypted stream stored behind an io.ReaderAt. It has
// checked the header and the key; each read authenticates the packages it
// touches and returns no byte of a package that fails. A Reader is safe for
// concurrent use if its io.ReaderAt is.
type Reader struct {
	r     io.ReaderAt
	h     *header
	aead  cipher.AEAD
	csize int64 // ciphertext size
	psize int64 // plaintext size
	npkg  int64
}

// NewReader reads the header of the size-byte stream in r and checks
// dataKey against it. A damaged header or impossible size fails with an
// error wrapping wormvault.ErrDataLoss; a key that is not the stream's
// fails with ErrWrongKey, before any package is decrypted.
func NewReader(r io.ReaderAt, size int64, dataKey []byte) (*Reader, error) {
	if len(dataKey) != KeySize {
		return nil, fmt.Errorf("sse: data key is %d bytes, want %d: %w", len(dataKey), KeySize, wormvault.ErrInvalidArgument)
	}
	psize, err := PlaintextSize(size)
	if err != nil {
		return nil, err
	}
	var raw [HeaderSize]byte
	if n, err := r.ReadAt(raw[:], 0); n < HeaderSize {
		return nil, fmt.Errorf("sse: read header: %w: %w", err, wormvault.ErrDataLoss)
	}
	h, err := parseHeader(raw[:])
	if err != nil {
		return nil, err
	}
	aead, err := h.open(dataKey)
	if err != nil {
		return nil, err
	}
	sr := &Reader{r: r, h: h, aead: aead, csize: size, psize: psize, npkg: packages(psize)}
	if psize == 0 {
		// No read will touch the one empty package; authenticate it now so
		// a stream cut down to header+16 bytes is not taken for empty.
		buf := getBuf()
		defer putBuf(buf)
		if _, err := sr.openPackage(0, *buf, new(scratch)); err != nil {
			return nil, err
		}
	}
	return sr, nil
}

// Size returns the plaintext size.
func (r *Reader) Size() int64 { return r.psize }

// openPackage reads and authenticates package seq into buf (sealedSize
// bytes) and returns its plaintext, a prefix of buf. On error nothing of
// the package is returned.
func (r *Reader) openPackage(seq int64, buf []byte, s *scratch) ([]byte, error) {
	off := HeaderSize + seq*sealedSize
	n := int64(sealedSize)
	final := seq == r.npkg-1
	if final {
		n = r.csize - off
	}
	got, err := r.r.ReadAt(buf[:n], off)
	if int64(got) < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("sse: read package %d of %d: %w: %w", seq, r.npkg, err, wormvault.ErrDataLoss)
	}
	r.h.fill(s, uint32(seq), final)
	plain, err := r.aead.Open(buf[:0], s.nonce[:], buf[:n], s.aad[:])
	if err != nil {
		clear(buf)
		return nil, fmt.Errorf("sse: package %d of %d fails authentication (tampered, truncated, reordered or from another archive): %w", seq, r.npkg, wormvault.ErrDataLoss)
	}
	return plain, nil
}

// NewRangeReader returns a reader of the length plaintext bytes at off. It
// reads and decrypts only the packages covering [off, off+length), in
// order, with one ReadAt of one package each at contiguous increasing
// offsets, so a ReaderAt over a sequential stream serves it without seeking.
// A range outside [0, Size()] fails with wormvault.ErrInvalidArgument.
func (r *Reader) NewRangeReader(off, length int64) (*RangeReader, error) {
	if off < 0 || length < 0 || off > r.psize || length > r.psize-off {
		return nil, fmt.Errorf("sse: range [%d, +%d) outside plaintext of %d bytes: %w", off, length, r.psize, wormvault.ErrInvalidArgument)
	}
	return &RangeReader{r: r, off: off, end: off + length}, nil
}

// ReadAt implements io.ReaderAt over the plaintext.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("sse: negative offset %d: %w", off, wormvault.ErrInvalidArgument)
	}
	if off >= r.psize {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.psize-off)
	rr, _ := r.NewRangeReader(off, n)
	got, err := io.ReadFull(rr, p[:n])
	if err != nil {
		return got, err
	}
	if n < int64(len(p)) {
		return got, io.EOF
	}
	return got, nil
}

// RangeReader reads a plaintext range; see Reader.NewRangeReader. It holds
// one pooled package buffer while a package is being served.
type RangeReader struct {
	r        *Reader
	off, end int64   // next plaintext offset to return, end of the range
	buf      *[]byte // holds the current package, nil between packages
	plain    []byte  // unread part of the current package, within buf
	err      error   // sticky
	s        scratch
}

// Read implements io.Reader. Bytes of a package are returned only after the
// whole package has been authenticated; a failing package ends the read with
// an error wrapping wormvault.ErrDataLoss.
func (rr *RangeReader) Read(p []byte) (int, error) {
	if len(rr.plain) == 0 {
		if err := rr.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, rr.plain)
	rr.consume(n)
	return n, nil
}

// WriteTo implements io.WriterTo, writing straight from the package buffer.
func (rr *RangeReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(rr.plain) == 0 {
			if err := rr.next(); err == io.EOF {
				return total, nil
			} else if err != nil {
				return total, err
			}
		}
		n, err := w.Write(rr.plain)
		rr.consume(n)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

func (rr *RangeReader) consume(n int) {
	rr.plain = rr.plain[n:]
	rr.off += int64(n)
	if rr.off >= rr.end && len(rr.plain) == 0 && rr.buf != nil {
		// Done: return the buffer now, even if the caller never reads EOF.
		putBuf(rr.buf)
		rr.buf = nil
	}
}

// next authenticates the package holding rr.off and points rr.plain at the
// part of it inside the range; io.EOF at the end of the range.
func (rr *RangeReader) next() error {
	if rr.err != nil {
		return rr.err
	}
	if rr.off >= rr.end {
		rr.fail(io.EOF)
		return io.EOF
	}
	if rr.buf == nil {
		rr.buf = getBuf()
	}
	seq := rr.off / PackageSize
	plain, err := rr.r.openPackage(seq, *rr.buf, &rr.s)
	if err != nil {
		rr.fail(err)
		return err
	}
	start := rr.off - seq*PackageSize
	stop := min(int64(len(plain)), rr.end-seq*PackageSize)
	if start >= stop { // cannot happen: PlaintextSize fixed every package's length
		rr.fail(fmt.Errorf("sse: package %d shorter than expected: %w", seq, wormvault.ErrDataLoss))
		return rr.err
	}
	rr.plain = plain[start:stop]
	return nil
}

func (rr *RangeReader) fail(err error) {
	rr.err = err
	rr.plain = nil
	if rr.buf != nil {
		putBuf(rr.buf)
		rr.buf = nil
	}
}

var (
	_ io.ReaderAt = (*Reader)(nil)
	_ io.WriterTo = (*RangeReader)(nil)
)
