package sse

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"
)

var (
	goldenKey    = seqBytes(0x00, KeySize)
	goldenSalt   = [saltSize]byte(seqBytes(0xa0, saltSize))
	goldenPrefix = [prefixSize]byte(seqBytes(0xc0, prefixSize))
)

func seqBytes(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// pattern returns n plaintext bytes whose every package differs.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>16)
	}
	return b
}

func randomKey(t testing.TB) []byte {
	k, err := GenerateDataKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// encrypt encrypts plain under key with random salt and prefix.
func encrypt(t testing.TB, key, plain []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, key)
	if err != nil {
		t.Fatal(err)
	}
	return finish(t, w, &buf, plain)
}

// encryptFixed encrypts plain with the given salt and prefix.
func encryptFixed(t testing.TB, key, plain []byte, salt [saltSize]byte, prefix [prefixSize]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := newWriter(&buf, key, salt, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return finish(t, w, &buf, plain)
}

func finish(t testing.TB, w *Writer, buf *bytes.Buffer, plain []byte) []byte {
	t.Helper()
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decryptAll opens ct and reads all of it; it returns what was read before
// any error.
func decryptAll(ct, key []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key)
	if err != nil {
		return nil, err
	}
	rr, err := r.NewRangeReader(0, r.Size())
	if err != nil {
		return nil, err
	}
	return io.ReadAll(rr)
}

// recordingReaderAt records the ReadAt calls made on it.
type recordingReaderAt struct {
	r     io.ReaderAt
	mu    sync.Mutex
	calls []string
}

func (a *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	a.mu.Lock()
	a.calls = append(a.calls, fmt.Sprintf("%d+%d", off, len(p)))
	a.mu.Unlock()
	return a.r.ReadAt(p, off)
}

// packageCall is the ReadAt call that reads package seq of a stream of
// plainSize bytes.
func packageCall(seq, plainSize int64) string {
	off := HeaderSize + seq*sealedSize
	n := int64(sealedSize)
	if seq == packages(plainSize)-1 {
		n = CiphertextSize(plainSize) - off
	}
	return fmt.Sprintf("%d+%d", off, n)
}
