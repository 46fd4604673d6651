package sse

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/wormvault/wormvault"
)

// FuzzReaderTampered starts from VALID streams and tampers with them the
// ways storage and attackers do — bit flips, truncation, packages swapped,
// deleted, duplicated or taken from another stream, bytes appended, the
// wrong key — then reads them whole and over a fuzzed range. Properties:
//   - every byte any read returns is the original plaintext's byte at that
//     offset: no other plaintext ever comes out;
//   - a whole read succeeds only if the stream is exactly the original and
//     the key the right one; failures are ErrDataLoss, or ErrWrongKey for
//     the wrong key (and only then);
//   - the untouched original reads back exactly.
//
// ops is a little program, see tamper; stream picks the original.
func FuzzReaderTampered(f *testing.F) {
	type original struct{ plain, ct []byte }
	var originals []original
	for i, n := range []int{0, 49, PackageSize, PackageSize + 100, 2*PackageSize + 10} {
		// A salt and prefix of its own for each: streams never share a
		// package key, as with the random ones the Writer draws.
		plain := pattern(n)
		ct := encryptFixed(f, goldenKey, plain, [saltSize]byte(seqBytes(byte(16*i), saltSize)), [prefixSize]byte(seqBytes(byte(16*i+1), prefixSize)))
		originals = append(originals, original{plain, ct})
	}
	// Packages of another stream under the same key, whose plaintext
	// differs from every original's at every offset.
	foreignPlain := pattern(3 * PackageSize)
	for i := range foreignPlain {
		foreignPlain[i] ^= 0x55
	}
	foreign := encryptFixed(f, goldenKey, foreignPlain, [saltSize]byte(seqBytes(0xf0, saltSize)), goldenPrefix)
	f.Add(uint8(3), []byte{2, 0, 1}, uint32(0), uint32(PackageSize+100))

	f.Fuzz(func(t *testing.T, stream uint8, ops []byte, off, length uint32) {
		o := originals[int(stream)%len(originals)]
		ct, key := tamper(o.ct, ops, foreign)
		intact := bytes.Equal(ct, o.ct)
		// The key check cannot tell a wrong key from a header whose salt
		// or key check was edited with its checksum fixed: both are
		// ErrWrongKey.
		wrongKey := !bytes.Equal(key, goldenKey) || len(ct) >= HeaderSize && !bytes.Equal(ct[:HeaderSize], o.ct[:HeaderSize])

		got, err := decryptAll(ct, key)
		if !bytes.HasPrefix(o.plain, got) {
			t.Fatalf("read %d bytes that are not the original's first bytes (err %v)", len(got), err)
		}
		if err == nil {
			if !intact || wrongKey {
				t.Fatalf("a tampered stream (intact %v, wrong key %v) read back without error", intact, wrongKey)
			}
			if len(got) != len(o.plain) {
				t.Fatalf("read %d bytes of %d without error", len(got), len(o.plain))
			}
		} else {
			checkTamperErr(t, err, intact, wrongKey)
		}

		// A range of the tampered stream: packages the tampering did not
		// reach may still read, and must read as the original.
		r, err := NewReader(bytes.NewReader(ct), int64(len(ct)), key)
		if err != nil {
			checkTamperErr(t, err, intact, wrongKey)
			return
		}
		lo := int64(off) % (r.Size() + 1)
		n := int64(length) % (r.Size() - lo + 1)
		rr, err := r.NewRangeReader(lo, n)
		if err != nil {
			t.Fatalf("NewRangeReader(%d, %d) of %d: %v", lo, n, r.Size(), err)
		}
		var buf bytes.Buffer
		_, err = io.Copy(&buf, rr) // through WriteTo
		if buf.Len() > 0 && (lo+int64(buf.Len()) > int64(len(o.plain)) || !bytes.Equal(buf.Bytes(), o.plain[lo:lo+int64(buf.Len())])) {
			t.Fatalf("range [%d,+%d) returned %d bytes that are not the original's (err %v)", lo, n, buf.Len(), err)
		}
		if err == nil && int64(buf.Len()) != n {
			t.Fatalf("range [%d,+%d) returned %d bytes without error", lo, n, buf.Len())
		}
		if err != nil {
			checkTamperErr(t, err, intact, wrongKey)
			// A failed range reader stays failed: no more bytes.
			if k, again := rr.Read(make([]byte, 1)); k != 0 || again != err {
				t.Fatalf("after %v, Read = %d, %v", err, k, again)
			}
		}

		// The same range through ReadAt, asking one byte past it when
		// length is odd: at the end of the stream that is io.EOF.
		p := make([]byte, n+int64(length%2))
		k, err := r.ReadAt(p, lo)
		if k > 0 && (lo+int64(k) > int64(len(o.plain)) || !bytes.Equal(p[:k], o.plain[lo:lo+int64(k)])) {
			t.Fatalf("ReadAt(%d bytes, %d) returned %d bytes that are not the original's (err %v)", len(p), lo, k, err)
		}
		switch {
		case err == io.EOF:
			if lo+int64(k) != r.Size() || k == len(p) && lo != r.Size() {
				t.Fatalf("ReadAt(%d bytes, %d) of %d = %d, io.EOF", len(p), lo, r.Size(), k)
			}
		case err != nil:
			checkTamperErr(t, err, intact, wrongKey)
		case k != len(p):
			t.Fatalf("ReadAt(%d bytes, %d) = %d without error", len(p), lo, k)
		}
	})
}

func checkTamperErr(t *testing.T, err error, intact, wrongKey bool) {
	t.Helper()
	switch {
	case intact && !wrongKey:
		t.Fatalf("the untouched stream failed: %v", err)
	case errors.Is(err, ErrWrongKey):
		if !wrongKey {
			t.Fatalf("ErrWrongKey with the right key and header: %v", err)
		}
	case !errors.Is(err, wormvault.ErrDataLoss):
		t.Fatalf("error %v is neither ErrDataLoss nor ErrWrongKey", err)
	}
}

// tamper applies ops to a copy of ct and returns it with the key to read
// it with. Each op is a byte, op%9 choosing, followed by its arguments:
//
//	0 pos(3) mask   flip bits of the byte at pos%len (mask|1)
//	1 pos(3)        truncate to pos%(len+1) bytes
//	2 a b           swap packages a and b (each mod the package count)
//	3 a             delete package a
//	4 a             duplicate package a in place
//	5 a b           replace package b with package a of foreign
//	6 n             append n+1 bytes
//	7 bit           flip a bit of the key
//	8               recompute the header checksum, as an attacker would
//
// Missing argument bytes read as zero.
func tamper(ct, ops, foreign []byte) ([]byte, []byte) {
	out := bytes.Clone(ct)
	key := bytes.Clone(goldenKey)
	arg := func(i *int) int {
		*i++
		if *i < len(ops) {
			return int(ops[*i])
		}
		return 0
	}
	for i := 0; i < len(ops); i++ {
		// Bound the work of one input: duplicating packages or appending
		// a thousand times only makes a stream slow to read (tens of
		// seconds under -race), which the fuzzer reports as a hang, and
		// tests nothing a few duplications do not.
		if len(out) > 8*PackageSize {
			break
		}
		switch ops[i] % 9 {
		case 0:
			pos := arg(&i)<<16 | arg(&i)<<8 | arg(&i)
			mask := byte(arg(&i)) | 1
			if len(out) > 0 {
				out[pos%len(out)] ^= mask
			}
		case 1:
			pos := arg(&i)<<16 | arg(&i)<<8 | arg(&i)
			out = out[:pos%(len(out)+1)]
		case 2:
			a, b := arg(&i), arg(&i)
			out = withPackages(out, func(p [][]byte) [][]byte {
				a, b = a%len(p), b%len(p)
				p[a], p[b] = p[b], p[a]
				return p
			})
		case 3:
			a := arg(&i)
			out = withPackages(out, func(p [][]byte) [][]byte {
				a %= len(p)
				return append(p[:a], p[a+1:]...)
			})
		case 4:
			a := arg(&i)
			out = withPackages(out, func(p [][]byte) [][]byte {
				a %= len(p)
				return slices.Insert(p, a, p[a])
			})
		case 5:
			a, b := arg(&i), arg(&i)
			fp := packagesOf(foreign)
			out = withPackages(out, func(p [][]byte) [][]byte {
				p[b%len(p)] = fp[a%len(fp)]
				return p
			})
		case 6:
			n := arg(&i)
			out = append(out, bytes.Repeat([]byte{byte(n)}, n+1)...)
		case 7:
			bit := arg(&i)
			key[bit/8%len(key)] ^= 1 << (bit % 8)
		case 8:
			if len(out) >= HeaderSize {
				sum := sha256.Sum256(out[:offChecksum])
				copy(out[offChecksum:HeaderSize], sum[:checksumSize])
			}
		}
	}
	return out, key
}

// packagesOf splits the body of a stream (after the header) into sealed
// packages; the last may be short.
func packagesOf(s []byte) [][]byte {
	var p [][]byte
	for body := s[min(len(s), HeaderSize):]; len(body) > 0; {
		n := min(len(body), sealedSize)
		p = append(p, body[:n:n])
		body = body[n:]
	}
	return p
}

// withPackages rebuilds s from its header and edit(its packages). A stream
// without a header or packages is left alone.
func withPackages(s []byte, edit func([][]byte) [][]byte) []byte {
	p := packagesOf(s)
	if len(s) < HeaderSize || len(p) == 0 {
		return s
	}
	out := bytes.Clone(s[:HeaderSize])
	for _, pk := range edit(p) {
		out = append(out, pk...)
	}
	return out
}
