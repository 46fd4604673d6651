package sse

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/wormvault/wormvault"
)

// bufPool holds package buffers (PackageSize + TagSize bytes) shared by
// Writers and RangeReaders; a buffer is cleared before it goes back.
var bufPool = sync.Pool{New: func() any { b := make([]byte, sealedSize); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	clear(*b)
	bufPool.Put(b)
}

var errClosed = errors.New("sse: write to closed Writer")

// Writer encrypts a plaintext stream into the package format. It holds one
// package of plaintext; Close seals the final package. Close does not close
// the underlying writer. A Writer is not safe for concurrent use.
type Writer struct {
	w    io.Writer
	h    *header
	aead cipher.AEAD
	buf  *[]byte // pooled, sealedSize bytes; nil once closed
	n    int     // plaintext bytes held in buf
	seq  int64   // next package sequence number
	err  error   // sticky
	s    scratch
}

// NewWriter writes the header of a new stream to w and returns a Writer for
// its plaintext. dataKey must be KeySize bytes, fresh per archive version
// (GenerateDataKey). Salt and nonce prefix are drawn from crypto/rand.
func NewWriter(w io.Writer, dataKey []byte) (*Writer, error) {
	var salt [saltSize]byte
	var prefix [prefixSize]byte
	rand.Read(salt[:])
	rand.Read(prefix[:])
	return newWriter(w, dataKey, salt, prefix)
}

// newWriter is NewWriter with given salt and nonce prefix: the test hook for
// golden files.
func newWriter(w io.Writer, dataKey []byte, salt [saltSize]byte, prefix [prefixSize]byte) (*Writer, error) {
	h, aead, err := newHeader(dataKey, salt, prefix)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(h.raw[:]); err != nil {
		return nil, fmt.Errorf("sse: write header: %w", err)
	}
	return &Writer{w: w, h: h, aead: aead, buf: getBuf()}, nil
}

// Write encrypts p. A full package is sealed only once the next byte
// arrives, since only Close knows which package is the final one.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.buf == nil {
		return 0, errClosed
	}
	written := 0
	for len(p) > 0 {
		if w.n == PackageSize {
			if err := w.seal((*w.buf)[:PackageSize], false); err != nil {
				return written, err
			}
			w.n = 0
		}
		if w.n == 0 && len(p) > PackageSize {
			// A whole package with more data behind it: seal straight from p.
			if err := w.seal(p[:PackageSize], false); err != nil {
				return written, err
			}
			p, written = p[PackageSize:], written+PackageSize
			continue
		}
		c := copy((*w.buf)[w.n:PackageSize], p)
		w.n += c
		p, written = p[c:], written+c
	}
	return written, nil
}

// seal encrypts one package into buf and writes it. plain is either a prefix
// of buf (sealed in place) or disjoint from it.
func (w *Writer) seal(plain []byte, final bool) error {
	if w.seq >= MaxPackages {
		w.err = fmt.Errorf("sse: stream exceeds %d bytes: %w", int64(MaxPlaintextSize), wormvault.ErrInvalidArgument)
		return w.err
	}
	seq := uint32(w.seq)
	w.h.fill(&w.s, seq, final)
	out := w.aead.Seal((*w.buf)[:0], w.s.nonce[:], plain, w.s.aad[:])
	if _, err := w.w.Write(out); err != nil {
		w.err = fmt.Errorf("sse: write package %d: %w", seq, err)
		return w.err
	}
	w.seq++
	return nil
}

// Close seals and writes the final package (empty if nothing was written)
// and releases the buffer. Calling Close again returns the first result.
func (w *Writer) Close() error {
	if w.buf == nil || w.err != nil {
		if w.buf != nil {
			putBuf(w.buf)
			w.buf = nil
		}
		return w.err
	}
	err := w.seal((*w.buf)[:w.n], true)
	putBuf(w.buf)
	w.buf = nil
	return err
}
