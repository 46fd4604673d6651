package sse

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wormvault/wormvault"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus in testdata")

// The golden streams: fixed key, salt, nonce prefix and plaintexts.
var goldenStreams = []struct {
	name  string
	plain []byte
}{
	{"v1-empty.sse", nil},
	{"v1-short.sse", []byte("WORM: write once, read many. Encrypted at rest.\n")},
	{"v1-two-packages.sse", pattern(PackageSize + 100)},
}

var (
	goldenKEK       = seqBytes(0x40, KeySize)
	goldenWrapNonce = [wrapNonceSize]byte(seqBytes(0xe0, wrapNonceSize))
	goldenWrapAAD   = []byte("vault=photos key=2025/01/cat.jpg version=1")
)

func goldenPath(name string) string { return filepath.Join("testdata", "golden", name) }

// TestGolden pins the stream and wrapped-key formats byte for byte.
func TestGolden(t *testing.T) {
	wrapped, err := wrapKey(goldenKEK, goldenKey, goldenWrapAAD, goldenWrapNonce)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"v1-wrapped-key.bin": wrapped}
	for _, g := range goldenStreams {
		files[g.name] = encryptFixed(t, goldenKey, g.plain, goldenSalt, goldenPrefix)
	}
	for name, got := range files {
		if *update {
			os.MkdirAll(filepath.Dir(goldenPath(name)), 0o755)
			if err := os.WriteFile(goldenPath(name), got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(goldenPath(name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the Writer produces: the format changed; bump the version and keep a reader for v1", name)
		}
	}
	if *update {
		writeSeed(t, "empty", files["v1-empty.sse"])
		writeSeed(t, "short", files["v1-short.sse"])
		short := files["v1-short.sse"]
		writeSeed(t, "short-truncated", short[:len(short)-1])
		writeSeed(t, "header-only", short[:HeaderSize])
		flipped := bytes.Clone(short)
		flipped[HeaderSize] ^= 1
		writeSeed(t, "short-flipped", flipped)
		writeSeed(t, "garbage", []byte("WVSSE\x00 not really"))
	}
}

func writeSeed(t *testing.T, name string, b []byte) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenRead reads the committed golden files with the package and with
// specDecrypt, a second implementation written from doc.go alone.
func TestGoldenRead(t *testing.T) {
	for _, g := range goldenStreams {
		ct, err := os.ReadFile(goldenPath(g.name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := decryptAll(ct, goldenKey)
		if err != nil || !bytes.Equal(got, g.plain) {
			t.Errorf("%s: Reader: %v", g.name, err)
		}
		got, err = specDecrypt(ct, goldenKey)
		if err != nil || !bytes.Equal(got, g.plain) {
			t.Errorf("%s: spec decoder: %v", g.name, err)
		}
	}
	w, err := os.ReadFile(goldenPath("v1-wrapped-key.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if k, err := UnwrapKey(goldenKEK, w, goldenWrapAAD); err != nil || !bytes.Equal(k, goldenKey) {
		t.Errorf("golden wrapped key: %x, %v", k, err)
	}
	// The spec, for the wrapped key.
	block, _ := aes.NewCipher(goldenKEK)
	gcm, _ := cipher.NewGCM(block)
	if k, err := gcm.Open(nil, w[1:13], w[13:], append([]byte{1}, goldenWrapAAD...)); err != nil || w[0] != 1 || !bytes.Equal(k, goldenKey) {
		t.Errorf("spec unwrap: %x, %v", k, err)
	}
}

// specDecrypt decrypts a whole v1 stream following the format table in
// doc.go, using only the standard library: what an SDK implements.
func specDecrypt(s, key []byte) ([]byte, error) {
	const P, H = 65536, 76
	if len(s) < H+16 || string(s[:6]) != "WVSSE\x00" || s[6] != 1 || s[7] != 1 || binary.BigEndian.Uint32(s[8:]) != P {
		return nil, errors.New("bad header")
	}
	if sum := sha256.Sum256(s[:68]); !bytes.Equal(sum[:8], s[68:76]) {
		return nil, errors.New("bad checksum")
	}
	salt, prefix := s[12:28], s[28:36]
	kp, _ := hkdf.Key(sha256.New, key, salt, "wormvault-sse v1 package key", 32)
	kc, _ := hkdf.Key(sha256.New, key, salt, "wormvault-sse v1 key check", 32)
	m := hmac.New(sha256.New, kc)
	m.Write(s[:36])
	if !hmac.Equal(m.Sum(nil), s[36:68]) {
		return nil, errors.New("wrong key")
	}
	d := sha256.Sum256(s[:H])
	block, _ := aes.NewCipher(kp)
	gcm, _ := cipher.NewGCM(block)
	var out []byte
	body := s[H:]
	for i := uint32(0); len(body) > 0; i++ {
		n := min(len(body), P+16)
		final := len(body) == n
		nonce := binary.BigEndian.AppendUint32(bytes.Clone(prefix), i)
		aad := binary.BigEndian.AppendUint32(bytes.Clone(d[:]), i)
		if final {
			aad = append(aad, 1)
		} else {
			aad = append(aad, 0)
		}
		p, err := gcm.Open(nil, nonce, body[:n], aad)
		if err != nil {
			return nil, fmt.Errorf("package %d: %w", i, err)
		}
		if (len(p) == 0 && i > 0) || (!final && len(p) != P) {
			return nil, errors.New("bad package length")
		}
		out = append(out, p...)
		body = body[n:]
	}
	return out, nil
}

// FuzzReader: any input either fails with ErrDataLoss / ErrWrongKey or
// returns plaintext that re-encrypts to exactly the input, and a failing
// read returns only whole packages that re-encrypt to the input's bytes.
// Inputs reach 64 KiB, so run it with -fuzzminimizetime 2s: minimizing a
// large input otherwise stalls the fuzzer for minutes.
func FuzzReader(f *testing.F) {
	for _, g := range goldenStreams {
		if b, err := os.ReadFile(goldenPath(g.name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decryptAll(data, goldenKey)
		if err != nil {
			if !errors.Is(err, wormvault.ErrDataLoss) && !errors.Is(err, ErrWrongKey) {
				t.Fatalf("error %v is neither ErrDataLoss nor ErrWrongKey", err)
			}
			if len(got) == 0 {
				return
			}
			if len(got)%PackageSize != 0 {
				t.Fatalf("failed read returned %d bytes, not whole packages", len(got))
			}
		}
		// Whatever was returned must be what a Writer with this header makes.
		h, aead, herr := newHeader(goldenKey, [saltSize]byte(data[offSalt:]), [prefixSize]byte(data[offPrefix:]))
		if herr != nil || !bytes.Equal(h.raw[:], data[:HeaderSize]) {
			t.Fatalf("accepted a header no Writer makes")
		}
		if err == nil {
			if want := encryptFixed(t, goldenKey, got, h.salt, h.prefix); !bytes.Equal(want, data) {
				t.Fatal("returned plaintext does not re-encrypt to the input")
			}
			return
		}
		for i := 0; i*PackageSize < len(got); i++ {
			var s scratch
			h.fill(&s, uint32(i), false)
			sealed := aead.Seal(nil, s.nonce[:], got[i*PackageSize:(i+1)*PackageSize], s.aad[:])
			if !bytes.Equal(sealed, data[HeaderSize+i*sealedSize:HeaderSize+(i+1)*sealedSize]) {
				t.Fatalf("package %d returned but not authentic", i)
			}
		}
	})
}
