package sse

import (
	"bytes"
	"io"
	"testing"
)

const benchSize = 64 << 20

func BenchmarkEncrypt(b *testing.B) {
	plain := pattern(benchSize)
	key := randomKey(b)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWriter(io.Discard, key)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(w, bytes.NewReader(plain)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	key := randomKey(b)
	ct := encrypt(b, key, pattern(benchSize))
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key)
		if err != nil {
			b.Fatal(err)
		}
		rr, _ := r.NewRangeReader(0, r.Size())
		if _, err := io.Copy(io.Discard, rr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRangeRead: a 1 KiB ranged read from a 64 MiB archive costs one
// package, not the archive.
func BenchmarkRangeRead(b *testing.B) {
	key := randomKey(b)
	ct := encrypt(b, key, pattern(benchSize))
	r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key)
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 1024)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadAt(p, benchSize/2+100); err != nil {
			b.Fatal(err)
		}
	}
}
