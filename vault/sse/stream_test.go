package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"github.com/wormvault/wormvault"
)

const P = PackageSize

func TestRoundTrip(t *testing.T) {
	key := randomKey(t)
	for _, n := range []int{0, 1, P - 1, P, P + 1, 3*P - 1, 10 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			plain := pattern(n)
			ct := encrypt(t, key, plain)
			if got, want := int64(len(ct)), CiphertextSize(int64(n)); got != want {
				t.Fatalf("ciphertext is %d bytes, CiphertextSize says %d", got, want)
			}
			if ps, err := PlaintextSize(int64(len(ct))); err != nil || ps != int64(n) {
				t.Fatalf("PlaintextSize = %d, %v; want %d", ps, err, n)
			}
			got, err := decryptAll(ct, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("plaintext differs after round trip")
			}
		})
	}
}

// TestWriteChunking: how the plaintext is cut into Write calls does not
// change the ciphertext.
func TestWriteChunking(t *testing.T) {
	plain := pattern(3*P + 5)
	want := encryptFixed(t, goldenKey, plain, goldenSalt, goldenPrefix)
	for _, chunk := range []int{1, 7, P - 1, P, P + 1, 2*P + 3} {
		var buf bytes.Buffer
		w, err := newWriter(&buf, goldenKey, goldenSalt, goldenPrefix)
		if err != nil {
			t.Fatal(err)
		}
		for p := plain; len(p) > 0; {
			c := min(chunk, len(p))
			if n, err := w.Write(p[:c]); n != c || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			p = p[c:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("chunk %d: ciphertext differs from a single Write", chunk)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := w.Write([]byte{1}); err == nil {
			t.Error("Write after Close succeeded")
		}
	}
}

func TestSizes(t *testing.T) {
	for _, tc := range []struct{ plain, cipher int64 }{
		{0, HeaderSize + 16},
		{1, HeaderSize + 17},
		{P, HeaderSize + P + 16},
		{P + 1, HeaderSize + P + 1 + 32},
		{2 * P, HeaderSize + 2*P + 32},
		{MaxPlaintextSize, HeaderSize + MaxPlaintextSize + 16*MaxPackages},
	} {
		if got := CiphertextSize(tc.plain); got != tc.cipher {
			t.Errorf("CiphertextSize(%d) = %d, want %d", tc.plain, got, tc.cipher)
		}
		if got, err := PlaintextSize(tc.cipher); err != nil || got != tc.plain {
			t.Errorf("PlaintextSize(%d) = %d, %v; want %d", tc.cipher, got, err, tc.plain)
		}
	}
	for _, n := range []int64{-1, MaxPlaintextSize + 1} {
		if got := CiphertextSize(n); got != -1 {
			t.Errorf("CiphertextSize(%d) = %d, want -1", n, got)
		}
	}
	// Sizes no writer produces: inside the header, a package of less than a
	// tag, an empty package after full ones, beyond the maximum.
	for _, c := range []int64{-1, 0, HeaderSize, HeaderSize + 15, HeaderSize + P + 16 + 5, HeaderSize + P + 32,
		CiphertextSize(MaxPlaintextSize) + 1} {
		if _, err := PlaintextSize(c); !errors.Is(err, wormvault.ErrDataLoss) {
			t.Errorf("PlaintextSize(%d) = %v, want ErrDataLoss", c, err)
		}
	}
	// Every size round-trips around package boundaries.
	for _, base := range []int64{0, P, 5 * P} {
		for d := int64(-20); d <= 20; d++ {
			n := base + d
			if n < 0 {
				continue
			}
			if got, err := PlaintextSize(CiphertextSize(n)); err != nil || got != n {
				t.Fatalf("PlaintextSize(CiphertextSize(%d)) = %d, %v", n, got, err)
			}
		}
	}
}

func TestRanges(t *testing.T) {
	const size = 3*P + 100
	plain := pattern(size)
	ct := encrypt(t, goldenKey, plain)
	for _, tc := range []struct{ off, n int64 }{
		{0, 0}, {0, 1}, {0, P}, {1, P - 1}, {P - 1, 1}, {P - 1, 2}, {P, P}, {P - 1, P + 2},
		{2*P + 7, P/2 + 1}, {3*P - 1, 1}, {3 * P, 100}, {size - 1, 1}, {size, 0}, {0, size}, {P + 5, size - P - 5},
	} {
		t.Run(fmt.Sprintf("%d+%d", tc.off, tc.n), func(t *testing.T) {
			ra := &recordingReaderAt{r: bytes.NewReader(ct)}
			r, err := NewReader(ra, int64(len(ct)), goldenKey)
			if err != nil {
				t.Fatal(err)
			}
			ra.calls = nil
			rr, err := r.NewRangeReader(tc.off, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain[tc.off:tc.off+tc.n]) {
				t.Fatal("range plaintext differs")
			}
			var want []string
			if tc.n > 0 {
				for s := tc.off / P; s <= (tc.off+tc.n-1)/P; s++ {
					want = append(want, packageCall(s, size))
				}
			}
			if !slices.Equal(ra.calls, want) {
				t.Errorf("ReadAt calls %v, want exactly the touched packages %v", ra.calls, want)
			}
			// WriteTo gives the same bytes.
			rr, _ = r.NewRangeReader(tc.off, tc.n)
			var buf bytes.Buffer
			if n, err := rr.WriteTo(&buf); err != nil || n != tc.n || !bytes.Equal(buf.Bytes(), got) {
				t.Errorf("WriteTo = %d, %v", n, err)
			}
		})
	}
	r, _ := NewReader(bytes.NewReader(ct), int64(len(ct)), goldenKey)
	for _, tc := range []struct{ off, n int64 }{{-1, 1}, {0, -1}, {size + 1, 0}, {size, 1}, {1, size}} {
		if _, err := r.NewRangeReader(tc.off, tc.n); !errors.Is(err, wormvault.ErrInvalidArgument) {
			t.Errorf("NewRangeReader(%d, %d) = %v, want ErrInvalidArgument", tc.off, tc.n, err)
		}
	}
}

// TestRangeIgnoresOtherPackages: a ranged read succeeds when a package it
// does not touch is damaged.
func TestRangeIgnoresOtherPackages(t *testing.T) {
	plain := pattern(3 * P)
	ct := encrypt(t, goldenKey, plain)
	ct[HeaderSize+10] ^= 1 // package 0
	r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), goldenKey)
	if err != nil {
		t.Fatal(err)
	}
	rr, _ := r.NewRangeReader(P+3, P)
	got, err := io.ReadAll(rr)
	if err != nil || !bytes.Equal(got, plain[P+3:2*P+3]) {
		t.Fatalf("range over intact packages: %v", err)
	}
	rr, _ = r.NewRangeReader(5, 1)
	if got, err := io.ReadAll(rr); !errors.Is(err, wormvault.ErrDataLoss) || len(got) != 0 {
		t.Fatalf("range over damaged package: %d bytes, %v", len(got), err)
	}
}

func TestReadAtConcurrent(t *testing.T) {
	const size = 4*P + 17
	plain := pattern(size)
	ct := encrypt(t, goldenKey, plain)
	r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), goldenKey)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				off := int64((g*P/3 + i*4099) % size)
				p := make([]byte, 3000+i*1000)
				n, err := r.ReadAt(p, off)
				want := min(int64(len(p)), size-off)
				if int64(n) != want || (want < int64(len(p)) && err != io.EOF) || (want == int64(len(p)) && err != nil) {
					t.Errorf("ReadAt(%d, off %d) = %d, %v", len(p), off, n, err)
					return
				}
				if !bytes.Equal(p[:n], plain[off:off+int64(n)]) {
					t.Errorf("ReadAt(off %d) plaintext differs", off)
				}
			}
		})
	}
	wg.Wait()
	if n, err := r.ReadAt(make([]byte, 1), size); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at end = %d, %v", n, err)
	}
}

// TestTamper: every forgery fails with ErrDataLoss, and no byte of a forged
// package (or any after it) is returned.
func TestTamper(t *testing.T) {
	plain := pattern(4 * P)
	orig := encrypt(t, goldenKey, plain)
	other := encrypt(t, goldenKey, plain) // same key and plaintext, its own salt and prefix
	pkg := func(ct []byte, i int) []byte { return ct[HeaderSize+i*sealedSize : HeaderSize+(i+1)*sealedSize] }
	edit := func(f func(ct []byte) []byte) []byte { return f(bytes.Clone(orig)) }
	flip := func(at int) []byte { return edit(func(ct []byte) []byte { ct[at] ^= 0x40; return ct }) }

	tail := pattern(3*P + P/2)
	tailCT := encrypt(t, goldenKey, tail)

	for _, tc := range []struct {
		name   string
		ct     []byte
		plain  []byte
		forged int // first package that is not authentic; -1: the header
	}{
		{"middle package", flip(HeaderSize + sealedSize + 1000), plain, 1},
		{"tag of package 0", flip(HeaderSize + sealedSize - 1), plain, 0},
		{"final package", flip(len(orig) - 100), plain, 3},
		{"final tag", flip(len(orig) - 1), plain, 3},
		{"swap packages 1 and 2", edit(func(ct []byte) []byte {
			a, b := bytes.Clone(pkg(ct, 1)), bytes.Clone(pkg(ct, 2))
			copy(pkg(ct, 1), b)
			copy(pkg(ct, 2), a)
			return ct
		}), plain, 1},
		{"drop final package", orig[:len(orig)-sealedSize], plain, 2},
		{"drop two packages", orig[:len(orig)-2*sealedSize], plain, 1},
		{"append a package", append(bytes.Clone(orig), pkg(orig, 1)...), plain, 3},
		{"append the final package again", append(bytes.Clone(orig), pkg(orig, 3)...), plain, 3},
		{"splice package from another archive", edit(func(ct []byte) []byte { copy(pkg(ct, 1), pkg(other, 1)); return ct }), plain, 1},
		{"splice final package from another archive", edit(func(ct []byte) []byte { copy(pkg(ct, 3), pkg(other, 3)); return ct }), plain, 3},
		{"header of another archive", edit(func(ct []byte) []byte { copy(ct, other[:HeaderSize]); return ct }), plain, 0},
		{"truncate inside final package", tailCT[:len(tailCT)-10], tail, 3},
		{"truncate inside header", orig[:HeaderSize-1], plain, -1},
		{"header only", orig[:HeaderSize], plain, -1},
	} {
		t.Run(tc.name, func(t *testing.T) { checkForgery(t, tc.ct, tc.plain, tc.forged) })
	}
	for at := range HeaderSize {
		t.Run(fmt.Sprintf("header byte %d", at), func(t *testing.T) { checkForgery(t, flip(at), plain, -1) })
	}
}

func checkForgery(t *testing.T, ct, plain []byte, forged int) {
	t.Helper()
	got, err := decryptAll(ct, goldenKey)
	if !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("err = %v, want ErrDataLoss", err)
	}
	if errors.Is(err, ErrWrongKey) {
		t.Fatalf("err = %v, also ErrWrongKey", err)
	}
	if max(forged, 0)*P < len(got) {
		t.Fatalf("returned %d bytes, but package %d is forged", len(got), forged)
	}
	if !bytes.Equal(got, plain[:len(got)]) {
		t.Fatal("returned bytes are not the authentic plaintext")
	}
}

func TestWrongKey(t *testing.T) {
	plain := pattern(2*P + 1)
	ct := encrypt(t, goldenKey, plain)
	ra := &recordingReaderAt{r: bytes.NewReader(ct)}
	_, err := NewReader(ra, int64(len(ct)), randomKey(t))
	if !errors.Is(err, ErrWrongKey) || !errors.Is(err, wormvault.ErrPermissionDenied) || errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("err = %v, want ErrWrongKey (PermissionDenied, not DataLoss)", err)
	}
	if want := []string{fmt.Sprintf("0+%d", HeaderSize)}; !slices.Equal(ra.calls, want) {
		t.Errorf("ReadAt calls %v, want only the header %v", ra.calls, want)
	}
	for _, k := range [][]byte{nil, make([]byte, 16), make([]byte, 33)} {
		if _, err := NewReader(ra, int64(len(ct)), k); !errors.Is(err, wormvault.ErrInvalidArgument) {
			t.Errorf("key of %d bytes: %v, want ErrInvalidArgument", len(k), err)
		}
		if _, err := NewWriter(io.Discard, k); !errors.Is(err, wormvault.ErrInvalidArgument) {
			t.Errorf("writer key of %d bytes: %v, want ErrInvalidArgument", len(k), err)
		}
	}
	// The empty stream: its one package is checked up front.
	empty := encrypt(t, goldenKey, nil)
	if _, err := NewReader(bytes.NewReader(empty), int64(len(empty)), randomKey(t)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("empty stream, wrong key: %v", err)
	}
	cut := append(bytes.Clone(ct[:HeaderSize]), ct[HeaderSize:HeaderSize+16]...)
	if _, err := NewReader(bytes.NewReader(cut), int64(len(cut)), goldenKey); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Errorf("stream cut to look empty: %v, want ErrDataLoss", err)
	}
}

// TestNoPlaintextInCiphertext: a known 32-byte marker, repeated and placed
// across package boundaries, never shows in the ciphertext.
func TestNoPlaintextInCiphertext(t *testing.T) {
	marker := []byte("wormvault-sse-plaintext-marker!!")
	if len(marker) != 32 {
		t.Fatal(len(marker))
	}
	plain := bytes.Repeat(marker, (3*P)/32+7)
	copy(plain[P-16:], marker)
	copy(plain[2*P-5:], marker)
	ct := encrypt(t, randomKey(t), plain)
	if bytes.Contains(ct, marker) || bytes.Contains(ct, marker[:16]) || bytes.Contains(ct, marker[16:]) {
		t.Fatal("ciphertext contains the plaintext marker")
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(&failWriter{n: 10}, goldenKey); err == nil {
		t.Error("NewWriter on a failing writer succeeded")
	}
	w, err := NewWriter(&failWriter{n: HeaderSize + 10}, goldenKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pattern(3 * P)); err == nil {
		t.Error("Write on a failing writer succeeded")
	}
	if _, err := w.Write([]byte{1}); err == nil {
		t.Error("error is not sticky")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write succeeded")
	}
}

// shortReaderAt returns fewer bytes than the stream claims.
type shortReaderAt struct{ b []byte }

func (s shortReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s.b)) {
		return 0, io.EOF
	}
	n := copy(p, s.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func TestShortBackingStore(t *testing.T) {
	plain := pattern(2 * P)
	ct := encrypt(t, goldenKey, plain)
	r, err := NewReader(shortReaderAt{ct[:len(ct)-1]}, int64(len(ct)), goldenKey)
	if err != nil {
		t.Fatal(err)
	}
	rr, _ := r.NewRangeReader(0, r.Size())
	got, err := io.ReadAll(rr)
	if !errors.Is(err, wormvault.ErrDataLoss) || len(got) != P {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	if _, err := NewReader(shortReaderAt{ct[:10]}, int64(len(ct)), goldenKey); !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("short header: %v", err)
	}
}
